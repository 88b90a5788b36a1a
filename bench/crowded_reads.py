#!/usr/bin/env python3
"""Crowded reads (issue 21): one tool's heavy reads next to another tool's live tail, on one
node agent (release build). Tool A has one ring of 1,000,000 lines; tool B gets a line every
10 ms, followed through the agent; tool C has a ring of 100,000 lines.

Three kinds of round, interleaved, each `--duration` seconds:
  alone     B's follow alone, and one download of C
  crowded   the same while 8 readers of A read again and again: half greps that match
            nothing, half whole downloads, text and NDJSON; each retries a 429 after the
            Retry-After it was given (the 429s are counted)
  A alone   A's 8 readers with the node to themselves: the scan rate they get alone
B's delay is each line's write time (in the line) to its arrival at the follower: p50 and p99
per round, the median of the rounds. A's rate: lines scanned per second by the reads that
ended in the round (a read that matches nothing scans the whole ring). C's download: seconds,
the median of 3 in the round.

  python3 bench/crowded_reads.py [--rounds 3] [--duration 10] [--lines 1000000] [--bin .build/release]
                                 [--agent-arg=--read-threads=2 ...]

Loopback only; every process stopped by its PID; every loop bounded by time; files under the
peers' ROOT (/tmp/peers/crowded), removed at the end.
"""
import argparse, http.client, json, os, shutil, statistics, sys, threading, time, urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from stack import agent, peers, TOKEN  # noqa: E402

ROOT = os.path.join(peers.ROOT, "crowded")
AUTH = {"Authorization": f"Bearer {TOKEN}"}


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


def request(at, path, headers=None, timeout=120):
    host, port = at.rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    connection.request("GET", path, headers={**AUTH, **(headers or {})})
    return connection, connection.getresponse()


def rings(at):
    connection, response = request(at, "/internal/v2/rings")
    body = json.loads(response.read())
    connection.close()
    return {r["tool"]: r for r in body["rings"] if r["kind"] != "activity"}


class Follower(threading.Thread):
    """B's follow through the agent: each line's delay from its write time, in ms."""

    def __init__(self, at, ring, after):
        super().__init__(daemon=True)
        self.at, self.ring, self.after = at, ring, after
        self.delays, self.stop = [], threading.Event()

    def run(self):
        connection, response = request(self.at, f"/internal/v2/rings/{self.ring}/logs?follow=true&after={self.after}",
                                       {"Accept": "application/x-ndjson"}, timeout=5)
        try:
            while not self.stop.is_set():
                line = response.readline()
                if not line:
                    return
                item = json.loads(line)
                if item.get("type") == "log" and "wt=" in item.get("message", ""):
                    self.delays.append((time.time_ns() - int(item["message"].split("wt=")[1])) / 1e6)
        except (TimeoutError, OSError):
            pass
        finally:
            connection.close()


class Writer(threading.Thread):
    """B's container: a line every 10 ms, carrying its write time."""

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


class Reader(threading.Thread):
    """One of A's readers: the same read again and again until told to stop; a 429 waits as
    its Retry-After says."""

    def __init__(self, at, ring, query, accept, lines):
        super().__init__(daemon=True)
        self.at, self.path, self.accept, self.lines = at, f"/internal/v2/rings/{ring}/logs?{query}", accept, lines
        self.stop, self.scanned, self.refused, self.done = threading.Event(), 0, 0, 0

    def run(self):
        while not self.stop.is_set():
            try:
                connection, response = request(self.at, self.path, {"Accept": self.accept})
                if response.status == 429:
                    response.read()
                    connection.close()
                    self.refused += 1
                    self.stop.wait(float(response.getheader("Retry-After", "1")))
                    continue
                while response.read(1 << 20):
                    if self.stop.is_set():
                        break
                else:
                    self.scanned += self.lines
                    self.done += 1
                connection.close()
            except (TimeoutError, OSError, http.client.HTTPException):
                self.stop.wait(0.1)


def download_seconds(at, ring):
    t = time.time()
    connection, response = request(at, f"/internal/v2/rings/{ring}/logs", {"Accept": "text/plain"})
    while response.read(1 << 20):
        pass
    connection.close()
    return time.time() - t


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] if values else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--bin", default=os.path.join(REPO, ".build", "release"))
    ap.add_argument("--agent-arg", action="append", default=[], help="passed on to logs-agent")
    ap.add_argument("--label", default="", help="what the binaries are, for the table")
    a = ap.parse_args()
    d = peers.fresh(ROOT)
    write_lines(pod_log(d, "a", "big"), a.lines)
    write_lines(pod_log(d, "c", "dl"), 100_000)
    live = pod_log(d, "b", "live")
    open(live, "w").close()
    proc, at = agent(a.bin, d, "--prefix-bytes", "1MiB", "--suffix-bytes", "256MiB", "--budget-bytes", "4GiB",
                     "--rate-bytes", "1GiB", "--burst-bytes", "1GiB", *a.agent_arg)
    writer = Writer(live)
    try:
        ready = peers.wait_until(lambda: (lambda r: r.get("a", {}).get("records_written") == a.lines
                                          and r.get("c", {}).get("records_written") == 100_000)(rings(at)), 180, 0.5)
        assert ready is not None, f"the agent did not ingest the data set: {rings(at)}"
        writer.start()
        ring = peers.wait_until(lambda: rings(at).get("b"), 20, 0.1)
        assert ring is not None, "no ring for tool B"
        inventory = rings(at)
        a_ring, b_ring, c_ring = inventory["a"]["id"], inventory["b"]["id"], inventory["c"]["id"]
        reads = [("grep=nothing-matches-this", "text/plain"), ("grep=nothing-matches-this", "application/x-ndjson"),
                 ("", "text/plain"), ("", "application/x-ndjson")] * 2
        results = {"alone": [], "crowded": [], "A alone": []}
        for _ in range(a.rounds):
            for kind in ("alone", "crowded", "A alone"):
                follower = None
                if kind != "A alone":
                    end = rings(at)["b"]["end_seq"]
                    follower = Follower(at, b_ring, end)
                    follower.start()
                readers = [Reader(at, a_ring, query, accept, a.lines) for query, accept in reads] if kind != "alone" else []
                for reader in readers:
                    reader.start()
                time.sleep(1.0)
                started = time.time()
                download = statistics.median(download_seconds(at, c_ring) for _ in range(3)) if kind != "A alone" else None
                time.sleep(max(0.0, a.duration - (time.time() - started)))
                elapsed = time.time() - started
                for reader in readers:
                    reader.stop.set()
                if follower:
                    follower.stop.set()
                for thread in readers + ([follower] if follower else []):
                    thread.join(timeout=30)
                delays = follower.delays if follower else []
                results[kind].append({"p50": pct(delays, 0.5), "p99": pct(delays, 0.99), "lines": len(delays),
                                      "download": download, "scan": sum(r.scanned for r in readers) / elapsed,
                                      "refused": sum(r.refused for r in readers)})
                print(f"{kind}: {results[kind][-1]}", file=sys.stderr, flush=True)
    finally:
        writer.stop.set()
        peers.stop(proc)
        shutil.rmtree(d, ignore_errors=True)

    def median(kind, key):
        values = [r[key] for r in results[kind] if r[key] is not None]
        return statistics.median(values) if values else float("nan")

    label = f" ({a.label})" if a.label else ""
    print(f"| round{label} | B's follow p50 / p99 | B's lines | C's download of 100,000 lines | A's scan rate | 429s to A |")
    print("|---|---|---|---|---|---|")
    for kind in ("alone", "crowded", "A alone"):
        follow = "-" if kind == "A alone" else f"{median(kind, 'p50'):.1f} / {median(kind, 'p99'):.1f} ms"
        lines = "-" if kind == "A alone" else f"{median(kind, 'lines'):,.0f}"
        download = "-" if kind == "A alone" else f"{median(kind, 'download'):.2f} s"
        scan = "-" if kind == "alone" else f"{median(kind, 'scan'):,.0f} lines/s"
        refused = "-" if kind == "alone" else f"{median(kind, 'refused'):.0f}"
        print(f"| {kind} | {follow} | {lines} | {download} | {scan} | {refused} |")
    alone_p99, crowded_p99 = median("alone", "p99"), median("crowded", "p99")
    print(f"\nB's p99 crowded: {crowded_p99:.1f} ms, target <= 2 x {alone_p99:.1f} + 5 = {2 * alone_p99 + 5:.1f} ms; "
          f"A's scan rate crowded / alone: {median('crowded', 'scan') / max(median('A alone', 'scan'), 1e-9):.0%} (target >= 50 %); "
          f"C's download crowded / alone: {median('crowded', 'download') / median('alone', 'download'):.2f}x (target <= 2.5x)")


if __name__ == "__main__":
    main()
