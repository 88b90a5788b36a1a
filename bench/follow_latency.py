#!/usr/bin/env python3
"""Follow latency (issue 6): a line appended to a pod log, to the moment it is printed by
`toolforge-logs job NAME --follow` through a node agent and a gateway with mutual TLS. Its
peers, in the same run: `tail -F` on the very same file at the same time (the floor), and
`journalctl -f` behind systemd-journal-remote (the peers' own harness). 1,000 lines/s for 10 s
per round, p50/p99/max per round, the median of the rounds with min and max. Markdown table.

  python3 bench/follow_latency.py [--rounds 3] [--rate 1000] [--duration 10] [--bin .build/release]

Loopback only; every process is stopped by its PID; every wait is bounded.
"""
import argparse, json, os, statistics, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "..", "shared", "bench", "peers"))
import bench as peers  # noqa: E402
from stack import agent, gateway  # noqa: E402  (data set, process control, the journal peer)

ROOT = os.path.join(peers.ROOT, "follow")


def observer(source, expect, duration, label):
    return subprocess.Popen([peers.PY, peers.OBS, "--expect", str(expect), "--timeout", str(duration + 15), "--label", label],
                            stdin=source.stdout, stdout=subprocess.PIPE)


def round_ours(a, expect):
    d = peers.fresh(ROOT)
    certs = os.path.join(d, "certs")
    subprocess.run([os.path.join(REPO, "scripts", "make-certs"), certs, "tool:demo"], check=True)
    pod = os.path.join(d, "pods", "tool-demo_lat_0001", "job")
    os.makedirs(pod)
    log = os.path.join(pod, "0.log")
    with open(log, "w") as f:
        f.write(time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime()) + " stdout F warm-up seq=-1 wt=0\n")
    procs = []
    try:
        agent_p, agent_at = agent(a.bin, d, "--rate-bytes", "64MiB", "--burst-bytes", "64MiB")
        procs.append(agent_p)
        gateway_p, gateway_at = gateway(a.bin, d, [("node-1", agent_at)], "--auth", "mtls", "--tls-cert", f"{certs}/server.crt",
                                        "--tls-key", f"{certs}/server.key", "--client-ca", f"{certs}/ca.crt",
                                        "--spec", os.path.join(REPO, "openapi", "openapi.yaml"))
        procs.append(gateway_p)
        env = dict(os.environ, TOOLFORGE_LOGS_URL=f"https://{gateway_at}", TOOLFORGE_LOGS_CA_FILE=f"{certs}/ca.crt",
                   TOOLFORGE_LOGS_CERT=f"{certs}/demo.crt", TOOLFORGE_LOGS_KEY=f"{certs}/demo.key", NO_COLOR="1")
        cli = [os.path.join(a.bin, "toolforge-logs"), "job", "lat"]
        ready = peers.wait_until(lambda: b"warm-up" in subprocess.run(cli + ["-n", "1"], env=env, capture_output=True).stdout, 20, 0.1)
        assert ready is not None, "the gateway never served the warm-up line"
        follower = subprocess.Popen(cli + ["-f", "-n", "0"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        tail = subprocess.Popen(["tail", "-n", "0", "-F", log], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        procs += [follower, tail]
        observers = {"toolforge-logs --follow": observer(follower, expect, a.duration, "ours"),
                     "tail -F (same file, same time)": observer(tail, expect, a.duration, "tail")}
        follower.stdout.close()
        tail.stdout.close()
        procs += observers.values()
        time.sleep(1.0)
        # Every physical line a logical one (no P+F pairs), so that lines compare one to one with tail -F.
        subprocess.run([peers.PY, peers.GEN, "rate", log, "--rate", str(a.rate), "--duration", str(a.duration), "--partial", "0"],
                       timeout=a.duration + 30, check=True)
        results = {}
        for label, obs in observers.items():
            out, _ = obs.communicate(timeout=a.duration + 30)
            results[label] = json.loads(out)
        cpu, rss = peers.procstat(gateway_p.pid)
        results["toolforge-logs --follow"].update(gateway_rss_kb=rss)
        return results
    finally:
        for p in reversed(procs):
            peers.stop(p)


def summary(rows, key):
    values = [r[key] for r in rows if r.get(key) is not None]
    if not values:
        return "-"
    return f"{statistics.median(values):.3f} [{min(values):.3f}–{max(values):.3f}]"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rate", type=float, default=1000)
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--bin", default=os.path.join(REPO, ".build", "release"))
    a = ap.parse_args()
    expect = int(a.rate * a.duration)
    rows = {}
    for _ in range(a.rounds):
        for label, result in round_ours(a, expect).items():
            rows.setdefault(label, []).append(result)
        journal = peers.follow_one("journal-remote stdin -> journalctl -f", expect,
                                   argparse.Namespace(rate=a.rate, duration=a.duration))
        rows.setdefault("journalctl -f behind systemd-journal-remote", []).append(journal)
    print(f"Follow latency, {a.rate:.0f} lines/s for {a.duration:.0f} s, {a.rounds} rounds, ms: median [min–max] of the rounds\n")
    print("| follower | lines seen | p50 | p99 | max |")
    print("|---|---|---|---|---|")
    for label, results in rows.items():
        seen = min(r["observed"] for r in results)
        print(f"| {label} | {seen:,} of {expect:,} (fewest) | {summary(results, 'p50_ms')} | {summary(results, 'p99_ms')} | {summary(results, 'max_ms')} |")
    ours = [r["p99_ms"] for r in rows["toolforge-logs --follow"]]
    floor = [r["p99_ms"] for r in rows["tail -F (same file, same time)"]]
    excess = [o - f for o, f in zip(ours, floor)]
    print(f"\np99 over `tail -F`'s p99 in the same round: {statistics.median(excess):+.3f} ms "
          f"[{min(excess):+.3f}–{max(excess):+.3f}] (target <= +2 ms); "
          f"gateway peak RSS {statistics.median(r['gateway_rss_kb'] for r in rows['toolforge-logs --follow']) / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
