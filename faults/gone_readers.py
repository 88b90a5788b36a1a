#!/usr/bin/env python3
"""Readers that go away (issue 21): `--readers` clients at once read one tool's big log through
the gateway and hang up after their first chunk, again and again, for `--rounds` rounds of
`--duration` seconds. Half whole downloads, half greps that match nothing; text and NDJSON;
each kind half hung up with a reset (SO_LINGER 0), half with a FIN alone. The gateway's rate limit is raised
for the run; the agent's share of reads per tool is as shipped, so most reads wait their turn
or are refused (429) before they are cut: that is part of what is tested.

After each round, for the gateway and the agent alike: the agent's reads running or waiting
at the round's end; how long until each process's CPU is idle (under 5 % of a core over
200 ms), and the agent's reads then; threads, open descriptors and RSS at the end, how long
until threads and descriptors are back to their idle figures (taken after a warm-up of the
same reads, read to their end, and the connection pool's idle timeout), and RSS then. Targets:
CPU idle within 1 s (`--idle-within`), no read left once idle, descriptors and threads back
to idle but for 2 (the gateway's idle connections to the agent close after 10 s, but the
index's; the pools' threads come and go; none may pile up over the rounds), RSS within 16 MiB
of idle and not growing over the rounds. The reads left at the round's end are reported, not
judged: some were ending as the round did.

  python3 faults/gone_readers.py [--readers 50] [--rounds 3] [--duration 20] [--lines 500000] [--bin .build/release]

Exits 1 when a target is missed. Loopback only; every process stopped by its PID; every loop
bounded in count and time; files under the peers' ROOT (/tmp/peers/gone-readers), removed at
the end.
"""
import argparse, json, os, shutil, socket, struct, sys, threading, time, urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "bench"))
import stack  # noqa: E402
from crowded_reads import pod_log, write_lines  # noqa: E402
from stack import peers  # noqa: E402

ROOT = os.path.join(peers.ROOT, "gone-readers")
TOOL = "big"
PATH = f"/v1/tool/{TOOL}/job/{TOOL}/logs"
READS = [("", "text/plain"), ("", "application/x-ndjson"),
         ("?grep=nothing-matches-this", "text/plain"), ("?grep=nothing-matches-this", "application/x-ndjson")]
# How long threads and descriptors may take to come back: the connection pool's idle timeout
# (10 s) and a little.
FOOTPRINT_SECONDS = 15
SPARE_THREADS = 2
# The gateway's index polls the agent every few seconds over a kept connection: a descriptor on
# each side, open or not at the moment a figure is taken.
SPARE_DESCRIPTORS = 2


def footprint(pid):
    """(threads, open descriptors, RSS in MiB) of a live process."""
    return len(os.listdir(f"/proc/{pid}/task")), len(os.listdir(f"/proc/{pid}/fd")), stack.rss_mib(pid)


def seconds_to_idle(pids, limit=10.0, window=0.2, share=0.05):
    """For each process, seconds from now until it uses under `share` of a core over `window`
    (None: not within `limit`)."""
    start, idle = time.time(), {}
    while time.time() - start < limit and len(idle) < len(pids):
        before = {name: peers.procstat(pid)[0] for name, pid in pids.items()}
        time.sleep(window)
        for name, pid in pids.items():
            if name not in idle and peers.procstat(pid)[0] - before[name] < share * window:
                idle[name] = time.time() - window - start
    return {name: idle.get(name) for name in pids}


def seconds_to_footprint(pid, threads, fds, limit):
    """Seconds from now until the process has no more descriptors than given, nor threads, but
    for a spare few (the index's connection; the pools' threads come and go; a leak would stay
    and grow)."""
    start = time.time()
    while time.time() - start < limit:
        now = footprint(pid)
        if now[0] <= threads + SPARE_THREADS and now[1] <= fds + SPARE_DESCRIPTORS:
            return time.time() - start
        time.sleep(0.1)
    return None


def reads_running(agent_at):
    request = urllib.request.Request(f"http://{agent_at}/internal/v2/stats", headers={"Authorization": f"Bearer {stack.TOKEN}"})
    stats = json.loads(urllib.request.urlopen(request, timeout=10).read())
    return sum(r["running"] + r["waiting"] for r in stats.get("reads", []))


def last_line(gateway_at):
    request = urllib.request.Request(f"http://{gateway_at}{PATH}?lines=1&direction=newest_first", headers={"x-toolforge-tool": TOOL, "Accept": "text/plain"})
    try:
        return urllib.request.urlopen(request, timeout=10).read()
    except OSError:  # 404 until the gateway has indexed the ring
        return b""


def read(gateway_at, query, accept, whole, reset=False):
    """One read: to its end when `whole`, else until its first chunk of body (or half a second
    of none after the headers: a grep as text sends nothing until it matches), then hung up:
    with a reset, or with a FIN alone (the socket kept until the server closes, or a second).
    The headers may take seconds: a download of one ring is answered once its agent answers,
    after its turn among the tool's reads there (or the 429 that says it did not come). The
    status."""
    host, port = gateway_at.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=5)
    try:
        s.sendall(f"GET {PATH}{query} HTTP/1.1\r\nHost: {gateway_at}\r\nAccept: {accept}\r\nx-toolforge-tool: {TOOL}\r\n"
                  f"Connection: close\r\n\r\n".encode())
        received = b""
        s.settimeout(30 if whole else 12)
        while True:
            if not whole and b"\r\n\r\n" in received:
                s.settimeout(0.5)
            try:
                chunk = s.recv(1 << 16)
            except socket.timeout:
                break
            if not chunk:
                break
            received += chunk if len(received) < 4096 else b""
            if not whole and b"\r\n\r\n" in received and not received.endswith(b"\r\n\r\n"):
                break
        status = received.split(b" ", 2)[1].decode() if received.startswith(b"HTTP/") else "none"
        if reset:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif not whole:
            s.shutdown(socket.SHUT_WR)
            s.settimeout(1)
            try:
                while s.recv(1 << 16):
                    pass
            except OSError:
                pass
        return status
    finally:
        s.close()


class Reader(threading.Thread):
    def __init__(self, gateway_at, number, stop):
        super().__init__(daemon=True)
        self.gateway_at, self.stop = gateway_at, stop
        self.query, self.accept = READS[number % len(READS)]
        self.reset = (number // len(READS)) % 2 == 1  # each kind of read both ways
        self.statuses = {}

    def run(self):
        while not self.stop.is_set():
            try:
                status = read(self.gateway_at, self.query, self.accept, whole=False, reset=self.reset)
            except OSError as error:
                status = type(error).__name__
            self.statuses[status] = self.statuses.get(status, 0) + 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--readers", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=float, default=20)
    ap.add_argument("--lines", type=int, default=500_000)
    ap.add_argument("--bin", default=os.path.join(REPO, ".build", "release"))
    ap.add_argument("--idle-within", type=float, default=1.0, help="seconds for CPU to be idle (a debug build needs more)")
    a = ap.parse_args()
    d = peers.fresh(ROOT)
    write_lines(pod_log(d, TOOL, TOOL), a.lines)
    agent, agent_at = stack.agent(a.bin, d, "--suffix-bytes", "256MiB", "--rate-bytes", "1GiB", "--burst-bytes", "1GiB")
    gateway = None
    rounds, failures = [], []
    try:
        gateway, gateway_at = stack.gateway(a.bin, d, [("node-1", agent_at)], "--trusted-proxy", "127.0.0.1/32", "--rate-limit", "100000")
        ingested = peers.wait_until(lambda: f"line {a.lines - 1} ".encode() in last_line(gateway_at), 120, 0.5)
        if ingested is None:
            raise SystemExit("the agent never ingested the log")
        # Warm-up: each read once to its end, so that idle counts the pools' threads they start.
        for query, accept in READS:
            read(gateway_at, query, accept, whole=True)
        processes = {"gateway": gateway.pid, "agent": agent.pid}
        # Past the idle timeout of the gateway's connections to the agent (10 s): idle is idle.
        time.sleep(12)
        seconds_to_idle(processes)
        idle = {name: footprint(pid) for name, pid in processes.items()}
        for number in range(a.rounds):
            stop = threading.Event()
            readers = [Reader(gateway_at, k, stop) for k in range(a.readers)]
            for reader in readers:
                reader.start()
            time.sleep(a.duration)
            stop.set()
            for reader in readers:
                reader.join(timeout=15)
            row = {"round": number + 1, "statuses": {}}
            for reader in readers:
                for status, count in reader.statuses.items():
                    row["statuses"][status] = row["statuses"].get(status, 0) + count
            # All timed from the round's end.
            row["reads_at_end"] = reads_running(agent_at)
            after = {name: footprint(pid) for name, pid in processes.items()}
            for name, seconds in seconds_to_idle(processes).items():
                row[name] = {"idle_after": seconds}
                row[name]["threads"], row[name]["fds"], row[name]["rss"] = after[name]
            row["reads_running"] = reads_running(agent_at)
            # The gateway's idle connections to the agent close after 10 s (a descriptor on
            # each side); the pools' threads end when idle.
            for name, pid in processes.items():
                row[name]["back"] = seconds_to_footprint(pid, *idle[name][:2], limit=FOOTPRINT_SECONDS)
                row[name]["rss_back"] = stack.rss_mib(pid)
            rounds.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    finally:
        peers.stop(gateway)
        peers.stop(agent)
        shutil.rmtree(d, ignore_errors=True)

    print(f"{a.readers} readers hanging up after their first chunk, {a.rounds} rounds of {a.duration:.0f} s, "
          f"a log of {a.lines:,} lines; idle after a warm-up of the same reads")
    print()
    print("| round | reads (status: count) | process | CPU idle after | right after: threads, descriptors, RSS "
          "| threads and descriptors back to idle after | then RSS | agent reads at the end / once idle |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rounds:
        statuses = ", ".join(f"{k}: {v:,}" for k, v in sorted(row["statuses"].items()))
        reads = f"{row['reads_at_end']} / {row['reads_running']}"
        for name in ("gateway", "agent"):
            m = row[name]
            after = "never (10 s)" if m["idle_after"] is None else f"{m['idle_after']:.2f} s"
            back = f"never ({FOOTPRINT_SECONDS} s)" if m["back"] is None else f"{m['back']:.1f} s"
            print(f"| {row['round']} | {statuses if name == 'gateway' else ''} | {name} | {after} | {m['threads']}, {m['fds']}, {m['rss']:.1f} MiB "
                  f"| {back} | {m['rss_back']:.1f} MiB | {reads if name == 'agent' else ''} |")
            if m["idle_after"] is None or m["idle_after"] > a.idle_within:
                failures.append(f"{name}: CPU not idle within {a.idle_within:g} s after round {row['round']}")
            if m["back"] is None:
                failures.append(f"{name}: threads or descriptors not back to idle within {FOOTPRINT_SECONDS} s after round {row['round']}")
            if m["rss_back"] > idle[name][2] + 16:
                failures.append(f"{name}: RSS {m['rss_back']:.1f} MiB, more than 16 MiB over idle ({idle[name][2]:.1f})")
        if row["reads_running"]:
            failures.append(f"agent: {row['reads_running']} reads running or waiting once idle after round {row['round']}")
        answered = row["statuses"].get("200", 0)
        if answered < 0.9 * sum(row["statuses"].values()):
            failures.append(f"round {row['round']}: {answered} of {sum(row['statuses'].values())} reads answered 200")
    print("\n" + ", ".join(f"{name} idle: {idle[name][0]} threads, {idle[name][1]} descriptors, {idle[name][2]:.1f} MiB" for name in ("gateway", "agent")))
    for name in ("gateway", "agent"):
        if rounds[-1][name]["threads"] > rounds[0][name]["threads"] + SPARE_THREADS:
            failures.append(f"{name}: threads grew over the rounds")
        # Growing: the last round over every one before it (a leak grows each round; the
        # allocator's slack settles after the first).
        growth = rounds[-1][name]["rss_back"] - max(r[name]["rss_back"] for r in rounds[:-1]) if len(rounds) > 1 else 0.0
        print(f"\n{name}: RSS after the last round over the highest before it: {growth:+.1f} MiB")
        if growth > 4:
            failures.append(f"{name}: RSS grew {growth:.1f} MiB in the last round")
    for failure in failures:
        print(f"MISSED: {failure}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
