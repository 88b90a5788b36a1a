#!/usr/bin/env python3
"""The node agent's ingest, side by side with its peers in one run (issue 3):

  cp of the CRI file (the copy limit) | rsyslog imfile -> omfile, one queue worker (keeps order)
  | logs-agent: the same file as a kubelet pod log, into a ring large enough to hold it all

on the peers' 1 M-line, 157 MB CRI data set (../shared/bench/peers), median [min-max] of
several rounds, and the agent's RSS holding 1,000 live containers. Prints a Markdown table.

  python3 bench/agent_ingest.py [--rounds 3] [--agent .build/release/logs-agent]

Loopback only; every process is stopped by its PID; every wait is bounded.
"""
import argparse, json, os, resource, shutil, statistics, subprocess, sys, time, urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = os.path.join(HERE, "..", "..", "shared", "bench", "peers")
sys.path.insert(0, PEERS)
import bench as peers  # noqa: E402  (the peers' own helpers: data set, rsyslog config, process control)

ROOT = os.path.join(peers.ROOT, "agent")
RING_SUFFIX = "512MiB"  # holds the whole 157 MB data set: nothing rolls over


def start_agent(binary, pods, data, extra=()):
    """Starts logs-agent on a free loopback port; returns (process, port)."""
    log = open(os.path.join(os.path.dirname(data), "agent.stderr"), "w")
    os.makedirs(pods, exist_ok=True)  # the agent refuses a pods directory that is not there
    cmd = [binary, "--node", "bench", "--pods-dir", pods, "--data-dir", data, "--listen", "127.0.0.1:0",
           "--insecure-no-auth", "--rescan", "60s", *extra]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True)
    deadline = time.time() + 30
    while time.time() < deadline:
        line = p.stdout.readline()
        if "ready on" in line:
            return p, int(line.rsplit(":", 1)[1])
        if not line and p.poll() is not None:
            break
    peers.stop(p)
    raise RuntimeError("logs-agent did not start: see " + log.name)


def inventory(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/internal/v2/rings?kind=continuous", timeout=10) as r:
        return json.load(r)["rings"]


def expected_text():
    """What the ring must give back as text/plain: each CRI line's message, P fragments joined."""
    out = bytearray()
    with open(peers.CRI, "rb") as f:
        for line in f:
            _, _, tag, message = line.rstrip(b"\n").split(b" ", 3)
            out += message
            if not tag.startswith(b"P"):
                out += b"\n"
    return bytes(out)


def agent_catchup(binary, size, lines, expect):
    d = peers.fresh(os.path.join(ROOT, "catchup"))
    container = os.path.join(d, "pods", "tool-bench_bench-0_0000", "job")
    os.makedirs(container)
    os.link(peers.CRI, os.path.join(container, "0.log"))
    t0 = time.perf_counter()
    p, port = start_agent(binary, os.path.join(d, "pods"), os.path.join(d, "data"),
                          ["--suffix-bytes", RING_SUFFIX, "--rate-bytes", "100GiB", "--burst-bytes", "100GiB",
                           "--budget-bytes", "100GiB"])
    try:
        done = peers.wait_until(lambda: any(r["records_written"] >= lines for r in inventory(port)), timeout=300, step=0.01)
        wall = time.perf_counter() - t0
        cpu, hwm = peers.procstat(p.pid)
        ring = inventory(port)[0]
        with urllib.request.urlopen(urllib.request.Request(
                f"http://127.0.0.1:{port}/internal/v2/rings/{ring['id']}/logs", headers={"Accept": "text/plain"}), timeout=60) as r:
            in_order = r.read() == expect
    finally:
        peers.stop(p)
    shutil.rmtree(d, ignore_errors=True)
    return dict(wall=wall if done is not None else None, cpu=cpu, rss_kb=hwm, in_order=in_order)


def rsyslog_catchup(size):
    d = peers.fresh(os.path.join(ROOT, "rsyslog"))
    out = os.path.join(d, "out.log")
    t0 = time.perf_counter()
    p = peers._start_daemon("rsyslog-ordered", d, peers.CRI, out)
    try:
        done = peers.wait_until(lambda: peers.fsize(out) >= size, timeout=300, step=0.005)
        wall = time.perf_counter() - t0
        cpu, hwm = peers.procstat(p.pid)
    finally:
        peers.stop(p)
    in_order = done is not None and subprocess.run(["cmp", "-s", out, peers.CRI]).returncode == 0
    shutil.rmtree(d, ignore_errors=True)
    return dict(wall=wall if done is not None else None, cpu=cpu, rss_kb=hwm, in_order=in_order)


def cp_copy():
    d = peers.fresh(os.path.join(ROOT, "cp"))
    w, u, s, _, _ = peers.timed(["cp", peers.CRI, os.path.join(d, "copy.log")])
    shutil.rmtree(d, ignore_errors=True)
    return dict(wall=w, cpu=u + s, rss_kb=None, in_order=True)


def rss_with_containers(binary, count=1000):
    """RSS of an agent following `count` live containers (each a small log that keeps its file open)."""
    d = peers.fresh(os.path.join(ROOT, "many"))
    pods = os.path.join(d, "pods")
    for i in range(count):
        c = os.path.join(pods, f"tool-t{i % 50}_pod-{i}_{i:08x}", "job")
        os.makedirs(c)
        with open(os.path.join(c, "0.log"), "w") as f:
            for n in range(10):
                f.write(f"2026-11-22T10:00:{n:02d}.000000000Z stdout F container {i} line {n}\n")
    p, port = start_agent(binary, pods, os.path.join(d, "data"))
    try:
        peers.wait_until(lambda: sum(r["records_written"] >= 10 for r in inventory(port)) >= count, timeout=120, step=0.1)
        time.sleep(1)
        with open(f"/proc/{p.pid}/status") as f:
            status = dict(line.split(":", 1) for line in f)
        rss = int(status["VmRSS"].split()[0])
        hwm = int(status["VmHWM"].split()[0])
        fds = len(os.listdir(f"/proc/{p.pid}/fd"))
    finally:
        peers.stop(p)
    shutil.rmtree(d, ignore_errors=True)
    return dict(rss_kb=rss, hwm_kb=hwm, fds=fds)


def summary(values):
    v = sorted(values)
    return v[len(v) // 2], v[0], v[-1]


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--rounds", type=int, default=3)
    a.add_argument("--agent", default=os.path.join(HERE, "..", ".build", "release", "logs-agent"))
    a = a.parse_args()
    # 1,000 containers hold ~2,000 descriptors: raise the soft limit as LimitNOFILE would.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    size = peers.fsize(peers.CRI)
    assert size > 0, "run: python3 ../shared/bench/peers/bench.py setup"
    with open(peers.CRI, "rb") as f:
        lines = sum(1 for _ in f)
    expect = expected_text()
    peers.timed(["cat", peers.CRI])  # warm the page cache
    runs = {"cp": [], "rsyslog": [], "agent": []}
    for _ in range(a.rounds):  # interleaved, so that noise hits every contender alike
        runs["cp"].append(cp_copy())
        runs["rsyslog"].append(rsyslog_catchup(size))
        runs["agent"].append(agent_catchup(a.agent, size, lines, expect))
    print(f"| ingest of {lines:,} CRI lines, {size / 1e6:.0f} MB ({a.rounds} rounds) | MB/s median [min–max] | lines/s | CPU s | RSS MB | in order |")
    print("|---|---|---|---|---|---|")
    label = {"cp": "`cp` (page cache): the limit", "rsyslog": "rsyslog imfile → omfile, 1 queue worker",
             "agent": f"logs-agent → ring (prefix 1 MiB, suffix {RING_SUFFIX})"}
    rates = {}
    for name, rs in runs.items():
        ok = [r for r in rs if r["wall"]]
        mb = [size / r["wall"] / 1e6 for r in ok]
        rates[name] = mb
        med, lo, hi = summary(mb)
        rss = max((r["rss_kb"] or 0) for r in rs) / 1024
        print(f"| {label[name]} | {med:,.0f} [{lo:,.0f}–{hi:,.0f}] | {lines / (size / med / 1e6):,.0f} | "
              f"{statistics.median(r['cpu'] for r in ok):.2f} | {rss:.0f} | {all(r['in_order'] for r in rs)} |")
    ratio = [x / y for x, y in zip(rates["agent"], rates["rsyslog"])]
    med, lo, hi = summary(ratio)
    print(f"\nagent / rsyslog: **{med:.1f}x** [{lo:.1f}–{hi:.1f}] (target >= 4x); "
          f"agent / cp: {summary([x / y for x, y in zip(rates['agent'], rates['cp'])])[0] * 100:.0f} %")
    many = rss_with_containers(a.agent)
    print(f"\nlogs-agent following 1,000 live containers: RSS {many['rss_kb'] / 1024:.1f} MiB "
          f"(peak {many['hwm_kb'] / 1024:.1f} MiB, target <= 64 MiB), {many['fds']} open descriptors")


if __name__ == "__main__":
    main()
