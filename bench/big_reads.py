#!/usr/bin/env python3
"""Big reads at the speed of the wire (issue 24), side by side in one run: the peers' 1 M lines
(../shared/bench/peers, the CRI data set) as one job's one ring on one agent, and as a job of two
replicas on two agents (every other line each: a merged read), behind one gateway in mutual TLS.
For each: `curl` fetching the lines as text and as NDJSON, our CLI printing them to a pipe
(default format and `-o json`), and for the one ring `journalctl -o short` printing the same
lines from the peers' journal. Every reader's output goes through `wc`, which checks its lines.
Rounds interleaved, median [min–max] of the wall times, ratios to curl's text.

  python3 bench/big_reads.py [--rounds 3] [--bin .build/release]
"""
import argparse, os, shutil, statistics, subprocess, sys, time
import urllib.request, json

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "Tests", "PlatformClients"))
sys.path.insert(0, os.path.join(REPO, "bench"))
from platform_stack import Stack, wait_for  # noqa: E402
from demo_workload import component  # noqa: E402
from stack import peers  # noqa: E402

SINCE = "2026-11-22T00:00:00Z"  # before the data set's first line (10:00:00 that day)


def ring_counts(agent_at):
    request = urllib.request.Request(agent_at + "/internal/v2/rings", headers={"Authorization": "Bearer platform-test-token"})
    with urllib.request.urlopen(request, timeout=10) as r:
        return sum(ring["records_written"] for ring in json.load(r)["rings"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--bin", default=os.path.join(REPO, ".build", "release"))
    a = ap.parse_args()
    if not os.path.exists(peers.CRI):
        subprocess.run([sys.executable, os.path.join(os.path.dirname(peers.__file__), "bench.py"), "setup", "-r", "1"], check=True)
    if not (os.path.isdir(peers.JDIR) and os.listdir(peers.JDIR)):
        peers.journal_remote(0, peers.fsize(peers.CRI))
    with open(peers.CRI, "rb") as f:
        lines = f.read().splitlines(keepends=True)
    # A line the runtime split (`P` then `F`) is one line to a reader; the two replicas get
    # every other such line.
    logical, current = [], []
    for line in lines:
        current.append(line)
        if line.split(b" ", 3)[2] == b"F":
            logical.append(current)
            current = []
    n = len(logical)

    def workload(stack, pod):
        with open(pod("node-1", "tool-demo", "big-7d9f-abcde", component("deployments", "big")).path, "wb") as f:
            f.writelines(lines)
        for node, half in (("node-1", logical[0::2]), ("node-2", logical[1::2])):
            with open(pod(node, "tool-demo", f"pair-7d9f-{node[-1]}bcde", component("deployments", "pair")).path, "wb") as f:
                f.writelines(record for line in half for record in line)

    big = "512MiB"
    stack = Stack("standalone", a.bin, None, workload,
                  agent_flags=["--suffix-bytes", big, "--rate-bytes", "100GiB", "--burst-bytes", "100GiB", "--budget-bytes", "100GiB"])
    try:
        wait_for(lambda: sum(ring_counts(at) for _, at in stack.agents) >= 2 * len(lines), "every line ingested", 600)
        env = stack.env()
        env.update(TOOLFORGE_LOGS_URL=stack.url, TOOLFORGE_LOGS_CA_FILE=f"{stack.certs}/ca.crt",
                   TOOLFORGE_LOGS_CERT=f"{stack.certs}/demo.crt", TOOLFORGE_LOGS_KEY=f"{stack.certs}/demo.key")
        cli = os.path.join(a.bin, "toolforge-logs")
        tls = f"--cacert {stack.certs}/ca.crt --cert {stack.certs}/demo.crt --key {stack.certs}/demo.key"

        def curl(job, accept):
            return f"curl -sS {tls} -H 'Accept: {accept}' '{stack.url}/logs/v1/tool/demo/job/{job}/logs?since={SINCE}'"

        readers = {}
        for job in ("big", "pair"):
            readers[job] = {
                "curl, text/plain": curl(job, "text/plain"),
                "curl, application/x-ndjson": curl(job, "application/x-ndjson"),
                f"toolforge-logs job {job}": f"{cli} job {job} --since {SINCE}",
                f"toolforge-logs job {job} -o json": f"{cli} job {job} --since {SINCE} -o json",
            }
        readers["big"]["journalctl -o short (the journal)"] = f"journalctl -D {peers.JDIR} -o short"
        times = {(job, name): [] for job in readers for name in readers[job]}
        sizes = {}
        for _ in range(a.rounds):
            for job, commands in readers.items():
                for name, command in commands.items():
                    started = time.perf_counter()
                    out = subprocess.run(["bash", "-o", "pipefail", "-c", command + " | wc -lc"], env=env, capture_output=True,
                                         text=True, timeout=600)
                    elapsed = time.perf_counter() - started
                    got_lines, got_bytes = map(int, out.stdout.split())
                    # The journal holds each CRI record as an entry of its own: it does not join split lines.
                    want = len(lines) if name.startswith("journalctl") else n
                    assert out.returncode == 0 and want <= got_lines <= want + 1, (name, out.returncode, got_lines, out.stderr[-500:])
                    times[(job, name)].append(elapsed)
                    sizes[(job, name)] = got_bytes
    finally:
        stack.stop()

    print(f"Big reads (issue 24): the peers' {n:,} lines ({peers.fsize(peers.CRI) / 1e6:.0f} MB of CRI), one gateway in mutual TLS, "
          f"{a.rounds} rounds, median [min–max]; output through `wc`\n")
    for job, title in (("big", "one ring on one agent"), ("pair", "two rings on two agents, merged")):
        base = statistics.median(times[(job, "curl, text/plain")])
        print(f"\n{title}:\n")
        print("| reader | time, s | lines/s | bytes out | bytes/line | ratio to curl's text |")
        print("|---|---|---|---|---|---|")
        for name in readers[job]:
            values = times[(job, name)]
            median = statistics.median(values)
            print(f"| {name} | {median:.2f} [{min(values):.2f}–{max(values):.2f}] | {n / median:,.0f} | {sizes[(job, name)] / 1e6:.0f} MB "
                  f"| {sizes[(job, name)] / n:.0f} | {median / base:.2f}x |")
    big_ndjson = statistics.median(times[("big", "curl, application/x-ndjson")]) / statistics.median(times[("big", "curl, text/plain")])
    print(f"\nNDJSON at {100 / big_ndjson:.0f} % of the text path's rate (target >= 50 %); "
          f"the CLI {statistics.median(times[('big', 'toolforge-logs job big')]) / statistics.median(times[('big', 'curl, text/plain')]):.1f}x curl's text "
          f"(target <= 3x), {statistics.median(times[('big', 'toolforge-logs job big')]) / statistics.median(times[('big', 'journalctl -o short (the journal)')]):.2f}x "
          f"journalctl's time (target <= 1x)")


if __name__ == "__main__":
    main()
