#!/usr/bin/env python3
"""Fault runs of the whole pipeline, container log -> agent -> gateway -> follower (NDJSON), with
figures for docs/reliability.md:

  rotation-rename        a container writes numbered lines while a follower reads them through the
                         gateway; the log is rotated the kubelet's way four times on the way (renamed
                         to 0.log.<time>, the runtime writing one more burst to the renamed file
                         before it reopens 0.log): every line reaches the follower once, in order
  rotation-copytruncate  the same, rotated by copytruncate (copied to 0.log.<time>, then truncated in
                         place while the writer appends on to its O_APPEND file). The writer pauses
                         during copy and truncate, as logrotate's window is short; lines the agent
                         had not read when the file was truncated are lost to any reader (that is
                         copytruncate): counted apart as the "unread tail" of a copy, not a failure
  slow-follower          two followers of a busy job read normally, a third reads 64 KiB every 2 s
                         through a 4 KiB receive buffer: the others' delivery delay without and with
                         it, next to the agent's ingest delay, and what the slow one got
  stalled-follower       a follower stops reading while its job writes 20,000 lines a second: the
                         gateway's memory stays flat (no backlog held for it), the other follower
                         gets every line, the stalled one too once it reads again
  agent-stop             two agents, one job and one follower on each; one agent stopped (SIGTERM)
                         for 3 s and started again on its port: what its follower is told, that it
                         then gets every line once, and the other follower's delay meanwhile

  python3 faults/pipeline_faults.py [--short] [--only NAME] [--bin .build/release]

Delays are from the write time carried in each line to its receipt by the Python reader; at the
rotation runs' 20,000 lines/s they are the gateway's throughput more than its latency.

Loopback only; every process is stopped by its PID; every loop is bounded in count and time.
Exits 1 if a line is lost (other than copytruncate's unread tail), duplicated or out of order.
"""
import argparse, http.client, json, os, shutil, socket, subprocess, sys, tempfile, threading, time, urllib.request
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_faults import Agent, TOKEN, pod_dir, stamp  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Gateway:
    def __init__(self, binary, root):
        self.binary, self.root = binary, root
        self.process, self.at = None, None

    def start(self, agents):
        """agents: (node, HOST:PORT) pairs."""
        cmd = [self.binary, "--listen", "127.0.0.1:0", "--agent-token-file", os.path.join(self.root, "token"),
               "--trusted-proxy", "127.0.0.1/32", "--rate-limit", "1000", "--follows-per-tool", "100",
               "--spec", os.path.join(REPO, "openapi", "openapi.yaml")]
        for node, at in agents:
            cmd += ["--agent", f"{node}=http://{at}"]
        self.process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=open(os.path.join(self.root, "gateway.log"), "a"), text=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            line = self.process.stdout.readline()
            if "ready on" in line:
                self.at = line.strip().rsplit(" ", 1)[1]
                return self
            if not line and self.process.poll() is not None:
                break
        raise RuntimeError(f"the gateway did not start: see {self.root}/gateway.log")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(20)

    def wait_for_job(self, job):
        """Until the gateway serves the job's warm-up line (it has indexed the agent's ring)."""
        request = urllib.request.Request(f"http://{self.at}/v1/tool/demo/job/{job}/logs?lines=1", headers={"x-toolforge-tool": "demo"})
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                if b"warm-up" in urllib.request.urlopen(request, timeout=5).read():
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the gateway does not know job {job}")

    def rss_mib(self):
        with open(f"/proc/{self.process.pid}/status") as f:
            return int(next(l for l in f if l.startswith("VmRSS")).split()[1]) / 1024

    def peak_rss_mib(self):
        with open(f"/proc/{self.process.pid}/status") as f:
            return int(next(l for l in f if l.startswith("VmHWM")).split()[1]) / 1024


class Follower:
    """One NDJSON follow read on a thread of its own: the numbered lines as they came (number,
    write time, receipt time), and whatever else the stream said. `slow` reads 64 KiB, then
    nothing for 2 s, through a 4 KiB receive buffer, until `drain` is set."""

    def __init__(self, at, path, headers, label, expect, slow=False):
        self.path, self.headers, self.label, self.expect, self.slow = path, headers, label, expect, slow
        self.lines, self.messages, self.gaps = [], [], []
        self.end = None
        self.first = threading.Event()
        self.drain = threading.Event()
        self.closing = False
        host, port = at.rsplit(":", 1)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if slow:
            # Before connect, so that the window the gateway sees is small from the start.
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.settimeout(60)
        self.sock.connect((host, int(port)))
        self.connection = http.client.HTTPConnection(host, int(port))
        self.connection.sock = self.sock
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        try:
            self.connection.request("GET", self.path, headers={"Accept": "application/x-ndjson", **self.headers})
            response = self.connection.getresponse()
            if response.status != 200:
                self.end = f"HTTP {response.status}: {response.read(1000)!r}"
                return
            seen, unread = set(), 0
            while len(seen) < self.expect:
                raw = response.readline()
                if not raw:
                    self.end = "closed by the script" if self.closing else "the server ended the stream"
                    return
                now = time.time_ns()
                item = json.loads(raw)
                self.first.set()
                if item["type"] == "log":
                    words = (item.get("message") or "").split(" ", 3)
                    if words[0] == self.label:
                        self.lines.append((int(words[1]), int(words[2]), now))
                        seen.add(int(words[1]))
                elif item["type"] == "gap":
                    self.gaps.append(item)
                elif item["type"] == "message":
                    self.messages.append((now, item.get("level"), item.get("message")))
                unread += len(raw)
                if self.slow and unread >= 64 * 1024:
                    unread = 0
                    for _ in range(20):
                        if self.drain.wait(0.1):
                            break
            self.end = "it had every line"
        except (OSError, ValueError, http.client.HTTPException) as error:
            self.end = "closed by the script" if self.closing else f"cut: {error!r}"
        finally:
            self.first.set()

    def numbers(self):
        return [n for n, _, _ in self.lines]

    def count(self):
        return len(set(self.numbers()))

    def wait(self, seconds):
        """Until it has every line, its stream ended, or `seconds` passed."""
        deadline = time.time() + seconds
        while self.thread.is_alive() and time.time() < deadline:
            self.thread.join(0.1)

    def close(self):
        self.closing = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.thread.join(10)
        self.connection.close()


def follow_job(gateway, job, label, expect, slow=False):
    follower = Follower(gateway.at, f"/v1/tool/demo/job/{job}/logs?follow=true&lines=1", {"x-toolforge-tool": "demo"}, label, expect, slow)
    # lines=1 hands over the warm-up line first: once it is here the follow is on, and every
    # line written after it will come.
    if not follower.first.wait(20) or follower.end:
        raise RuntimeError(f"the follow of job {job} did not start: {follower.end}")
    return follower


def follow_agent(agent, pod, label, expect):
    """The ring followed at the agent itself: the ingest delay, without the gateway."""
    ring = agent.ring(pod)
    follower = Follower(agent.at, f"/internal/v2/rings/{ring['id']}/logs?follow=true&lines=1", {"Authorization": f"Bearer {TOKEN}"},
                        label, expect)
    if not follower.first.wait(20) or follower.end:
        raise RuntimeError(f"the agent follow of {pod} did not start: {follower.end}")
    return follower


def paced(path, label, total, burst, interval, pad="", after_burst=None):
    """Appends `total` lines `<label> <n> <write time ns><pad>`, `burst` at a time every
    `interval` s; `after_burst(out, written)` may hand back another file to write to."""
    out = open(path, "a")
    started = time.monotonic()
    for k, first in enumerate(range(0, total, burst), 1):
        out.write("".join(f"{stamp()} stdout F {label} {n} {time.time_ns()}{pad}\n" for n in range(first, min(total, first + burst))))
        out.flush()
        time.sleep(max(0.0, started + k * interval - time.monotonic()))
        if after_burst:
            out = after_burst(out, min(total, first + burst))
    out.close()
    return time.monotonic() - started


def new_container(root, pod):
    """A container's log with a warm-up line, so that the agent has its ring before the test."""
    log = os.path.join(pod_dir(root, pod), "0.log")
    with open(log, "w") as out:
        out.write(f"{stamp()} stdout F warm-up\n")
    with open(os.path.join(root, "token"), "w") as f:
        f.write(TOKEN + "\n")
    return log


def tally(numbers, total):
    seen, top, late = set(), -1, 0
    for n in numbers:
        if n not in seen and n < top:
            late += 1
        seen.add(n)
        top = max(top, n)
    return {"lost": total - len(seen & set(range(total))), "duplicated": len(numbers) - len(seen), "out of order": late}


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else float("nan")


def delays(lines):
    """p50 / p99 of write -> receipt, in ms."""
    ms = [(got - wrote) / 1e6 for _, wrote, got in lines]
    return f"{pct(ms, 50):.2f} / {pct(ms, 99):.2f}"


def stop_all(*processes):
    for process in processes:
        try:
            process.stop()
        except Exception as error:  # the others must still be stopped
            print(f"stopping {process}: {error!r}", file=sys.stderr)


def rotation_round(a, root, how):
    """One follower, one container rotated four times: (the follower, the line numbers the
    agent's ring holds, the line numbers at which 0.log was truncated, the writer's pauses in ms)."""
    total, every = a.lines, a.lines // 5
    log = new_container(root, "rotating")
    agent = Agent(os.path.join(a.bin, "logs-agent"), root)
    gateway = Gateway(os.path.join(a.bin, "logs-gateway"), root)
    follower = None
    truncated_at, pauses, reopen = [], [], []
    base = int(time.time())

    def rotate(out, written):
        if reopen:
            out.close()
            out = open(log, "a")
            reopen.clear()
        if written >= total or written // every == len(pauses):
            return out
        # The kubelet's names: the time of the rotation, so that they sort in order.
        rotated = f"{log}.{time.strftime('%Y%m%d-%H%M%S', time.gmtime(base + len(pauses)))}"
        paused = time.monotonic()
        if how == "rename":
            os.rename(log, rotated)
            # The runtime writes on to the renamed file until the kubelet has it reopen the log.
            reopen.append(True)
        else:
            # As between bursts, the agent has at least 10 ms to read the last lines before the copy.
            time.sleep(0.01)
            paused = time.monotonic()
            shutil.copyfile(log, rotated)
            os.truncate(log, 0)
            truncated_at.append(written)
        pauses.append((time.monotonic() - paused) * 1000)
        return out

    try:
        agent.start()
        gateway.start([("node-1", agent.at)]).wait_for_job("rotating")
        follower = follow_job(gateway, "rotating", "line", total)
        paced(log, "line", total, 200, 0.01, after_burst=rotate)
        follower.wait(30)
        # What the agent kept, to tell a line it never read from one lost on the way to the follower.
        ring = agent.ring("rotating")["id"]
        items = [json.loads(l) for l in agent.get(f"/internal/v2/rings/{ring}/logs?after=0").splitlines()]
        kept = [int(i["message"].split()[1]) for i in items if i["type"] == "log" and i["message"].startswith("line ")]
    finally:
        if follower:
            follower.close()
        stop_all(gateway, agent)
    return follower, kept, truncated_at, pauses


def rotation(a, root, how):
    total = a.lines
    sums, pauses, lines, ends = Counter(), [], [], set()
    for k in range(a.rounds):
        directory = os.path.join(root, str(k))
        os.makedirs(directory)
        follower, kept, truncated_at, paused = rotation_round(a, directory, how)
        numbers = follower.numbers()
        never = set(range(total)) - set(kept)
        # Not in the ring, at the end of a copy up to its truncate: the agent had not read them
        # when the file was cut, so no reader could have (copytruncate's own loss).
        unread = set()
        for t in truncated_at:
            n = t - 1
            sums["copies cut short"] += n in never
            while n in never:
                unread.add(n)
                n -= 1
        sums.update(tally(numbers, total))
        sums.update({"rotations": len(paused), "received": len(numbers), "kept": len(kept), "kept twice": len(kept) - len(set(kept)),
                     "unread tail": len(unread), "never ingested otherwise": len(never - unread),
                     "lost after the agent": len(set(kept) - set(numbers)), "gaps": len(follower.gaps), "messages": len(follower.messages)})
        pauses += paused
        lines += follower.lines
        ends.add(follower.end)
    result = {"rounds (a fresh agent, gateway and follower each)": a.rounds, "rotations": f"{sums['rotations']} ({how})",
              "lines written": total * a.rounds, "lines received": sums["received"], "lost": sums["lost"],
              "duplicated": sums["duplicated"], "out of order": sums["out of order"],
              "agent's ring: lines kept / kept twice": f"{sums['kept']:,} / {sums['kept twice']}"}
    if how == "copytruncate":
        result.update({"lines written between copy and truncate": "0 (the writer paused; it waited 10 ms before each copy)",
                       "writer paused per copy + truncate, max (ms)": f"{max(pauses):.1f}",
                       "lost, never ingested: unread tail of a copy (inherent) / otherwise":
                           f"{sums['unread tail']} ({sums['copies cut short']} of {sums['rotations']} copies) / {sums['never ingested otherwise']}"})
    else:
        result["lost, never ingested"] = sums["never ingested otherwise"]
    result.update({"lost between the agent and the follower": sums["lost after the agent"],
                   "gaps / messages received": f"{sums['gaps']} / {sums['messages']}",
                   "delivery delay p50 / p99 (ms)": delays(lines), "followers' streams": "; ".join(sorted(ends))})
    ok = sums["never ingested otherwise"] == sums["lost after the agent"] == sums["duplicated"] == sums["out of order"] == 0
    return ok, result


def slow_run(a, root, with_slow):
    total = int(a.rate * a.seconds)
    log = new_container(root, "busy")
    agent = Agent(os.path.join(a.bin, "logs-agent"), root)
    gateway = Gateway(os.path.join(a.bin, "logs-gateway"), root)
    followers, at_agent, slow = [], None, None
    try:
        agent.start()
        gateway.start([("node-1", agent.at)]).wait_for_job("busy")
        at_agent = follow_agent(agent, "busy", "busy", total)
        followers = [follow_job(gateway, "busy", "busy", total) for _ in range(2)]
        if with_slow:
            slow = follow_job(gateway, "busy", "busy", total, slow=True)
        # A line of about 200 bytes, 500 a second: a busy job, well within the rate limit.
        paced(log, "busy", total, 5, 5 / a.rate, pad=" " + "x" * 150)
        for follower in followers + [at_agent]:
            follower.wait(30)
        if slow:
            behind = slow.count()
            slow.drain.set()
            slow.wait(60)
        rss = gateway.peak_rss_mib()
    finally:
        for follower in followers + [at_agent, slow]:
            if follower:
                follower.close()
        stop_all(gateway, agent)
    normal = [tally(f.numbers(), total) for f in followers]
    ok = all(t == {"lost": 0, "duplicated": 0, "out of order": 0} for t in normal)
    result = {"lines written": total,
              "normal followers: lines received": " / ".join(f"{len(f.lines):,}" for f in followers),
              "normal followers: lost / duplicated / out of order": " ; ".join(f"{t['lost']} / {t['duplicated']} / {t['out of order']}" for t in normal),
              "normal followers: delay p50 / p99 (ms)": delays([l for f in followers for l in f.lines]),
              "agent's own follow (ingest): delay p50 / p99 (ms)": delays(at_agent.lines),
              "gateway peak RSS (MiB)": f"{rss:.1f}"}
    if slow:
        t = tally(slow.numbers(), total)
        # It may be cut off or skip lines, but only saying so: a gap item, or a cut stream.
        ok = ok and t["duplicated"] == t["out of order"] == 0 and (t["lost"] == 0 or slow.gaps or slow.end.startswith("cut"))
        result.update({"slow follower: lines when the others had all": f"{behind:,}",
                       "slow follower: lines after reading at full speed": f"{len(slow.lines):,} ({t['lost']} lost, {t['duplicated']} duplicated, {t['out of order']} out of order)",
                       "slow follower: gaps / messages": f"{len(slow.gaps)} / {len(slow.messages)}" + "".join(f"; {m[2]}" for m in slow.messages),
                       "slow follower: its stream": slow.end})
    return ok, result


def slow_follower(a, root):
    runs = []
    for with_slow in (False, True):
        directory = os.path.join(root, "with" if with_slow else "without")
        os.makedirs(directory)
        runs.append(slow_run(a, directory, with_slow))
    keys = list(runs[1][1])
    return runs[0][0] and runs[1][0], {k: (runs[0][1].get(k, "-"), runs[1][1][k]) for k in keys}


def stalled_follower(a, root):
    """A follower that stops reading while its job writes fast (20,000 lines a second, the rate
    limit lifted): the gateway must not hold the backlog for it. Its memory stays flat, the
    other follower gets every line at once, and the stalled one, reading again, gets every line
    once (caught up from the agent by cursor)."""
    total, rate = a.stalled_lines, 20_000
    log = new_container(root, "flood")
    # A ring that holds the whole flood (256 MiB): what the stalled follower misses is then only
    # what the gateway failed to get it, not what rolled over.
    agent = Agent(os.path.join(a.bin, "logs-agent"), root, "--rate-bytes", "1GiB", "--burst-bytes", "1GiB", "--suffix-bytes", "256MiB")
    gateway = Gateway(os.path.join(a.bin, "logs-gateway"), root)
    normal = stalled = None
    try:
        agent.start()
        gateway.start([("node-1", agent.at)]).wait_for_job("flood")
        normal = follow_job(gateway, "flood", "flood", total)
        stalled = follow_job(gateway, "flood", "flood", total, slow=True)
        before = gateway.rss_mib()
        paced(log, "flood", total, 200, 200 / rate, pad=" " + "x" * 100)
        normal.wait(60)
        had = stalled.count()
        after = gateway.rss_mib()
        stalled.drain.set()
        stalled.wait(120)
    finally:
        for follower in (normal, stalled):
            if follower:
                follower.close()
        stop_all(gateway, agent)
    t, s = tally(normal.numbers(), total), tally(stalled.numbers(), total)
    clean = lambda t: t == {"lost": 0, "duplicated": 0, "out of order": 0}
    ok = clean(t) and clean(s) and after - before < a.stalled_growth_mib
    return ok, {"lines written (20,000 a second; ring suffix 256 MiB)": total,
                "gateway RSS before → with the backlog (MiB)": f"{before:.1f} → {after:.1f} (bound: +{a.stalled_growth_mib})",
                "normal follower: lines / lost / duplicated / out of order": f"{len(normal.lines):,} / {t['lost']} / {t['duplicated']} / {t['out of order']}",
                "stalled follower: lines while stalled": f"{had:,}",
                "stalled follower, reading again: lines / lost / duplicated / out of order": f"{len(stalled.lines):,} / {s['lost']} / {s['duplicated']} / {s['out of order']}",
                "stalled follower: its stream": stalled.end}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def agent_stop(a, root):
    rate, up, down = 100, a.up, 3.0
    total = int(rate * (up + a.stops * (down + up) + 1))
    roots = {node: os.path.join(root, node) for node in ("node-1", "node-2")}
    logs = {"a": new_container(roots["node-1"], "a"), "b": new_container(roots["node-2"], "b")}
    with open(os.path.join(root, "token"), "w") as f:
        f.write(TOKEN + "\n")
    # The gateway knows an agent by the address it was given: node-1 must come back on the same port.
    agents = {node: Agent(os.path.join(a.bin, "logs-agent"), path, node=node, listen=f"127.0.0.1:{free_port()}")
              for node, path in roots.items()}
    gateway = Gateway(os.path.join(a.bin, "logs-gateway"), root)
    followers, writers, windows = {}, [], []
    try:
        for agent in agents.values():
            agent.start()
        gateway.start([(node, agent.at) for node, agent in agents.items()])
        for job in logs:
            gateway.wait_for_job(job)
            followers[job] = follow_job(gateway, job, job, total)
        writers = [threading.Thread(target=paced, args=(logs[job], job, total, 1, 1 / rate)) for job in logs]
        for writer in writers:
            writer.start()
        time.sleep(up)
        for _ in range(a.stops):
            stopped = time.time_ns()
            agents["node-1"].stop()
            exited = (time.time_ns() - stopped) / 1e9
            time.sleep(max(0.0, down - exited))
            agents["node-1"].start()
            windows.append((stopped, time.time_ns(), exited))
            time.sleep(up)
        for writer in writers:
            writer.join(total / rate + 30)
        for follower in followers.values():
            follower.wait(30)
    finally:
        for follower in followers.values():
            follower.close()
        stop_all(gateway, *agents.values())
    fa, fb = followers["a"], followers["b"]
    ta, tb = tally(fa.numbers(), total), tally(fb.numbers(), total)
    was_down = lambda wrote: any(start <= wrote < end for start, end, _ in windows)
    # How long after node-1 was back the last line written while it was down arrived, per stop.
    catch_up = [max(((got - end) / 1e9 for _, wrote, got in fa.lines if start <= wrote < end), default=float("nan"))
                for start, end, _ in windows]

    def said(t):
        k = sum(1 for start, _, _ in windows if start <= t)
        return f"+{(t - windows[k - 1][0]) / 1e9:.1f} s after stop {k}" if k else "before any stop"

    told = [f"{said(t)}, {level}: \"{text}\"" for t, level, text in fa.messages]
    ok = ta == tb == {"lost": 0, "duplicated": 0, "out of order": 0} and any("node-1" in (text or "") for _, _, text in fa.messages)
    return ok, {
        "stops of node-1 (SIGTERM, 3 s down, started again on its port)": a.stops,
        "node-1: SIGTERM to exit, max / down in all, max (s)":
            f"{max(w[2] for w in windows):.2f} / {max((e - s) / 1e9 for s, e, _ in windows):.2f}",
        "job a (node-1): lines written / received": f"{total:,} / {len(fa.lines):,}",
        "job a: lost / duplicated / out of order": f"{ta['lost']} / {ta['duplicated']} / {ta['out of order']}",
        "job a: lines written while node-1 was down, received": f"{sum(1 for l in fa.lines if was_down(l[1])):,}",
        "job a: the last of them arrived after node-1 was back, per stop (s)": ", ".join(f"{c:.2f}" for c in catch_up),
        "job a: what the follower was told": "<br>".join(told) or "nothing",
        "job a: gaps; its stream": f"{len(fa.gaps)}; {fa.end}",
        "job b (node-2): lines written / received": f"{total:,} / {len(fb.lines):,}",
        "job b: lost / duplicated / out of order": f"{tb['lost']} / {tb['duplicated']} / {tb['out of order']}",
        "job b: delay p50 / p99 while node-1 was down (ms)": delays([l for l in fb.lines if was_down(l[1])]),
        "job b: delay p50 / p99 otherwise (ms)": delays([l for l in fb.lines if not was_down(l[1])]),
        "job b: messages": "<br>".join(text for _, _, text in fb.messages) or "none"}


def table(title, result):
    cell = lambda v: (f"{v:,}" if isinstance(v, int) else str(v)).replace("|", "\\|")
    print(f"\n{title}\n")
    if any(isinstance(v, tuple) for v in result.values()):
        print("| figure | without the slow follower | with it |\n|---|---|---|")
        for key, (without, with_) in result.items():
            print(f"| {key} | {cell(without)} | {cell(with_)} |")
    else:
        print("| figure | value |\n|---|---|")
        for key, value in result.items():
            print(f"| {key} | {cell(value)} |")


SCENARIOS = {
    "rotation-rename": (lambda a, root: rotation(a, root, "rename"),
                        "Rotation by rename while a follower reads through the gateway"),
    "rotation-copytruncate": (lambda a, root: rotation(a, root, "copytruncate"),
                              "Rotation by copytruncate while a follower reads through the gateway"),
    "slow-follower": (slow_follower, "A slow follower next to two normal ones of one busy job"),
    "stalled-follower": (stalled_follower, "A follower that stops reading while its job floods"),
    "agent-stop": (agent_stop, "An agent stopped (SIGTERM) for 3 s while followers read, then started again"),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(REPO, ".build", "release"), help="directory of logs-agent and logs-gateway")
    ap.add_argument("--short", action="store_true", help="smaller counts: the whole run in under a minute")
    ap.add_argument("--only", choices=sorted(SCENARIOS))
    a = ap.parse_args()
    a.lines, a.rounds, a.rate, a.seconds, a.stops, a.up = (5_000, 1, 500, 3, 1, 1.5) if a.short else (20_000, 10, 500, 10, 3, 3)
    a.stalled_lines, a.stalled_growth_mib = (60_000, 48) if a.short else (300_000, 48)
    failed = []
    started = time.time()
    for name, (run, title) in SCENARIOS.items():
        if a.only and name != a.only:
            continue
        root = tempfile.mkdtemp(prefix=f"toolforge-logs-pipeline-{name}-")
        try:
            ok, result = run(a, root)
        except Exception as error:
            ok, result = False, {"error": repr(error)}
        table(f"### {name}: {title}{'' if ok else ' (FAILED)'}", result)
        if ok:
            shutil.rmtree(root, ignore_errors=True)
        else:
            failed.append(name)
            print(f"\n{name}: the agents' and the gateway's logs are kept in {root}")
    print(f"\n{'FAILED: ' + ', '.join(failed) if failed else 'all checks passed'} ({time.time() - started:.0f} s)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
