"""What bench/run and faults/run share: run measurement scripts one after another, print the
Markdown each prints, and write it into the docs between the markers of its block:

    <!-- begin NAME -->
    ...replaced on every run...
    <!-- end NAME -->

so that the prose around a table is written by hand and the table by the run that measured it.
A script that fails leaves its block as it was; the runner then exits 1.
"""
import argparse, dataclasses, os, subprocess, sys, time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclasses.dataclass
class Entry:
    name: str
    doc: str
    command: list
    quick: list = None  # the command's short form; None: the same
    timeout: int = 1800


def commit():
    out = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return out.stdout.strip() or "unknown"


def write_block(doc, name, text):
    path = os.path.join(REPO, doc)
    with open(path) as f:
        content = f.read()
    begin, end = f"<!-- begin {name} -->", f"<!-- end {name} -->"
    if begin not in content or end not in content:
        raise SystemExit(f"{doc} has no block {name}: add the lines {begin} and {end} where its table goes")
    head, rest = content.split(begin, 1)
    _, tail = rest.split(end, 1)
    with open(path, "w") as f:
        f.write(f"{head}{begin}\n{text.strip()}\n{end}{tail}")


def main(runner, entries, prepare=lambda quick: None):
    ap = argparse.ArgumentParser(prog=runner, description=f"Runs {', '.join(e.name for e in entries)}; prints each "
                                 "table and writes it into its doc.")
    ap.add_argument("--only", nargs="+", choices=[e.name for e in entries], help="run these alone")
    ap.add_argument("--quick", action="store_true", help="the short forms, for a check; the docs are left alone")
    ap.add_argument("--no-docs", action="store_true", help="print the tables, leave the docs alone")
    a = ap.parse_args()
    prepare(a.quick)
    failed = []
    for entry in entries:
        if a.only and entry.name not in a.only:
            continue
        command = entry.quick if a.quick and entry.quick else entry.command
        print(f"\n## {entry.name}: {' '.join(command)}\n", flush=True)
        started = time.time()
        try:
            result = subprocess.run(command, cwd=REPO, stdout=subprocess.PIPE, text=True, timeout=entry.timeout)
            ok, out = result.returncode == 0, result.stdout
        except subprocess.TimeoutExpired as e:
            ok, out = False, (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        print(out, flush=True)
        took = time.time() - started
        if not ok:
            failed.append(entry.name)
            print(f"{entry.name} FAILED after {took:.0f} s; {entry.doc} left as it was", flush=True)
        elif not (a.quick or a.no_docs):
            stamp = f"_Measured by `{runner}` on {time.strftime('%Y-%m-%d')}, commit {commit()}, in {took:.0f} s._"
            write_block(entry.doc, entry.name, f"{stamp}\n\n{out}")
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    sys.exit(1 if failed else 0)
