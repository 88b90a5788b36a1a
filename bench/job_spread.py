#!/usr/bin/env python3
"""One job's 14 days of runs spread over 10 nodes (issue 20): a job that ran every minute,
20,160 runs of 20 lines, each node holding a slice (generated through RingStore's own API:
`ringctl fold-load`), read through a real gateway in front of 10 real agents. The newest run on
each node stays in its ring file: what an old run's read is measured next to. Targets: first
page <= 50 ms, a deep page <= 1.5x the first, the last 100 lines of an old run <= 2x the same
read from a ring file; `--since 2d`: time to the first line and lines a second.

  python3 bench/job_spread.py [--nodes 10] [--runs 20160] [--bin-dir .build/release]

Loopback only; processes stopped by PID; every wait bounded; files under the peers' ROOT
(/tmp/peers/job-spread), removed at the end.
"""
import argparse, datetime, json, os, shutil, subprocess, sys, time, urllib.parse, urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import stack  # noqa: E402
from stack import peers  # noqa: E402

ROOT = os.path.join(peers.ROOT, "job-spread")
TOOL = {"x-toolforge-tool": "tool-0"}


def get(at, path, accept="application/json"):
    request = urllib.request.Request(f"http://{at}{path}", headers={**TOOL, "Accept": accept})
    with urllib.request.urlopen(request, timeout=120) as r:
        return r.read()


def fastest(f, times=5):
    best = None
    for _ in range(times):
        t = time.time()
        f()
        best = min(best or 1e9, (time.time() - t) * 1000)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nodes", type=int, default=10)
    ap.add_argument("--runs", type=int, default=20160)
    ap.add_argument("--bin-dir", default=os.path.join(REPO, ".build", "release"))
    a = ap.parse_args()
    shutil.rmtree(ROOT, ignore_errors=True)
    os.makedirs(ROOT)
    share = a.runs // a.nodes
    t = time.time()
    for k in range(a.nodes):
        subprocess.run([os.path.join(a.bin_dir, "ringctl"), "fold-load", os.path.join(ROOT, f"data-node-{k}"), "--tools", "1", "--jobs", "1",
                        "--runs", str(share), "--first-run", str(k * share), "--total-runs", str(share * a.nodes), "--every", "1",
                        "--unfolded", "1", "--threads", "1"], check=True, capture_output=True, timeout=3600)
    generated = time.time() - t
    agents, processes = [], []
    try:
        for k in range(a.nodes):
            p, at = stack.agent(a.bin_dir, ROOT, "--budget-bytes", "20GiB", "--max-age", "15d", node=f"node-{k}")
            processes.append(p)
            agents.append((f"node-{k}", at))
        gateway, gateway_at = stack.gateway(a.bin_dir, ROOT, agents, "--trusted-proxy", "127.0.0.1/32", "--rate-limit", "100000")
        processes.append(gateway)
        base = "/v1/tool/tool-0/job/job-0"
        deadline = time.time() + 60
        while True:
            try:
                body = json.loads(get(gateway_at, base + "/runs?limit=50"))["data"]
                if body["total"] == share * a.nodes:
                    break
            except urllib.error.HTTPError:
                pass
            if time.time() > deadline:
                raise SystemExit("the gateway never listed every run")
            time.sleep(0.5)
        listed, cursor, deepest = [], None, None
        while True:
            body = json.loads(get(gateway_at, base + "/runs?limit=1000" + (f"&before={urllib.parse.quote(cursor)}" if cursor else "")))["data"]
            listed += [r["run"] for r in body["runs"]]
            cursor = body.get("next")
            if not cursor:
                break
            deepest = cursor
        once = len(listed) == len(set(listed)) == share * a.nodes
        first_ms = fastest(lambda: get(gateway_at, base + "/runs?limit=50"))
        deep_ms = fastest(lambda: get(gateway_at, base + f"/runs?limit=50&before={urllib.parse.quote(deepest)}"))
        old, newest = listed[-1], listed[0]  # the oldest run (folded), the newest (a ring file)
        since = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=15)).strftime("%Y-%m-%dT%H:%M:%SZ")

        def last_lines(run):
            return lambda: get(gateway_at, base + "/logs?" + urllib.parse.urlencode({"run": run, "since": since, "lines": 100}), "text/plain")
        old_ms, ring_ms = fastest(last_lines(old)), fastest(last_lines(newest))
        two_days = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
        request = urllib.request.Request(f"http://{gateway_at}{base}/logs?" + urllib.parse.urlencode({"since": two_days}),
                                         headers={**TOOL, "Accept": "text/plain"})
        t = time.time()
        with urllib.request.urlopen(request, timeout=600) as r:
            first = r.readline()
            first_byte = (time.time() - t) * 1000
            count = 1 + sum(1 for _ in r) if first else 0
        window_s = time.time() - t
    finally:
        for p in processes:
            peers.stop(p)
    print(f"{share * a.nodes:,} runs of one job (every minute, 20 lines each) on {a.nodes} agents, {share:,} each; generated in {generated:.0f} s")
    print()
    print("| through the gateway | measured | target |")
    print("|---|---|---|")
    print(f"| every run listed once, pages of 1,000 | {'yes' if once else 'NO'} ({len(listed):,}) | all |")
    print(f"| first page of 50 | **{first_ms:.1f} ms** | <= 50 ms |")
    print(f"| a deep page (the oldest 1,000) | {deep_ms:.1f} ms: **{deep_ms / first_ms:.2f}x** the first | <= 1.5x |")
    print(f"| last 100 lines of the oldest run (folded) / of the newest (its ring file) | {old_ms:.1f} / {ring_ms:.1f} ms: **{old_ms / ring_ms:.2f}x** | <= 2x |")
    print(f"| `--since 2d` as text: first line, all {count:,} lines | {first_byte:.0f} ms, {window_s:.2f} s ({count / window_s:,.0f} lines/s) | reported |")
    shutil.rmtree(ROOT, ignore_errors=True)


if __name__ == "__main__":
    main()
