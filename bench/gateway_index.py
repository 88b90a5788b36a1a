#!/usr/bin/env python3
"""The gateway's index at scale, by simulation (issue 6, docs/scaling.md): --agents node agents
on loopback holding --sources container logs in all (small rings, many tools), one gateway in
front of them all. Measures what a node pays to serve inventories (a full one; an empty delta,
in wall time and in the agents' CPU, as a gateway asks every 2 s), the time a (re)started
gateway takes to build its index before it says ready, the gateway's RSS against one in front
of an empty agent (so: bytes per ring), and read latency for random sources with a keep-alive
client.

  python3 bench/gateway_index.py [--agents 100] [--sources 100000] [--tools 3000] [--bin .build/release]

Loopback only; every process is stopped by its PID; every wait is bounded.
"""
import argparse, http.client, json, os, random, resource, shutil, statistics, sys, time, urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from stack import TOKEN, agent, gateway, peers  # noqa: E402

ROOT = os.path.join(peers.ROOT, "index")
LINES = 5
DELTA_ROUNDS = 10
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(next(l for l in f if l.startswith("VmRSS")).split()[1])


def cpu_seconds(pids):
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


def agent_get(at, path):
    request = urllib.request.Request(f"http://{at}{path}", headers={"Authorization": f"Bearer {TOKEN}"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as r:
        body = r.read()
    return body, (time.perf_counter() - started) * 1e3


def source(i, tools):
    """Source i: a job of tool t<i % tools>, in pod directory i."""
    return f"t{i % tools}", f"job-{i}"


def write_pods(root, sources, tools):
    """One pod directory per source, its log holding LINES lines; returns the bytes written."""
    written = 0
    for i in sources:
        tool, job = source(i, tools)
        c = os.path.join(root, f"tool-{tool}_{job}_{i:08x}", "job")
        os.makedirs(c)
        text = "".join(f"2026-11-22T10:00:0{n}.000000000Z stdout F source {i} line {n}\n" for n in range(LINES))
        with open(os.path.join(c, "0.log"), "w") as f:
            f.write(text)
        written += len(text)
    return written


def start_agent(a, d, name, pods):
    return agent(a.bin, d, "--prefix-bytes", "4KiB", "--suffix-bytes", "16KiB", "--rescan", "600s", node=name, pods=pods)


def start_gateway(a, d, agents, name):
    started = time.perf_counter()
    p, at = gateway(a.bin, d, agents, "--trusted-proxy", "127.0.0.1/32", "--rate-limit", "100000", name=name)
    return p, at, (time.perf_counter() - started) * 1e3


def spread(values):
    return f"{statistics.median(values):.2f} ms [{min(values):.2f}–{max(values):.2f}]"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agents", type=int, default=100)
    ap.add_argument("--sources", type=int, default=100_000, help="container logs in all, spread evenly over the agents")
    ap.add_argument("--tools", type=int, default=3000)
    ap.add_argument("--reads", type=int, default=300)
    ap.add_argument("--bin", default=os.path.join(REPO, ".build", "release"))
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 1 << 20), hard))
    d = peers.fresh(ROOT)
    os.makedirs(os.path.join(d, "empty-pods"))
    made = time.perf_counter()
    expected = {}
    for k in range(a.agents):
        expected[f"node-{k}"] = write_pods(os.path.join(d, f"pods-{k}"), range(k, a.sources, a.agents), a.tools)
    made = time.perf_counter() - made
    procs, agents = [], []
    try:
        bare, bare_at = start_agent(a, d, "bare", os.path.join(d, "empty-pods"))
        procs.append(bare)
        baseline, _, _ = start_gateway(a, d, [("bare", bare_at)], "baseline")
        procs.append(baseline)
        time.sleep(1)
        baseline_rss = rss_kb(baseline.pid)
        peers.stop(baseline)
        ingest = time.perf_counter()
        for k in range(a.agents):
            p, at = start_agent(a, d, f"node-{k}", os.path.join(d, f"pods-{k}"))
            procs.append(p)
            agents.append((f"node-{k}", at, p))

        def ingested(node, at):
            return json.loads(agent_get(at, "/internal/v2/stats")[0])["ingested_bytes"] >= expected[node]
        for node, at, _ in agents:
            assert peers.wait_until(lambda: ingested(node, at), 900, 0.5) is not None, f"{node} did not take every source"
        ingest = time.perf_counter() - ingest
        agent_pids = [p.pid for _, _, p in agents]
        agents_rss = sum(rss_kb(pid) for pid in agent_pids)

        # What serving inventories costs a node: a full one (a new gateway) and an empty delta
        # (the steady state: a gateway asks each agent every 2 s), in wall time and in the
        # agents' CPU over a bounded burst of deltas.
        sample = agents[:: max(1, a.agents // 10)]
        full = [agent_get(at, "/internal/v2/rings") for _, at, _ in sample for _ in range(3)]
        versions = [(at, json.loads(agent_get(at, "/internal/v2/rings")[0])["version"]) for _, at, _ in agents]
        cpu = cpu_seconds(agent_pids)
        delta = [agent_get(at, f"/internal/v2/rings?since_version={version}")[1]
                 for _ in range(DELTA_ROUNDS) for at, version in versions]
        delta_cpu = (cpu_seconds(agent_pids) - cpu) / len(delta)

        # A (re)started gateway builds its index from every agent before it says ready.
        endpoints = [(node, at) for node, at, _ in agents]
        starts = []
        for k in range(3):
            p, at, ms = start_gateway(a, d, endpoints, f"gateway-{k}")
            starts.append(ms)
            if k < 2:
                peers.stop(p)
        procs.append(p)
        time.sleep(2)
        index_rss = rss_kb(p.pid)
        host, port = at.rsplit(":", 1)
        client = http.client.HTTPConnection(host, int(port), timeout=30)
        latencies = []
        for _ in range(a.reads):
            i = random.randrange(a.sources)
            tool, job = source(i, a.tools)
            started = time.perf_counter()
            # The sources' times are of 2026-11-22: outside the API's default window of an hour.
            client.request("GET", f"/v1/tool/{tool}/job/{job}/logs?since=2026-11-22T00:00:00Z&lines=10", headers={"x-toolforge-tool": tool})
            response = client.getresponse()
            body = response.read()
            latencies.append((time.perf_counter() - started) * 1e3)
            assert response.status == 200 and f"source {i} line {LINES - 1}".encode() in body, (response.status, body[:200])
    finally:
        for p in reversed(procs):
            peers.stop(p)
        shutil.rmtree(d, ignore_errors=True)
    rings = a.sources  # one per source; each agent's activity ring comes on top
    latencies.sort()
    per_ring = (index_rss - baseline_rss) * 1024 / rings
    print(f"{a.agents} agents holding {a.sources:,} sources of {a.tools:,} tools (ring: 4 KiB prefix, 16 KiB suffix), "
          f"one gateway in front; pods written in {made:.0f} s, all ingested {ingest:.0f} s after the first agent started\n")
    print("| figure | value |")
    print("|---|---|")
    print(f"| agents' RSS, all {a.agents} | {agents_rss / 1024:,.0f} MiB ({agents_rss / 1024 / a.agents:.1f} MiB each) |")
    print(f"| agent: full inventory of ~{a.sources // a.agents:,} rings, {len(full[0][0]) / 1e6:.2f} MB of JSON ({len(sample)} agents × 3) | {spread([t for _, t in full])} |")
    print(f"| agent: empty delta (`since_version`, nothing changed; {len(delta):,} requests) | {spread(delta)}, "
          f"**{delta_cpu * 1e3:.2f} ms of agent CPU each**: {delta_cpu / 2 * 100:.3f} % of a core per gateway replica |")
    print(f"| gateway start to ready (index of {a.agents} agents built; 3 starts) | {spread(starts)} |")
    print(f"| gateway RSS with the index / in front of one empty agent | {index_rss / 1024:.1f} MiB / {baseline_rss / 1024:.1f} MiB: **{per_ring:,.0f} bytes per ring** |")
    print(f"| read of a random source (`lines=10`, keep-alive, {a.reads} reads) | p50 {latencies[len(latencies) // 2]:.2f} ms, "
          f"p99 {latencies[int(len(latencies) * 0.99)]:.2f} ms |")


if __name__ == "__main__":
    main()
