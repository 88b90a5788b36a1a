#!/usr/bin/env python3
"""A node that kept many tools' scheduled runs for days (issue 20): `--tools` x `--jobs` jobs
that each ran every 5 minutes, `--runs` runs each of 20 lines, generated in process through
RingStore's own API (`ringctl fold-load`: create, append, finish, fold), then a real agent and a
real gateway started over that data directory. Targets at 200 x 5 x 4,032 (about 4 million
runs): agent RSS <= 128 MiB, start <= 10 s with a cold page cache, the gateway's memory within
5 % of the same fleet with no finished runs. Measured next to a node of the same jobs with one
run each (its newest): what a gateway holds for a job (a row per node and job with folded runs)
does not depend on how many runs the job kept, and that is what is measured; the agent folds
each job's newest run at its start in both, as it does every finished run:
  generate      how long writing and folding the runs took, and the disk per run
  start         seconds from exec to "ready on", with the page cache dropped (root only)
  agent RSS     after start, after `/stats`, after a page of one job's runs and a read of one
  gateway RSS   once it has indexed the node, and after a page of runs through it
  page          `folded/runs` of one job at the agent (limit 50), a read of one of its runs

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


def allocated(directory):
    return sum(os.lstat(os.path.join(root, n)).st_blocks * 512 for root, _, files in os.walk(directory) for n in files)


def get(at, path, headers, timeout=120):
    request = urllib.request.Request(f"http://{at}{path}", headers=headers)
    with urllib.request.urlopen(request, timeout=timeout) as r:
        return r.read()


def drop_caches():
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


def timed(f):
    t = time.time()
    value = f()
    return value, (time.time() - t) * 1000


def generate(a, d, runs):
    """`runs` runs of every job into d/data-node-1, the newest of each left in its ring file;
    returns (seconds, what ringctl said)."""
    t = time.time()
    out = subprocess.run([os.path.join(a.bin_dir, "ringctl"), "fold-load", os.path.join(d, "data-node-1"), "--tools", str(a.tools),
                          "--jobs", str(a.jobs), "--runs", str(runs), "--unfolded", "1"],
                         check=True, capture_output=True, text=True, timeout=6 * 3600)
    return time.time() - t, out.stdout.strip()


def measure(a, d):
    """An agent over d, cold, then a gateway in front of it: what each costs."""
    auth = {"Authorization": f"Bearer {stack.TOKEN}"}
    tool, job = f"tool-{a.tools // 2}", f"job-{a.jobs // 2}"
    m = {"cold": drop_caches()}
    t = time.time()
    agent, at = stack.agent(a.bin_dir, d, *FLAGS)
    gateway = None
    try:
        m["start"] = time.time() - t
        m["rss_start"] = stack.rss_mib(agent.pid)
        stats = json.loads(get(at, "/internal/v2/stats", auth))
        m["runs"] = sum(x.get("runs", 0) for x in stats["usage"]["tools"])
        m["rss_stats"] = stack.rss_mib(agent.pid)
        path = f"/internal/v2/tools/{tool}/folded/runs?" + urllib.parse.urlencode({"name": job, "limit": 50})
        timed(lambda: get(at, path, auth))  # the first pays the page cache
        page, m["page_ms"] = timed(lambda: json.loads(get(at, path, auth)))
        if page["rings"]:
            ring = page["rings"][0]["id"]
            _, m["read_ms"] = timed(lambda: get(at, f"/internal/v2/rings/{ring}/logs", auth, 60))
        m["rss_after"] = stack.rss_mib(agent.pid)

        # The gateway comes to the node once the agent has folded what finished before it
        # started (each job's newest run): else it indexes those ring files first, and what
        # it allocated for them stays in its RSS as allocator slack.
        usage = lambda: json.loads(get(at, "/internal/v2/stats", auth))["usage"]  # noqa: E731
        if peers.wait_until(lambda: (lambda u: u["folded_rings"] == u["finished_rings"])(usage()), 300, 0.5) is None:
            raise SystemExit("the agent never folded the runs that finished before it started")
        gateway, gateway_at = stack.gateway(a.bin_dir, d, [("node-1", at)], "--trusted-proxy", "127.0.0.1/32")
        # Indexed: every job is there, as a ring file or (folded at the agent's start, the
        # newest runs too, once finished) as a job with folded runs.
        jobs = a.tools * a.jobs

        def indexed():
            metrics = f"http://{gateway_at}/v1/metrics"
            return (stack.metric(metrics, "logs_gateway_index_rings") or 0) + (stack.metric(metrics, "logs_gateway_index_folded_jobs") or 0)
        if peers.wait_until(lambda: indexed() >= jobs, 120, 0.2) is None:
            raise SystemExit(f"the gateway never indexed the node's {jobs} jobs")
        time.sleep(3)  # a pass of the gateway's FreedMemory (every 2 s)
        m["folded_jobs"] = stack.metric(f"http://{gateway_at}/v1/metrics", "logs_gateway_index_folded_jobs")
        m["gateway_rss"] = stack.rss_mib(gateway.pid)
        listing = json.loads(get(gateway_at, f"/v1/tool/{tool}/job/{job}/runs?limit=50", {"x-toolforge-tool": tool}))["data"]
        m["gateway_total"] = listing["total"]
        m["gateway_rss_page"] = stack.rss_mib(gateway.pid)
    finally:
        peers.stop(gateway)
        peers.stop(agent)
    return m


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tools", type=int, default=200)
    ap.add_argument("--jobs", type=int, default=5)
    ap.add_argument("--runs", type=int, default=4032)
    ap.add_argument("--bin-dir", default=os.path.join(REPO, ".build", "release"))
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--reuse", type=float, metavar="SECONDS",
                    help="measure the data directories a --keep run left, which took SECONDS to generate")
    a = ap.parse_args()
    few, full = os.path.join(ROOT, "few"), os.path.join(ROOT, "full")
    total = a.tools * a.jobs * a.runs
    if a.reuse is None:
        shutil.rmtree(ROOT, ignore_errors=True)
        os.makedirs(few)
        os.makedirs(full)
        generate(a, few, 1)
        generated, said = generate(a, full, a.runs)
    else:
        generated, said = a.reuse, "reused"
    disk = allocated(os.path.join(full, "data-node-1"))
    b, f = measure(a, few), measure(a, full)
    jobs = a.tools * a.jobs
    print(f"{a.tools} tools x {a.jobs} jobs x {a.runs} runs of 20 lines = {total:,} runs; {said}")
    print()
    print(f"| a node of {jobs:,} scheduled jobs | one run each | {total:,} runs |")
    print("|---|---|---|")
    print(f"| agent start ({'cold' if f['cold'] else 'warm'} page cache) | {b['start']:.2f} s | **{f['start']:.2f} s** |")
    print(f"| agent RSS after start / after /stats | {b['rss_start']:.0f} / {b['rss_stats']:.0f} MiB | **{f['rss_start']:.0f} / {f['rss_stats']:.0f} MiB** |")
    print(f"| agent RSS after a page of runs and a read | {b['rss_after']:.0f} MiB | **{f['rss_after']:.0f} MiB** |")
    print(f"| agent memory per run beyond the node of one run a job | – | {(f['rss_after'] - b['rss_after']) * 1048576 / total:.1f} B |")
    print(f"| runs the agent counts (`/stats`) | {b['runs']:,} | {f['runs']:,} |")
    print(f"| a page of 50 runs of one job at the agent | {b['page_ms']:.1f} ms | {f['page_ms']:.1f} ms |")
    print(f"| read one run's lines at the agent | {b.get('read_ms', 0):.1f} ms | {f.get('read_ms', 0):.1f} ms |")
    print(f"| gateway: (node, job) rows standing for folded runs | {b['folded_jobs']:.0f} | {f['folded_jobs']:.0f} |")
    print(f"| gateway RSS, node indexed / after a page of runs (total {f['gateway_total']:,}) | {b['gateway_rss']:.1f} / {b['gateway_rss_page']:.1f} MiB "
          f"| **{f['gateway_rss']:.1f} / {f['gateway_rss_page']:.1f} MiB: {100 * (f['gateway_rss_page'] / b['gateway_rss_page'] - 1):+.1f} %** |")
    print(f"| generated through RingStore's API | – | {generated:.0f} s; {disk / total:,.0f} B a run on disk (whole data directory) |")
    if not a.keep:
        shutil.rmtree(ROOT, ignore_errors=True)


if __name__ == "__main__":
    main()
