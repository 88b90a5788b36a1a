#!/usr/bin/env python3
"""A node that kept many tools' scheduled runs for days (issue 20): `--tools` x `--jobs` jobs
that each ran every 5 minutes, `--runs` runs each of 20 lines, generated in process through
RingStore's own API (`ringctl fold-load`: create, append, finish, fold), then a real agent
started over that data directory. Target at 200 x 5 x 4,032 (about 4 million runs): agent RSS
<= 128 MiB, start <= 10 s with a cold page cache. Measured next to the same agent over an empty
data directory (a node with no finished runs):
  generate      how long writing and folding the runs took, and the disk per run
  start         seconds from exec to "ready on", with the page cache dropped (root only)
  RSS           after start, after `/stats`, after a page of one job's runs and a read of one
  page          `folded/runs` of one job (limit 50), and a read of one of its runs

  python3 bench/node_history.py [--tools 200] [--jobs 5] [--runs 4032] [--bin-dir .build/release]

Loopback only; processes stopped by PID; every wait bounded; files under the peers' ROOT
(/tmp/peers/node-history), removed at the end unless --keep.
"""
import argparse, json, os, shutil, subprocess, sys, time, urllib.parse, urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import stack  # noqa: E402
from stack import peers  # noqa: E402

ROOT = os.path.join(peers.ROOT, "node-history")
# The shipped budget is per node; max age 15 d so that runs of exactly 14 days do not age out mid-run.
FLAGS = ["--budget-bytes", "64GiB", "--max-age", "15d"]


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(next(l for l in f if l.startswith("VmRSS")).split()[1]) / 1024


def allocated(directory):
    return sum(os.lstat(os.path.join(root, n)).st_blocks * 512 for root, _, files in os.walk(directory) for n in files)


def get(at, path, timeout=120):
    request = urllib.request.Request(f"http://{at}{path}", headers={"Authorization": f"Bearer {stack.TOKEN}"})
    with urllib.request.urlopen(request, timeout=timeout) as r:
        return json.loads(r.read())


def drop_caches():
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


def started(a, d):
    """An agent over d/data-node-1: (process, HOST:PORT, seconds to ready, whether the cache was cold)."""
    cold = drop_caches()
    t = time.time()
    p, at = stack.agent(a.bin_dir, d, *FLAGS)
    return p, at, time.time() - t, cold


def timed(f):
    t = time.time()
    value = f()
    return value, (time.time() - t) * 1000


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tools", type=int, default=200)
    ap.add_argument("--jobs", type=int, default=5)
    ap.add_argument("--runs", type=int, default=4032)
    ap.add_argument("--bin-dir", default=os.path.join(REPO, ".build", "release"))
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    shutil.rmtree(ROOT, ignore_errors=True)
    empty, full = os.path.join(ROOT, "empty"), os.path.join(ROOT, "full")
    os.makedirs(empty)
    os.makedirs(full)
    total = a.tools * a.jobs * a.runs
    t = time.time()
    out = subprocess.run([os.path.join(a.bin_dir, "ringctl"), "fold-load", os.path.join(full, "data-node-1"), "--tools", str(a.tools),
                          "--jobs", str(a.jobs), "--runs", str(a.runs)], check=True, capture_output=True, text=True, timeout=6 * 3600)
    generated = time.time() - t
    disk = allocated(os.path.join(full, "data-node-1"))

    base, base_at, base_start, _ = started(a, empty)
    base_rss = rss_mib(base.pid)
    get(base_at, "/internal/v2/stats")
    base_rss_stats = rss_mib(base.pid)
    peers.stop(base)

    agent, at, start, cold = started(a, full)
    try:
        rss_start = rss_mib(agent.pid)
        stats = get(at, "/internal/v2/stats")
        runs_kept = sum(x.get("runs", 0) for x in stats["usage"]["tools"])
        rss_stats = rss_mib(agent.pid)
        tool, job = f"tool-{a.tools // 2}", f"job-{a.jobs // 2}"
        path = f"/internal/v2/tools/{tool}/folded/runs?" + urllib.parse.urlencode({"name": job, "limit": 50})
        first, first_ms = timed(lambda: get(at, path))
        first, first_ms = timed(lambda: get(at, path))  # the second: the first pays the page cache
        ring = first["rings"][0]["id"]
        _, read_ms = timed(lambda: urllib.request.urlopen(urllib.request.Request(
            f"http://{at}/internal/v2/rings/{ring}/logs", headers={"Authorization": f"Bearer {stack.TOKEN}"}), timeout=60).read())
        rss_after = rss_mib(agent.pid)
    finally:
        peers.stop(agent)
    print(f"{a.tools} tools x {a.jobs} jobs x {a.runs} runs of 20 lines = {total:,} runs; {out.stdout.strip()}")
    print()
    print("| node of folded runs | no finished runs | " + f"{total:,} runs |")
    print("|---|---|---|")
    print(f"| agent start ({'cold' if cold else 'warm'} page cache) | {base_start:.2f} s | **{start:.2f} s** |")
    print(f"| agent RSS after start / after /stats | {base_rss:.0f} / {base_rss_stats:.0f} MiB | **{rss_start:.0f} / {rss_stats:.0f} MiB** |")
    print(f"| agent RSS after a page of runs and a read | – | {rss_after:.0f} MiB |")
    print(f"| memory per run beyond the empty node | – | {(rss_after - base_rss) * 1048576 / total:.1f} B |")
    print(f"| runs the agent counts (`/stats`) | 0 | {runs_kept:,} |")
    print(f"| a page of 50 runs of one job ({a.runs:,} runs; total {first['runs']:,}) | – | {first_ms:.1f} ms |")
    print(f"| generated through RingStore's API | – | {generated:.0f} s; {disk / total:,.0f} B a run on disk (whole data directory) |")
    print(f"| read one run's lines | – | {read_ms:.1f} ms |")
    if not a.keep:
        shutil.rmtree(ROOT, ignore_errors=True)


if __name__ == "__main__":
    main()
