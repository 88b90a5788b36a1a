#!/usr/bin/env python3
"""The gateway's index at scale, by a scaled-down simulation (issue 6, docs/scaling.md): one
agent holding --sources rings (small rings, many tools), a gateway in front. Measures the
agent's cost of a full and of an empty-delta inventory, the time a (re)started gateway takes
to build its index before it says ready, the gateway's RSS against one in front of an empty
agent (so: bytes per ring), and read latency for random sources with a keep-alive client.

  python3 bench/gateway_index.py [--sources 5000] [--bin .build/release]

Loopback only; every process is stopped by its PID; every wait is bounded.
"""
import argparse, http.client, json, os, random, resource, shutil, statistics, sys, time, urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from stack import peers, start  # noqa: E402

ROOT = os.path.join(peers.ROOT, "index")
TOKEN = "bench-token"


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(next(l for l in f if l.startswith("VmRSS")).split()[1])


def agent_get(at, path):
    request = urllib.request.Request(f"http://{at}{path}", headers={"Authorization": f"Bearer {TOKEN}"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as r:
        body = r.read()
    return body, (time.perf_counter() - started) * 1e3


def gateway(a, d, agent_at, name):
    started = time.perf_counter()
    p, at = start([os.path.join(a.bin, "logs-gateway"), "--listen", "127.0.0.1:0", "--agent", f"node-1=http://{agent_at}",
                   "--agent-token-file", os.path.join(d, "token"), "--trusted-proxy", "127.0.0.1/32", "--rate-limit", "100000"],
                  os.path.join(d, f"{name}.log"))
    return p, at, (time.perf_counter() - started) * 1e3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sources", type=int, default=5000)
    ap.add_argument("--tools", type=int, default=100)
    ap.add_argument("--bin", default=os.path.join(REPO, ".build", "release"))
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 1 << 20), hard))
    d = peers.fresh(ROOT)
    with open(os.path.join(d, "token"), "w") as f:
        f.write(TOKEN + "\n")
    empty = os.path.join(d, "empty-pods")
    os.makedirs(empty)
    pods = os.path.join(d, "pods")
    for i in range(a.sources):
        c = os.path.join(pods, f"tool-t{i % a.tools}_job-{i}_{i:08x}", "job")
        os.makedirs(c)
        with open(os.path.join(c, "0.log"), "w") as f:
            for n in range(5):
                f.write(f"2026-11-22T10:00:0{n}.000000000Z stdout F source {i} line {n}\n")
    procs = []
    try:
        bare, bare_at = start([os.path.join(a.bin, "logs-agent"), "--node", "node-1", "--pods-dir", empty, "--data-dir",
                               os.path.join(d, "empty-data"), "--listen", "127.0.0.1:0", "--token-file", os.path.join(d, "token")],
                              os.path.join(d, "bare.log"))
        procs.append(bare)
        baseline, _, _ = gateway(a, d, bare_at, "baseline")
        procs.append(baseline)
        time.sleep(1)
        baseline_rss = rss_kb(baseline.pid)
        agent, agent_at = start([os.path.join(a.bin, "logs-agent"), "--node", "node-1", "--pods-dir", pods, "--data-dir",
                                 os.path.join(d, "data"), "--listen", "127.0.0.1:0", "--token-file", os.path.join(d, "token"),
                                 "--prefix-bytes", "4KiB", "--suffix-bytes", "16KiB", "--rescan", "60s"], os.path.join(d, "agent.log"))
        procs.append(agent)
        assert peers.wait_until(lambda: sum(r["kind"] == "continuous" and r["records_written"] >= 5
                                            for r in json.loads(agent_get(agent_at, "/internal/v1/rings")[0])["rings"]) >= a.sources,
                                600, 1.0) is not None, "the agent did not take every source"
        full = [agent_get(agent_at, "/internal/v1/rings") for _ in range(5)]
        inventory = json.loads(full[0][0])
        rings = len(inventory["rings"])
        delta = [agent_get(agent_at, f"/internal/v1/rings?since_version={inventory['version']}")[1] for _ in range(20)]
        # A (re)started gateway builds its index from the agent before it says ready.
        starts = []
        for k in range(3):
            p, at, ms = gateway(a, d, agent_at, f"gateway-{k}")
            starts.append(ms)
            if k < 2:
                peers.stop(p)
        procs.append(p)
        time.sleep(2)
        index_rss = rss_kb(p.pid)
        host, port = at.rsplit(":", 1)
        client = http.client.HTTPConnection(host, int(port), timeout=30)
        latencies = []
        for _ in range(300):
            i = random.randrange(a.sources)
            started = time.perf_counter()
            client.request("GET", f"/v1/tool/t{i % a.tools}/jobs/job-{i}/logs?lines=10", headers={"x-toolforge-tool": f"t{i % a.tools}"})
            response = client.getresponse()
            body = response.read()
            latencies.append((time.perf_counter() - started) * 1e3)
            assert response.status == 200 and f"source {i} line 4".encode() in body, (response.status, body[:200])
    finally:
        for p in reversed(procs):
            peers.stop(p)
        shutil.rmtree(d, ignore_errors=True)
    latencies.sort()
    per_ring = (index_rss - baseline_rss) * 1024 / rings
    print(f"One agent with {a.sources:,} sources of {a.tools} tools ({rings:,} rings with the activity rings), a gateway in front\n")
    print("| figure | value |")
    print("|---|---|")
    print(f"| agent: full inventory, {len(full[0][0]) / 1e6:.1f} MB of JSON | {statistics.median(t for _, t in full):.0f} ms [{min(t for _, t in full):.0f}–{max(t for _, t in full):.0f}] |")
    print(f"| agent: empty delta (`since_version`, nothing changed) | {statistics.median(delta):.2f} ms [{min(delta):.2f}–{max(delta):.2f}] |")
    print(f"| gateway start to ready (index built) | {statistics.median(starts):.0f} ms [{min(starts):.0f}–{max(starts):.0f}] |")
    print(f"| gateway RSS with the index / in front of an empty agent | {index_rss / 1024:.1f} MiB / {baseline_rss / 1024:.1f} MiB: **{per_ring:,.0f} bytes per ring** |")
    print(f"| read of a random source (`lines=10`, keep-alive) | p50 {latencies[len(latencies) // 2]:.2f} ms, p99 {latencies[int(len(latencies) * 0.99)]:.2f} ms |")


if __name__ == "__main__":
    main()
