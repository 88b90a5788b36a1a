#!/usr/bin/env python3
"""Crowded reads (issue 21): one tool's heavy reads next to another tool's live tail, on one
node agent (release build), read through the agent, through a gateway in front of it, or both
(one table each). Tool A has one ring of 1,000,000 lines; tool B gets a line every 10 ms,
followed; tool C has a ring of 100,000 lines.

Three kinds of round, interleaved, each `--duration` seconds:
  alone     B's follow alone, and one download of C
  crowded   the same while 8 readers of A (processes of their own, sharing the two cores with
            the service: `--readers-nice` lowers them) read again and again: half greps that match
            nothing, half whole downloads, text and NDJSON; each retries a 429 after the
            Retry-After it was given (the 429s that reach the reader are counted)
  A alone   A's 8 readers with the node to themselves: the scan rate they get alone
B's delay is each line's write time (in the line) to its arrival at the follower: p50 and p99
per round, the median of the rounds; B's lines are numbered, and a number missing between the
first and the last that arrived is a line not delivered. A's rate: lines scanned per second by
the reads that ended in the round (a read that matches nothing scans the whole ring; a download
counts only when all its lines came). C's download: seconds, the median of 3 in the round.

Through the agent: its ring reads (`/internal/v2/rings/ID/logs`) with its bearer token.
Through the gateway: the public reads (`/v1/tool/TOOL/job/JOB/logs`; B's follow with
`follow=true&since=` the moment it starts, as the agent's follow starts after the ring's last
line: lines written before that moment that come all the same are left out, and said on
stderr), in proxy mode (identity headers from 127.0.0.1, as on the platform), each tool reading
as itself, the per-identity request rate limit raised (`--rate-limit 100000`). The gateway may
try an agent's 429 again itself: the 429s the agent gave in the round are shown next to those
that reached A's readers. Both paths use the same agent process and data; with `--via both`
the rounds of the two paths are interleaved as well. Per round, on stderr: the agent's and the
gateway's CPU, and in crowded rounds their busiest threads.

  python3 bench/crowded_reads.py [--via agent|gateway|both] [--rounds 3] [--duration 10] [--lines 1000000]
                                 [--bin .build/release] [--agent-arg=--read-threads=2 ...] [--gateway-arg=...]

Loopback only; every process stopped by its PID; every loop bounded by time; files under the
peers' ROOT (/tmp/peers/crowded), removed at the end.
"""
import argparse, http.client, json, multiprocessing, os, shutil, statistics, sys, threading, time, urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from stack import agent, gateway, peers, TOKEN  # noqa: E402

FORK = multiprocessing.get_context("fork")

ROOT = os.path.join(peers.ROOT, "crowded")
AUTH = {"Authorization": f"Bearer {TOKEN}"}
JOBS = {"a": "big", "b": "live", "c": "dl"}  # tool -> its pod, which is the job's name (no labels)
KINDS = ("alone", "crowded", "A alone")


def cri(ns, text):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 10**9)) + f".{ns % 10**9:09d}Z stdout F {text}\n"


def pod_log(d, tool, pod):
    # The pod's uid is the last part: one per pod, as the kubelet's are.
    directory = os.path.join(d, "pods", f"tool-{tool}_{pod}_uid-{tool}-{pod}", "job")
    os.makedirs(directory, exist_ok=True)
    return os.path.join(directory, "0.log")


def write_lines(path, count):
    now = time.time_ns() - count * 1000
    with open(path, "w") as f:
        for start in range(0, count, 10_000):
            f.write("".join(cri(now + i * 1000, f"line {i} GET /api/items/{i * 7919 % 10007} 200 {i % 997}ms")
                            for i in range(start, min(count, start + 10_000))))


def request(at, path, headers, timeout=120):
    host, port = at.rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    connection.request("GET", path, headers=headers)
    return connection, connection.getresponse()


def agent_json(at, path):
    connection, response = request(at, path, AUTH, timeout=10)
    body = json.loads(response.read())
    connection.close()
    return body


def rings(at):
    return {r["tool"]: r for r in agent_json(at, "/internal/v2/rings")["rings"] if r["kind"] != "activity"}


def agent_reads(at):
    """The agent's reads that may scan, running or waiting now (all tools), and its 429s so far."""
    stats = agent_json(at, "/internal/v2/stats")
    return sum(r["running"] + r["waiting"] for r in stats.get("reads") or []), stats.get("reads_refused") or 0


class ViaAgent:
    name, caption = "agent", "Through the agent (its ring reads, `/internal/v2/rings/ID/logs`, with its bearer token)"

    def __init__(self, at):
        self.at, self.proc = at, None
        self.ids = {tool: ring["id"] for tool, ring in rings(at).items()}

    def headers(self, tool):
        return AUTH

    def follow(self, tool):
        """The follow's path, and the write time before which its lines are not counted (none:
        it starts after the ring's last line)."""
        return f"/internal/v2/rings/{self.ids[tool]}/logs?follow=true&after={rings(self.at)[tool]['end_seq']}", None

    def read(self, tool, query=""):
        return f"/internal/v2/rings/{self.ids[tool]}/logs?{query}"


class ViaGateway:
    name = "gateway"
    caption = ("Through the gateway (`/v1/tool/TOOL/job/JOB/logs`, proxy mode: each tool reads as itself, "
               "`x-toolforge-tool` from 127.0.0.1; `--rate-limit 100000` a second per identity)")

    def __init__(self, at, proc, since_ns):
        self.at, self.proc, self.since = at, proc, since_ns

    def headers(self, tool):
        return {"x-toolforge-tool": tool}

    def follow(self, tool):
        # From this moment on (integer nanoseconds are taken for programs), as the agent's
        # follow's after=END_SEQ; lines written before it that come all the same are not
        # counted (they are reported on stderr).
        now = time.time_ns()
        return f"/v1/tool/{tool}/job/{JOBS[tool]}/logs?follow=true&since={now}", now

    def read(self, tool, query=""):
        # The data set's window: it is older than the default hour only if the run is long.
        return f"/v1/tool/{tool}/job/{JOBS[tool]}/logs?since={self.since}" + (f"&{query}" if query else "")


class Follower(threading.Thread):
    """B's follow: each line's delay from its write time, in ms, and its number."""

    def __init__(self, at, follow, headers):
        super().__init__(daemon=True)
        (self.path, self.not_before), self.at, self.headers = follow, at, headers
        self.delays, self.ticks, self.stop, self.failure, self.early = [], [], threading.Event(), None, []

    def run(self):
        try:
            connection, response = request(self.at, self.path, {**self.headers, "Accept": "application/x-ndjson"}, timeout=5)
        except (TimeoutError, OSError, http.client.HTTPException) as e:
            self.failure = f"connect: {e!r}"
            return
        try:
            if response.status != 200:
                self.failure = f"{response.status}: {response.read(300)!r}"
                return
            while not self.stop.is_set():
                line = response.readline()
                if not line:
                    self.failure = "the follow ended"
                    return
                if not line.strip():
                    continue
                item = json.loads(line)
                message = item.get("message", "")
                if item.get("type", "log") == "log" and "wt=" in message:
                    written = int(message.split("wt=")[1])
                    if self.not_before is not None and written < self.not_before:
                        self.early.append((self.not_before - written) / 1e6)
                        continue
                    self.delays.append((time.time_ns() - written) / 1e6)
                    self.ticks.append(int(message.split()[1]))
        except (TimeoutError, OSError, http.client.HTTPException) as e:
            if not self.stop.is_set():
                self.failure = repr(e)
        finally:
            connection.close()

    def missing(self):
        """Lines numbered between the first and the last that came, that did not come."""
        return (max(self.ticks) - min(self.ticks) + 1 - len(set(self.ticks))) if self.ticks else 0


class Writer(threading.Thread):
    """B's container: a line every 10 ms, carrying its number and its write time."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path, self.stop, self.written = path, threading.Event(), 0

    def run(self):
        with open(self.path, "a") as f:
            while not self.stop.is_set():
                now = time.time_ns()
                f.write(cri(now, f"tick {self.written} wt={now}"))
                f.flush()
                self.written += 1
                time.sleep(0.01)


class Reader(FORK.Process):
    """One of A's readers, a process of its own (as a client elsewhere would be: as threads of
    this one, their hold on the interpreter's lock delayed B's follower here, not in the
    service): the same read again and again until told to stop; a 429 waits as its
    Retry-After says. A download counts when all its lines came."""

    COUNTS = ("scanned", "refused", "done", "failed")

    def __init__(self, at, path, headers, accept, lines, whole, nice):
        super().__init__(daemon=True)
        self.at, self.path, self.headers, self.lines, self.whole = at, path, {**headers, "Accept": accept}, lines, whole
        self.nice = nice
        self.stop, self.counts, self.noted = FORK.Event(), FORK.Array("q", len(self.COUNTS)), FORK.Array("c", 300)

    def __getattr__(self, name):
        if name in Reader.COUNTS:
            return self.counts[Reader.COUNTS.index(name)]
        raise AttributeError(name)

    def count(self, name, by=1):
        self.counts[Reader.COUNTS.index(name)] += by

    @property
    def note(self):
        return self.noted.value.decode(errors="replace") or None

    def remember(self, text):
        if not self.noted.value:
            self.noted.value = text.encode()[:299]

    def run(self):
        os.nice(self.nice)
        while not self.stop.is_set():
            try:
                connection, response = request(self.at, self.path, self.headers)
                if response.status != 200:
                    body = response.read()
                    connection.close()
                    if response.status == 429:
                        self.count("refused")
                        self.stop.wait(float(response.getheader("Retry-After", "1")))
                    else:
                        self.count("failed")
                        self.remember(f"{response.status}: {body[:200]!r}")
                        self.stop.wait(0.5)
                    continue
                newlines = 0
                while chunk := response.read(1 << 20):
                    newlines += chunk.count(b"\n")
                    if self.stop.is_set():
                        break
                else:
                    if self.whole and newlines < self.lines:
                        self.count("failed")
                        self.remember(f"a download ended after {newlines:,} lines")
                    else:
                        self.count("scanned", self.lines)
                        self.count("done")
                connection.close()
            except (TimeoutError, OSError, http.client.HTTPException) as e:
                if not self.stop.is_set():
                    self.count("failed")
                    self.remember(repr(e))
                self.stop.wait(0.1)


def download_seconds(at, path, headers, want):
    """C's download of its whole ring as text: seconds, a 429's wait included (the 429s are
    reported on stderr: C should get none)."""
    started = time.time()
    for _ in range(20):
        connection, response = request(at, path, {**headers, "Accept": "text/plain"})
        if response.status == 429:
            response.read()
            connection.close()
            print(f"  C's download: 429, waiting {response.getheader('Retry-After', '1')} s", file=sys.stderr, flush=True)
            time.sleep(float(response.getheader("Retry-After", "1")))
            continue
        newlines = 0
        while chunk := response.read(1 << 20):
            newlines += chunk.count(b"\n")
        connection.close()
        if response.status != 200 or newlines < want:
            print(f"  C's download: {response.status}, {newlines:,} lines of {want:,}", file=sys.stderr, flush=True)
        return time.time() - started
    raise RuntimeError("C's download was refused 20 times")


def thread_ticks(pid):
    """A process's threads: {tid: (name, user + system clock ticks)}."""
    threads = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                text = f.read()
        except FileNotFoundError:
            continue
        name, fields = text[text.index("(") + 1:text.rindex(")")], text.rsplit(")", 1)[1].split()
        threads[tid] = (name, int(fields[11]) + int(fields[12]))
    return threads


def busiest(before, after, seconds, top=6):
    """The threads that used the most CPU between two thread_ticks, as % of one core."""
    used = sorted(((ticks - before.get(tid, (name, 0))[1], name, tid) for tid, (name, ticks) in after.items()), reverse=True)
    return ", ".join(f"{name}[{tid}] {100 * t / peers.CLK / seconds:.0f}%" for t, name, tid in used[:top] if t > 0)


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] if values else float("nan")


def quiet(at, seconds=20):
    """Waits until the agent runs no read that may scan (the last round's are gone): bounded."""
    if peers.wait_until(lambda: agent_reads(at)[0] == 0, seconds, 0.1) is None:
        print(f"  the agent still has reads running after {seconds} s", file=sys.stderr, flush=True)


def one_round(kind, via, agent_proc, agent_at, a, reads):
    quiet(agent_at)
    follower = None
    if kind != "A alone":
        follower = Follower(via.at, via.follow("b"), via.headers("b"))
        follower.start()
    readers = [Reader(via.at, via.read("a", query), via.headers("a"), accept, a.lines, not query, a.readers_nice)
               for query, accept in reads] if kind != "alone" else []
    for reader in readers:
        reader.start()
    time.sleep(1.0)
    procs = {"agent": agent_proc, "gateway": via.proc}
    cpu = {name: peers.procstat(p.pid)[0] for name, p in procs.items() if p}
    threads = {name: thread_ticks(p.pid) for name, p in procs.items() if p}
    refused_before = agent_reads(agent_at)[1]
    started = time.time()
    download = statistics.median(download_seconds(via.at, via.read("c"), via.headers("c"), 100_000)
                                 for _ in range(3)) if kind != "A alone" else None
    time.sleep(max(0.0, a.duration - (time.time() - started)))
    elapsed = time.time() - started
    usage = {name: f"{100 * (peers.procstat(p.pid)[0] - cpu[name]) / elapsed:.0f}%" for name, p in procs.items() if p}
    busy = {name: busiest(threads[name], thread_ticks(p.pid), elapsed) for name, p in procs.items() if p}
    agent_refused = agent_reads(agent_at)[1] - refused_before
    for reader in readers:
        reader.stop.set()
    if follower:
        follower.stop.set()
    for worker in readers + ([follower] if follower else []):
        worker.join(timeout=30)
    delays = follower.delays if follower else []
    result = {"p50": pct(delays, 0.5), "p99": pct(delays, 0.99), "lines": len(delays),
              "missing": follower.missing() if follower else None, "download": download,
              "scan": sum(r.scanned for r in readers) / elapsed, "refused": sum(r.refused for r in readers),
              "agent_refused": agent_refused}
    extra = {"max": max(delays) if delays else None, "first": delays[0] if delays else None,
             "reads_done": sum(r.done for r in readers), "reads_failed": sum(r.failed for r in readers), "cpu": usage}
    if via.proc:
        extra["gateway_rss_mib"] = round(peers.procstat(via.proc.pid)[1] / 1024, 1)
    print(f"{via.name}, {kind}: {result} {extra}", file=sys.stderr, flush=True)
    if follower and follower.failure:
        print(f"  B's follow: {follower.failure}", file=sys.stderr, flush=True)
    if follower and follower.early:
        print(f"  B's follow: {len(follower.early)} lines written before it started came (up to "
              f"{max(follower.early):.0f} ms before); not counted", file=sys.stderr, flush=True)
    for note in {r.note for r in readers if r.note}:
        print(f"  A's reader: {note}", file=sys.stderr, flush=True)
    if kind == "crowded":
        for name, text in busy.items():
            print(f"  {name}'s busiest threads: {text}", file=sys.stderr, flush=True)
    return result


def table(via, results, label):
    def median(kind, key):
        values = [r[key] for r in results[kind] if r[key] is not None]
        return statistics.median(values) if values else float("nan")

    def most(kind, key):
        return max((r[key] for r in results[kind] if r[key] is not None), default=0)

    through = f"through the {via.name}" + (f", {label}" if label else "")
    print(f"{via.caption}:\n")
    print(f"| round ({through}) | B's follow p50 / p99 | B's lines | C's download of 100,000 lines | A's scan rate | 429s to A |")
    print("|---|---|---|---|---|---|")
    for kind in KINDS:
        follow = "-" if kind == "A alone" else f"{median(kind, 'p50'):.1f} / {median(kind, 'p99'):.1f} ms"
        lines = "-" if kind == "A alone" else f"{median(kind, 'lines'):,.0f} ({most(kind, 'missing'):,} missing)"
        download = "-" if kind == "A alone" else f"{median(kind, 'download'):.2f} s"
        scan = "-" if kind == "alone" else f"{median(kind, 'scan'):,.0f} lines/s"
        refused = "-" if kind == "alone" else f"{median(kind, 'refused'):.0f}"
        if kind != "alone" and via.name == "gateway":
            refused += f" (the agent's: {median(kind, 'agent_refused'):.0f})"
        print(f"| {kind} | {follow} | {lines} | {download} | {scan} | {refused} |")
    alone_p99, crowded_p99 = median("alone", "p99"), median("crowded", "p99")
    share = median("crowded", "scan") / max(median("A alone", "scan"), 1e-9)
    slower = median("crowded", "download") / median("alone", "download")
    missing = max(most("alone", "missing"), most("crowded", "missing"))

    def verdict(ok):
        return "met" if ok else "not met"

    print(f"\nThrough the {via.name}: B's p99 crowded: {crowded_p99:.1f} ms, target <= 2 x {alone_p99:.1f} + 5 = "
          f"{2 * alone_p99 + 5:.1f} ms ({verdict(crowded_p99 <= 2 * alone_p99 + 5)}), "
          f"{'every line delivered' if missing == 0 else f'{missing} lines missing in a round'}; "
          f"A's scan rate crowded / alone: {share:.0%} (target >= 50 %: {verdict(share >= 0.5)}); "
          f"C's download crowded / alone: {slower:.2f}x (target <= 2.5x: {verdict(slower <= 2.5)})\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--via", choices=("agent", "gateway", "both"), default="both", help="the path of the reads (default both)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--bin", default=os.path.join(REPO, ".build", "release"))
    ap.add_argument("--agent-arg", action="append", default=[], help="passed on to logs-agent")
    ap.add_argument("--gateway-arg", action="append", default=[], help="passed on to logs-gateway")
    ap.add_argument("--label", default="", help="what the binaries are, for the table")
    ap.add_argument("--readers-nice", type=int, default=0,
                    help="A's readers' nice value (0: they compete with the service for the CPU, as measured in docs/; "
                         "on the platform they run on machines of their own)")
    a = ap.parse_args()
    d = peers.fresh(ROOT)
    since = time.time_ns() - a.lines * 1000 - 60 * 10**9  # before the data set's first line
    write_lines(pod_log(d, "a", "big"), a.lines)
    write_lines(pod_log(d, "c", "dl"), 100_000)
    live = pod_log(d, "b", "live")
    open(live, "w").close()
    proc, at = agent(a.bin, d, "--prefix-bytes", "1MiB", "--suffix-bytes", "256MiB", "--budget-bytes", "4GiB",
                     "--rate-bytes", "1GiB", "--burst-bytes", "1GiB", *a.agent_arg)
    writer = Writer(live)
    gateway_proc = None
    try:
        ready = peers.wait_until(lambda: (lambda r: r.get("a", {}).get("records_written") == a.lines
                                          and r.get("c", {}).get("records_written") == 100_000)(rings(at)), 180, 0.5)
        assert ready is not None, f"the agent did not ingest the data set: {rings(at)}"
        writer.start()
        ring = peers.wait_until(lambda: rings(at).get("b"), 20, 0.1)
        assert ring is not None, "no ring for tool B"
        vias = []
        if a.via in ("agent", "both"):
            vias.append(ViaAgent(at))
        if a.via in ("gateway", "both"):
            gateway_proc, gateway_at = gateway(a.bin, d, [("node-1", at)], "--trusted-proxy", "127.0.0.1/32",
                                               "--rate-limit", "100000", "--spec", os.path.join(REPO, "openapi", "openapi.yaml"),
                                               *a.gateway_arg)
            via = ViaGateway(gateway_at, gateway_proc, since)

            def answers(tool):
                connection, response = request(gateway_at, via.read(tool, "lines=1"), {**via.headers(tool), "Accept": "text/plain"}, 10)
                response.read()
                connection.close()
                return response.status == 200

            assert peers.wait_until(lambda: all(answers(tool) for tool in JOBS), 30, 0.2) is not None, \
                f"the gateway does not serve the three tools: see {d}/gateway.log"
            vias.append(via)
        reads = [("grep=nothing-matches-this", "text/plain"), ("grep=nothing-matches-this", "application/x-ndjson"),
                 ("", "text/plain"), ("", "application/x-ndjson")] * 2
        results = {via.name: {kind: [] for kind in KINDS} for via in vias}
        for _ in range(a.rounds):
            for via in vias:
                for kind in KINDS:
                    results[via.name][kind].append(one_round(kind, via, proc, at, a, reads))
    finally:
        writer.stop.set()
        peers.stop(gateway_proc)
        peers.stop(proc)
        shutil.rmtree(d, ignore_errors=True)

    for via in vias:
        table(via, results[via.name], a.label)


if __name__ == "__main__":
    main()
