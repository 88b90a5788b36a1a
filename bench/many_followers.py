#!/usr/bin/env python3
"""1,000 concurrent followers of one source on one gateway (issue 6): the gateway's RSS while
they follow, whether every line reaches every follower, and how many follows the agent serves
(one: they share a pull). Lines are written at 100 lines/s for 5 s into one pod log.

  python3 bench/many_followers.py [--followers 1000] [--bin .build/release]

Loopback only; every process is stopped by its PID; every wait is bounded.
"""
import argparse, asyncio, json, os, resource, sys, time, urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from stack import agent, gateway, metric, peers  # noqa: E402

ROOT = os.path.join(peers.ROOT, "followers")
LINES = 500


async def follow(host, port, expect, seen, ready):
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(b"GET /v1/tool/demo/job/busy/logs?follow=true&since=0s HTTP/1.1\r\nHost: gateway\r\n"
                 b"x-toolforge-tool: demo\r\nAccept: application/x-ndjson\r\n\r\n")
    await writer.drain()
    ready.append(1)
    got = []
    while len(set(got)) < expect:
        line = await reader.readline()
        if not line:
            break
        if b'"type":"log"' in line:
            got.append(line[line.index(b"n=") + 2:].split(b" ", 1)[0])
    # Every line, and none twice.
    seen.append(len(got) if len(got) == len(set(got)) else -1)
    writer.close()


async def run(a):
    d = peers.fresh(ROOT)
    container = os.path.join(d, "pods", "tool-demo_busy_0001", "job")
    os.makedirs(container)
    log = os.path.join(container, "0.log")
    with open(log, "w") as f:
        f.write("2026-11-22T10:00:00.000000000Z stdout F warm-up\n")
    procs = []
    try:
        agent_p, agent_at = agent(a.bin, d)
        procs.append(agent_p)
        gateway_p, gateway_at = gateway(a.bin, d, [("node-1", agent_at)], "--trusted-proxy", "127.0.0.1/32", "--rate-limit", "100000",
                                        "--follows-per-tool", str(a.followers))
        procs.append(gateway_p)
        host, port = gateway_at.rsplit(":", 1)
        request = urllib.request.Request(f"http://{gateway_at}/v1/tool/demo/job/busy/logs?since=2026-11-22T00:00:00Z&lines=1", headers={"x-toolforge-tool": "demo"})
        assert peers.wait_until(lambda: b"warm-up" in urllib.request.urlopen(request, timeout=5).read(), 20, 0.1) is not None
        idle_rss = peers.procstat(gateway_p.pid)[1]
        seen, ready = [], []
        tasks = [asyncio.create_task(follow(host, int(port), LINES, seen, ready)) for _ in range(a.followers)]
        while len(ready) < a.followers:
            await asyncio.sleep(0.05)
        await asyncio.sleep(2)
        with open(log, "a") as f:
            for n in range(LINES):
                f.write(f"2026-11-22T10:00:01.{n:09d}Z stdout F line n={n} of the busy job\n")
                f.flush()
                await asyncio.sleep(1 / 100)
        done, pending = await asyncio.wait(tasks, timeout=60)
        with open(f"/proc/{gateway_p.pid}/status") as f:
            status = dict(line.split(":", 1) for line in f)
        rss, hwm = int(status["VmRSS"].split()[0]), int(status["VmHWM"].split()[0])
        agent_follows = metric(f"http://{agent_at}/metrics", "logs_agent_follows")
        gateway_follows = metric(f"http://{gateway_at}/v1/metrics", "logs_gateway_follows")
        for task in pending:
            task.cancel()
    finally:
        for p in reversed(procs):
            peers.stop(p)
    complete = sum(1 for n in seen if n == LINES)
    print(f"{a.followers:,} followers of one job on one gateway, {LINES} lines at 100 lines/s\n")
    print("| figure | value | target |")
    print("|---|---|---|")
    print(f"| followers that got every line, each once | {complete:,} of {a.followers:,} | all |")
    print(f"| gateway RSS while following (peak) | {rss / 1024:.1f} MiB ({hwm / 1024:.1f} MiB); idle before: {idle_rss / 1024:.1f} MiB | <= 256 MiB |")
    print(f"| follows open on the gateway / served by the agent | {gateway_follows:.0f} / {agent_follows:.0f} | one pull per ring |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--followers", type=int, default=1000)
    ap.add_argument("--bin", default=os.path.join(REPO, ".build", "release"))
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    asyncio.run(run(a))


if __name__ == "__main__":
    main()
