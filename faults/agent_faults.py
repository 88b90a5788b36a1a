#!/usr/bin/env python3
"""Fault runs against a real node agent (issue 6), with figures for docs/reliability.md:

  kill     SIGKILL the agent at random moments while a container writes at full speed (its log
           rotated on the way, as the kubelet does); at the end every line of the source is in
           the ring once, in order, and no record is corrupt
  fold     SIGKILL the agent at random moments while a scheduled job's runs finish and fold into
           its history file; at the end every run is listed once, folded, and reads back its
           lines exactly once
  hostile  a quiet container's ingest delay alone, then next to a neighbour pod whose containers
           (--writers, 4: short-line floods, /dev/urandom, 10 MB lines in turn) write flat out,
           unconstrained, then limited to --cpus (1) in a cgroup of their own as the kubelet
           limits a container (v2 `cpu.max`, else v1 `cpu.cfs_quota_us`; needs root: skipped,
           and said, otherwise); beside the quiet delays, the neighbour's write rate, what the
           agent ingested and kept of it, its CPU and throttling, the agent's CPU and RSS; the
           agent's nice value, CPU affinity and cgroup are left alone and checked
  disk     the data directory on a small tmpfs that fills up: the agent keeps serving what it
           has, says so in /healthz and /metrics, and takes the waiting lines when space returns
           (needs root for the mount; skipped, and said, otherwise)

  python3 faults/agent_faults.py [--kills 100] [--bin .build/release]   (the CI short form: --short)
  python3 faults/agent_faults.py --only hostile [--rounds 3] [--writers 4] [--cpus 1]

Prints Markdown tables (faults/run writes them into docs/reliability.md); exits 1 if a line is
lost, duplicated, out of order or corrupt after the kills, or the full disk is not reported and
recovered from.

Loopback only; every process is stopped by its PID; every loop is bounded in count and time.
"""
import argparse, json, multiprocessing, os, random, shutil, signal, statistics, subprocess, sys, tempfile, threading, time, urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKEN = "fault-token"


class Agent:
    def __init__(self, binary, root, *extra, node="node-1", listen="127.0.0.1:0"):
        # node and listen: a second agent, or one restarted where a gateway expects it.
        self.binary, self.root, self.extra, self.node, self.listen = binary, root, extra, node, listen
        self.process, self.at = None, None

    def start(self):
        os.makedirs(os.path.join(self.root, "pods"), exist_ok=True)  # the agent refuses a pods directory that is not there
        cmd = [self.binary, "--node", self.node, "--pods-dir", os.path.join(self.root, "pods"), "--data-dir",
               os.path.join(self.root, "data"), "--listen", self.listen, "--token-file", os.path.join(self.root, "token"),
               "--rescan", "1s", *self.extra]
        self.process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=open(os.path.join(self.root, "agent.log"), "a"), text=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            line = self.process.stdout.readline()
            if "ready on" in line:
                self.at = line.strip().rsplit(" ", 1)[1]
                return
            if not line and self.process.poll() is not None:
                break
        raise RuntimeError("the agent did not start")

    def kill(self):
        self.process.kill()
        self.process.wait(10)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(20)

    def get(self, path, accept="application/x-ndjson", timeout=30):
        request = urllib.request.Request(f"http://{self.at}{path}", headers={"Authorization": f"Bearer {TOKEN}", "Accept": accept})
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.read()

    def ring(self, pod):
        rings = json.loads(self.get("/internal/v2/rings", "application/json"))["rings"]
        return next((r for r in rings if r.get("pod") == pod), None)

    def rss_kb(self):
        with open(f"/proc/{self.process.pid}/status") as f:
            return int(next(l for l in f if l.startswith("VmRSS")).split()[1])


def stamp():
    t = time.time_ns()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t // 10**9)) + f".{t % 10**9:09d}Z"


def pod_dir(root, pod):
    path = os.path.join(root, "pods", f"tool-demo_{pod}_{pod}0001", "job")
    os.makedirs(path, exist_ok=True)
    return path


def kill_while(agent, write, kills, after):
    """Runs `write` on a thread while the agent is started and SIGKILLed `kills` times, each kill a
    random number of seconds in `after` after its start; then starts it for good. Returns the kills."""
    writer = threading.Thread(target=write)
    writer.start()
    for _ in range(kills):
        agent.start()
        time.sleep(random.uniform(*after))
        agent.kill()
    writer.join(600)
    agent.start()
    return kills


def kills(a, root):
    """Lines written while the agent is killed over and over: each must land once, in order."""
    agent = Agent(a.agent, root, "--suffix-bytes", "256MiB", "--rate-bytes", "1GiB", "--burst-bytes", "1GiB")
    directory = pod_dir(root, "steady")
    total, rotate_every = a.lines, a.lines // 4
    pause = a.kills * 0.3 / (total / 1000)

    def write():
        out = open(os.path.join(directory, "0.log"), "a")
        for n in range(total):
            out.write(f"{stamp()} stdout F line {n:08d}\n")
            if n % 1000 == 999:
                # Bursts of 1,000 lines, paced so that writing spans all the kills: every kill
                # lands while the agent is reading.
                out.flush()
                time.sleep(pause)
            if n % rotate_every == rotate_every - 1:
                out.close()
                # The kubelet's name for a rotated log: the time of the rotation, so names sort in order.
                rotated = time.strftime("%Y%m%d-%H%M%S", time.gmtime(1_795_341_600 + n))
                os.rename(os.path.join(directory, "0.log"), os.path.join(directory, f"0.log.{rotated}"))
                out = open(os.path.join(directory, "0.log"), "a")
        out.close()

    started = time.time()
    rounds = kill_while(agent, write, a.kills, (0.02, 0.4))
    try:
        deadline = time.time() + 120
        ring = None
        while time.time() < deadline:
            ring = agent.ring("steady")
            if ring and ring["records_written"] >= total:
                break
            time.sleep(0.2)
        items = [json.loads(l) for l in agent.get(f"/internal/v2/rings/{ring['id']}/logs?after=0").splitlines()]
    finally:
        agent.stop()
    lines = [i["message"] for i in items if i["type"] == "log"]
    numbers = [int(m.split()[1]) for m in lines]
    corrupt = sum(1 for i in items if i["type"] == "gap" and i.get("reason") == "corrupt")
    gaps = sum(1 for i in items if i["type"] == "gap")
    seen = set(numbers)
    return {"kills": rounds, "lines written": total, "lines read": len(numbers), "lost": total - len(seen & set(range(total))),
            "duplicated": len(numbers) - len(seen), "in order": numbers == sorted(numbers), "corrupt records": corrupt,
            "gaps": gaps, "seconds": round(time.time() - started, 1)}


def quiet_delays(agent, quiet, seconds, label):
    """Writes one line every 50 ms to the quiet container for `seconds`, following its ring; the
    delay from write to the agent's follow answer, per line."""
    ring = None
    deadline = time.time() + 20
    while ring is None and time.time() < deadline:
        ring = agent.ring("quiet")
        time.sleep(0.1)
    request = urllib.request.Request(f"http://{agent.at}/internal/v2/rings/{ring['id']}/logs?lines=0&follow=true",
                                     headers={"Authorization": f"Bearer {TOKEN}"})
    response = urllib.request.urlopen(request, timeout=seconds + 30)
    written = {}
    delays = []

    def read():
        for raw in response:
            item = json.loads(raw)
            message = item.get("message") or ""
            if item["type"] == "log" and message.startswith(label):
                key = message.split()[1]
                if key in written:
                    delays.append((time.monotonic_ns() - written[key]) / 1e6)
            if len(delays) >= count:
                return

    count = int(seconds / 0.05)
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    time.sleep(0.3)
    with open(quiet, "a") as out:
        for n in range(count):
            written[str(n)] = time.monotonic_ns()
            out.write(f"{stamp()} stdout F {label} {n}\n")
            out.flush()
            time.sleep(0.05)
    reader.join(30)
    response.close()
    return sorted(delays)


def neighbour_dir(root, container):
    path = os.path.join(root, "pods", "tool-demo_neighbour_neighbour0001", container)
    os.makedirs(path, exist_ok=True)
    return path


class CPULimit:
    """A cgroup of its own under the root with a CPU limit, as the kubelet makes one for a container
    with `limits.cpu` (its period 100 ms, its quota the limit times that; its weight from the
    request, here equal to the limit): cgroup v2's `cpu.max` where the root's
    `cgroup.controllers` lists `cpu` (a pure cgroup2 host), else v1's `cpu.cfs_quota_us` and
    `cpu.cfs_period_us` in the `cpu` hierarchy. `reason` says why there is none (not root, no
    controller); `remove` always takes it away again, its survivors killed and moved out first."""
    PERIOD = 100_000
    PREFIX = "tfl-neighbour-"

    def __init__(self, cpus):
        self.cpus, self.path, self.version, self.reason = cpus, None, None, None
        base, self.version = self.hierarchy()
        if base is None:
            self.reason = "no writable cgroup cpu controller (neither v2 cpu.max nor v1 cpu.cfs_quota_us)"
            return
        self.base = base
        self.reap_stale()
        path = os.path.join(base, f"{self.PREFIX}{os.getpid()}-{time.monotonic_ns()}")
        quota = int(round(cpus * self.PERIOD))
        shares = int(round(cpus * 1024))  # the kubelet's shares for a request of `cpus`
        try:
            if self.version == 2:
                with open(os.path.join(base, "cgroup.subtree_control")) as f:
                    enabled = f.read().split()
                if "cpu" not in enabled:
                    self.put(os.path.join(base, "cgroup.subtree_control"), "+cpu")
            os.mkdir(path)
            self.path = path
            if self.version == 2:
                self.put("cpu.max", f"{quota} {self.PERIOD}")
                self.put("cpu.weight", str(1 + (shares - 2) * 9999 // 262142))  # the kubelet's shares → weight
            else:
                self.put("cpu.cfs_period_us", str(self.PERIOD))
                self.put("cpu.cfs_quota_us", str(quota))
                self.put("cpu.shares", str(shares))
        except OSError as e:
            self.reason = f"cannot make a cgroup with a CPU limit under {base}: {e.strerror or e}"
            self.remove()

    @staticmethod
    def hierarchy():
        try:
            with open("/sys/fs/cgroup/cgroup.controllers") as f:
                if "cpu" in f.read().split():
                    return "/sys/fs/cgroup", 2
        except OSError:
            pass
        try:
            with open("/proc/self/mounts") as f:
                for line in f:
                    _, point, kind, options = line.split()[:4]
                    if kind == "cgroup" and "cpu" in options.split(",") and os.access(point, os.W_OK):
                        return point, 1
        except OSError:
            pass
        return None, None

    def reap_stale(self):
        # Left by a run that was killed: its writers end themselves once their parent is gone
        # (`hostile`), so an empty one whose owner is gone is taken away.
        for name in os.listdir(self.base):
            if not name.startswith(self.PREFIX):
                continue
            try:
                owner = int(name[len(self.PREFIX):].split("-")[0])
                os.kill(owner, 0)
            except ProcessLookupError:
                try:
                    os.rmdir(os.path.join(self.base, name))
                except OSError:
                    pass
            except (ValueError, OSError):
                pass

    def put(self, name, value):
        # `name` inside the cgroup, or an absolute path.
        with open(os.path.join(self.path or self.base, name), "w") as f:
            f.write(value)

    @property
    def description(self):
        if self.version == 2:
            return f'cgroup v2 `cpu.max` "{int(round(self.cpus * self.PERIOD))} {self.PERIOD}"'
        return f"cgroup v1 `cpu.cfs_quota_us` {int(round(self.cpus * self.PERIOD))}, `cpu.cfs_period_us` {self.PERIOD}"

    def add(self, pid):
        self.put("cgroup.procs", str(pid))
        with open(f"/proc/{pid}/cgroup") as f:
            name = os.path.basename(self.path)
            if not any(line.rstrip().endswith("/" + name) for line in f):
                raise OSError(f"process {pid} is not in {self.path}")

    def pids(self):
        try:
            with open(os.path.join(self.path, "cgroup.procs")) as f:
                return [int(p) for p in f.read().split()]
        except OSError:
            return []

    def stat(self):
        """Periods, periods throttled and time throttled (s) so far."""
        with open(os.path.join(self.path, "cpu.stat")) as f:
            values = dict(line.split() for line in f if line.strip())
        throttled = int(values["throttled_usec"]) / 1e6 if "throttled_usec" in values else int(values.get("throttled_time", 0)) / 1e9
        return {"periods": int(values.get("nr_periods", 0)), "throttled": int(values.get("nr_throttled", 0)), "throttled s": throttled}

    def remove(self):
        if not self.path:
            return
        parent = os.path.join(self.base, "cgroup.procs")
        deadline = time.time() + 10
        while time.time() < deadline:
            for pid in self.pids():
                # Only the writers were placed here: any left are theirs.
                try:
                    os.kill(pid, signal.SIGKILL)
                    with open(parent, "w") as f:
                        f.write(str(pid))
                except OSError:
                    pass
            try:
                os.rmdir(self.path)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.05)
        else:
            print(f"could not remove the cgroup {self.path}", file=sys.stderr)
        self.path = None


def cpu_seconds(pid):
    """User and system CPU time of a process, or of one thread as /proc/<pid>/task/<tid>."""
    path = pid if isinstance(pid, str) else f"/proc/{pid}"
    try:
        with open(f"{path}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def thread_cpu(pid):
    """CPU seconds of each thread of a process, by name/tid (a thread gone meanwhile is left out)."""
    seconds = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                seconds[f"{f.read().strip()}/{tid}"] = cpu_seconds(f"/proc/{pid}/task/{tid}")
        except OSError:
            continue
    return seconds


def placement(pid):
    """Each thread's name, nice value and CPU affinity, and the process's cgroups: what the agent
    must not change about itself."""
    threads = {}
    for tid in sorted(os.listdir(f"/proc/{pid}/task")):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
            threads[tid] = (stat[stat.index("(") + 1:stat.rindex(")")], int(stat.rsplit(")", 1)[1].split()[16]),
                            tuple(sorted(os.sched_getaffinity(int(tid)))))
        except (OSError, ValueError):
            continue
    with open(f"/proc/{pid}/cgroup") as f:
        cgroups = f.read()
    return {"threads": threads, "cgroups": cgroups}


def placement_changes(before, after):
    """What changed between two `placement`s of the same process: threads whose nice value or
    CPUs changed, and its cgroups."""
    changes = []
    for tid, (name, nice, cpus) in after["threads"].items():
        if tid in before["threads"]:
            _, was_nice, was_cpus = before["threads"][tid]
            if nice != was_nice:
                changes.append(f"{name} nice {was_nice} → {nice}")
            if cpus != was_cpus:
                changes.append(f"{name} CPUs {','.join(map(str, was_cpus))} → {','.join(map(str, cpus))}")
    if after["cgroups"] != before["cgroups"]:
        changes.append("its cgroup")
    return sorted(set(changes))


def hostile(a, root, limited):
    """A quiet container's ingest delay alone, then next to a neighbour pod whose `a.writers`
    containers write flat out (short-line floods, /dev/urandom, 10 MB lines in turn), each a
    process of its own; `limited`: the pod's writers in a cgroup with a CPU limit of `a.cpus`, as
    the kubelet places a container with `limits.cpu`. The agent stays where it is: its cgroup,
    nice values and CPU affinity are compared before and while crowded: a change is reported."""
    cpu_limit = None
    if limited:
        cpu_limit = CPULimit(a.cpus)
        if cpu_limit.reason:
            return {"skipped": cpu_limit.reason}
    agent = Agent(a.agent, root)
    quiet = os.path.join(pod_dir(root, "quiet"), "0.log")
    with open(quiet, "w") as out:
        out.write(f"{stamp()} stdout F quiet starts\n")
    # The neighbour's containers are processes of their own, as on a node: as threads of this
    # one they would hold the interpreter's lock that the quiet writer and its observer need.
    fork = multiprocessing.get_context("fork")
    stop, go, parent = fork.Event(), fork.Event(), os.getpid()
    logs = [os.path.join(neighbour_dir(root, f"w{i}"), "0.log") for i in range(a.writers)]
    writers = []

    def running():
        # Ends with its parent too: a killed run leaves no writer filling a disk.
        return not stop.is_set() and os.getppid() == parent

    def urandom(path):
        with open(path, "ab") as out, open("/dev/urandom", "rb") as source:
            while running():
                out.write(source.read(1 << 20))
                out.flush()
                time.sleep(0.1)

    def huge(path):
        with open(path, "a") as out:
            while running():
                out.write(f"{stamp()} stdout F " + "y" * (10 << 20) + "\n")
                out.flush()
                time.sleep(0.5)

    def flood(path):
        with open(path, "a") as out:
            n = 0
            while running():
                out.write("".join(f"{stamp()} stdout F flood {n + k}\n" for k in range(1000)))
                n += 1000

    def container(write, path):
        def run():
            go.wait(30)  # until placed in the pod's cgroup
            if running():
                write(path)
        return run

    def sizes():
        return sum(os.path.getsize(p) for p in logs if os.path.exists(p))

    def counters():
        rings = [r for r in json.loads(agent.get("/internal/v2/rings", "application/json"))["rings"] if r.get("pod") == "neighbour"]
        return {"time": time.monotonic(), "written": sizes(), "quiet": os.path.getsize(quiet),
                "ingested": json.loads(agent.get("/internal/v2/stats", "application/json"))["ingested_bytes"],
                "kept": sum(r["bytes_written"] for r in rings), "dropped": sum(r["dropped_bytes"] for r in rings),
                "writers cpu": sum(cpu_seconds(w.pid) for w in writers), "agent cpu": cpu_seconds(agent.process.pid),
                "agent threads": thread_cpu(agent.process.pid)}

    try:
        agent.start()
        placed = placement(agent.process.pid)
        rss_before = agent.rss_kb()
        alone = quiet_delays(agent, quiet, a.seconds, "alone")
        kinds = (flood, urandom, huge)
        writers = [fork.Process(target=container(kinds[i % len(kinds)], logs[i]), daemon=True) for i in range(a.writers)]
        for writer in writers:
            writer.start()
        if cpu_limit:
            for writer in writers:
                cpu_limit.add(writer.pid)
        go.set()
        time.sleep(1)
        throttling = cpu_limit.stat() if cpu_limit else None
        before = counters()
        crowded = quiet_delays(agent, quiet, a.seconds, "crowded")
        after = counters()
        throttled = cpu_limit.stat() if cpu_limit else None
        rss_during = agent.rss_kb()
        changes = placement_changes(placed, placement(agent.process.pid))
        stop.set()
        for writer in writers:
            writer.join(10)
            writer.kill()
        disk = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(os.path.join(root, "data")) for f in fs)
    finally:
        stop.set()
        go.set()
        for writer in writers:
            if writer.is_alive():
                writer.kill()
                writer.join(5)
        if cpu_limit:
            cpu_limit.remove()
        agent.stop()

    def pct(values, p):
        return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else None

    took = after["time"] - before["time"]
    rate = lambda key: (after[key] - before[key]) / took
    threads = {name: round((cpu - before["agent threads"].get(name, 0)) / took, 3) for name, cpu in after["agent threads"].items()}
    return {"quiet lines alone": len(alone), "quiet p50/p99 alone (ms)": (pct(alone, 50), pct(alone, 99)),
            "quiet lines crowded": len(crowded), "quiet p50/p99 crowded (ms)": (pct(crowded, 50), pct(crowded, 99)),
            "agent RSS before / crowded (MiB)": (round(rss_before / 1024, 1), round(rss_during / 1024, 1)),
            "neighbour wrote (MB/s)": rate("written") / 1e6,
            "agent ingested of it (MB/s)": (rate("ingested") - rate("quiet")) / 1e6,
            "kept of it (MB/s)": rate("kept") / 1e6, "dropped of it, rate-limited (MB/s)": rate("dropped") / 1e6,
            "neighbour CPU (cores)": rate("writers cpu"), "agent CPU (cores)": rate("agent cpu"),
            "agent CPU by thread (cores)": {k: v for k, v in sorted(threads.items(), key=lambda kv: -kv[1]) if v > 0.005},
            "throttled": None if throttled is None else {
                "periods": throttled["periods"] - throttling["periods"], "throttled": throttled["throttled"] - throttling["throttled"],
                "throttled s": throttled["throttled s"] - throttling["throttled s"], "seconds": took},
            "limit": cpu_limit.description if cpu_limit else None,
            "agent's changes to its nice values, CPUs, cgroup": changes,
            "agent nice": sorted({n for _, n, _ in placed["threads"].values()}),
            "agent CPUs": sorted({c for _, _, c in placed["threads"].values()}),
            "data directory (MB)": round(disk / 1e6)}


def disk(a, root):
    data = os.path.join(root, "data")
    os.makedirs(data)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", data], capture_output=True).returncode != 0:
        return {"skipped": "cannot mount a tmpfs here (needs root)"}
    agent = Agent(a.agent, root, "--prefix-bytes", "64KiB", "--suffix-bytes", "1MiB")
    log = os.path.join(pod_dir(root, "steady"), "0.log")
    try:
        with open(log, "a") as out:
            for n in range(100):
                out.write(f"{stamp()} stdout F before {n}\n")
        agent.start()
        deadline = time.time() + 20
        while (agent.ring("steady") or {}).get("records_written", 0) < 100 and time.time() < deadline:
            time.sleep(0.1)
        # Fill what is left of the disk.
        filler = os.path.join(data, "filler")
        subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=64k"], capture_output=True)
        with open(log, "a") as out:
            for n in range(2000):
                out.write(f"{stamp()} stdout F while full {n} " + "z" * 200 + "\n")
        full = time.time() + 20
        while b"the data directory is full" not in agent.get("/healthz", "application/json") and time.time() < full:
            time.sleep(0.2)
        health = json.loads(agent.get("/healthz", "application/json"))
        metric = next((l for l in agent.get("/metrics", "text/plain").decode().splitlines() if l.startswith("logs_agent_disk_full ")), "")
        ring = agent.ring("steady")
        served = sum(1 for l in agent.get(f"/internal/v2/rings/{ring['id']}/logs?after=0").splitlines()
                     if b"before" in l)
        os.unlink(filler)
        deadline = time.time() + 30
        while (agent.ring("steady") or {}).get("records_written", 0) < 2100 and time.time() < deadline:
            time.sleep(0.2)
        after = agent.ring("steady")
        recovered = json.loads(agent.get("/healthz", "application/json"))
        lines = [json.loads(l) for l in agent.get(f"/internal/v2/rings/{after['id']}/logs?after=0").splitlines()]
    finally:
        agent.stop()
        subprocess.run(["umount", data], capture_output=True)
    kept = [i["message"] for i in lines if i["type"] == "log"]
    gaps = [i for i in lines if i["type"] == "gap"]
    return {"said full in /healthz": any("full" in w for w in health["messages"]["warning"]),
            "logs_agent_disk_full while full": metric.split()[-1] if metric else None,
            "old lines served while full": served,
            "said full after space returned": any("full" in w for w in recovered["messages"]["warning"]),
            "records after space returned": after["records_written"],
            "lines written while full, then kept": sum(1 for m in kept if m.startswith("while full")),
            "gaps (lines not kept: rolled over)": sum(g.get("records", 0) for g in gaps)}


def folds(a, root):
    """Runs of a scheduled job finish (a pod every 50 ms, its PodList entry saying it ended) while
    the agent, which folds what is due as it starts, is killed 0.3 to 1.5 s after each start."""
    agent = Agent(a.agent, root, "--pods-json", os.path.join(root, "pods.json"), "--fold-after", "1s")
    count, entries = a.runs, []
    lines = lambda run: [f"run {run:05d} line {n:02d} GET /api/items/{(run * 7919 + n * 31) % 10007}" for n in range(20)]

    def write():
        for run in range(count):
            pod = f"tick-{29_000_000 + run}-x7k2p"
            uid = f"00000000-0000-4000-8000-{run:012d}"
            directory = os.path.join(root, "pods", f"tool-demo_{pod}_{uid}", "job")
            os.makedirs(directory)
            with open(os.path.join(directory, "0.log"), "w") as out:
                out.writelines(f"{stamp()} stdout F {line}\n" for line in lines(run))
            entries.append({"metadata": {"name": pod, "namespace": "tool-demo", "uid": uid,
                                         "labels": {"app.kubernetes.io/component": "cronjobs", "app.kubernetes.io/name": "tick"},
                                         "ownerReferences": [{"kind": "Job", "name": f"tick-{29_000_000 + run}"}]},
                            "spec": {"containers": [{"name": "job"}]},
                            "status": {"containerStatuses": [{"name": "job", "restartCount": 0, "state": {"terminated": {
                                "exitCode": 0, "reason": "Completed", "finishedAt": "2026-11-30T10:00:00Z"}}}]}})
            with open(os.path.join(root, "pods.json.tmp"), "w") as f:
                json.dump({"kind": "PodList", "items": entries}, f)
            os.rename(os.path.join(root, "pods.json.tmp"), os.path.join(root, "pods.json"))
            time.sleep(0.05)

    started = time.time()
    rounds = kill_while(agent, write, a.kills, (0.3, 1.5))
    data = os.path.join(root, "data")
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            rings = json.loads(agent.get("/internal/v2/rings?kind=scheduled", "application/json"))["rings"]
            unfolded = [n for n in os.listdir(data) if n.endswith(".ring")]
            if len(rings) >= count and all(r["state"] == "finished" for r in rings) and len(unfolded) <= 1:
                break
            time.sleep(0.5)
        runs = {}
        for ring in rings:
            runs.setdefault(ring["run"], []).append(ring)
        wrong = 0
        for run in range(count):
            for ring in runs.get(f"tick-{29_000_000 + run}", []):
                items = [json.loads(l) for l in agent.get(f"/internal/v2/rings/{ring['id']}/logs?after=0").splitlines()]
                if [i["message"] for i in items if i["type"] == "log"] != lines(run):
                    wrong += 1
        unfolded = len([n for n in os.listdir(data) if n.endswith(".ring")]) - 1
    finally:
        agent.stop()
    return {"kills": rounds, "runs written": count, "runs listed": len(runs), "listed twice": len(rings) - len(runs),
            "lost": count - len(runs), "runs read back wrong": wrong, "runs folded": len(rings) - unfolded,
            "seconds": round(time.time() - started, 1)}


def fold_table(r):
    print(f"\nSIGKILL while runs finish and fold: a scheduled job's {r['runs written']} runs of 20 lines end one every "
          f"50 ms; the agent (folding runs finished for 1 s, a pass at each start) killed {r['kills']} times, 0.3–1.5 s "
          f"after each start, then read back ({r['seconds']:.0f} s)\n")
    print("| kills | runs written | runs listed | listed twice | lost | read back wrong | folded at the end |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {r['kills']} | {r['runs written']} | {r['runs listed']} | {r['listed twice']} | {r['lost']} | "
          f"{r['runs read back wrong']} | {r['runs folded']} of {r['runs listed']} |")


def spread(values, unit=""):
    values = [v for v in values if v is not None]
    return f"{statistics.median(values):.2f}{unit} [{min(values):.2f}–{max(values):.2f}]" if values else "–"


def kill_table(r):
    print(f"SIGKILL under ingest: a container writes {r['lines written']:,} numbered lines, its log rotated by rename "
          f"3 times; the agent killed {r['kills']} times, 20–400 ms after each start, then read back whole "
          f"({r['seconds']:.0f} s)\n")
    print("| kills | lines written | lines read | lost | duplicated | out of order | corrupt records | gaps |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| {r['kills']} | {r['lines written']:,} | {r['lines read']:,} | {r['lost']} | {r['duplicated']} | "
          f"{'no' if r['in order'] else '**yes**'} | {r['corrupt records']} | {r['gaps']} |")


def hostile_table(modes, a):
    limits = {r["limit"] for rounds in modes.values() for r in rounds if r.get("limit")}
    print(f"\nHostile neighbours: a quiet container's ingest delay (a line every 50 ms for {a.seconds:g} s, write to the "
          f"agent's follow answer) alone, then next to a pod of {a.writers} containers writing flat out (short-line floods, "
          f"/dev/urandom, 10 MB lines in turn), each a process of its own: unconstrained, then in a cgroup limited to "
          f"{a.cpus:g} CPU as the kubelet sets `limits.cpu: {a.cpus:g}` ({'; '.join(sorted(limits)) or 'no cgroup'}); the agent's "
          f"nice value, CPU affinity and cgroup left as they are; {os.cpu_count()} CPUs; rounds each: "
          f"{max(len(r) for r in modes.values())}; median [min–max] of the rounds, the neighbour's figures over the crowded "
          f"{a.seconds:g} s\n")
    print("| neighbour pod | quiet p50 alone (ms) | quiet p50 crowded (ms) | quiet p99 alone (ms) | quiet p99 crowded (ms) | "
          "p99 crowded / alone | it wrote (MB/s) | the agent ingested of it (MB/s) | kept of it (MB/s) | its CPU (cores) | "
          "its periods throttled | agent CPU (cores) | agent RSS before → crowded |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    notes = []
    for mode, rounds in modes.items():
        skipped = [r["skipped"] for r in rounds if "skipped" in r]
        rounds = [r for r in rounds if "skipped" not in r]
        if not rounds:
            print(f"| {mode} | skipped: {skipped[0]} |" + " |" * 11)
            continue
        alone = [r["quiet p50/p99 alone (ms)"] for r in rounds]
        crowded = [r["quiet p50/p99 crowded (ms)"] for r in rounds]
        ratio = [c[1] / max(a[1], 1e-9) for a, c in zip(alone, crowded)]
        rss = [r["agent RSS before / crowded (MiB)"] for r in rounds]
        throttled = [r["throttled"] for r in rounds if r["throttled"]]
        # cpu.stat over the crowded window: periods throttled of those that ran, and the time
        # throttled summed over CPUs (v1's throttled_time, v2's throttled_usec).
        throttling = (f"{statistics.median(100 * t['throttled'] / max(t['periods'], 1) for t in throttled):.0f} % of "
                      f"{statistics.median(t['periods'] for t in throttled):.0f}, "
                      f"{statistics.median(t['throttled s'] for t in throttled):.1f} s") if throttled else "–"
        print(f"| {mode} | {spread([a[0] for a in alone])} | {spread([c[0] for c in crowded])} | "
              f"{spread([a[1] for a in alone])} | {spread([c[1] for c in crowded])} | **{spread(ratio, 'x')}** | "
              f"{spread([r['neighbour wrote (MB/s)'] for r in rounds])} | {spread([r['agent ingested of it (MB/s)'] for r in rounds])} | "
              f"{spread([r['kept of it (MB/s)'] for r in rounds])} | {spread([r['neighbour CPU (cores)'] for r in rounds])} | "
              f"{throttling} | {spread([r['agent CPU (cores)'] for r in rounds])} | "
              f"{max(b for b, _ in rss):.1f} → {max(c for _, c in rss):.1f} MiB |")
        moved = sorted({c for r in rounds for c in r["agent's changes to its nice values, CPUs, cgroup"]})
        changed = sum(1 for r in rounds if r["agent's changes to its nice values, CPUs, cgroup"])
        notes.append(f"{mode}: the agent's threads at nice {', '.join(map(str, rounds[0]['agent nice']))} on CPUs "
                     f"{' / '.join(','.join(map(str, c)) for c in rounds[0]['agent CPUs'])} as it started; "
                     + (f"**changed by the agent itself in {changed} of {len(rounds)} rounds: {'; '.join(moved)}**" if moved
                        else "unchanged in every round")
                     + (f"; skipped {len(skipped)} rounds: {skipped[0]}" if skipped else ""))
    print("\n" + "; ".join(notes) + ". The target: quiet p99 crowded within 2x of alone.")


def disk_table(r):
    print("\nA full data disk: the data directory on an 8 MiB tmpfs; 100 lines ingested, the disk filled, 2,000 more "
          "lines written, then the filler removed\n")
    if "skipped" in r:
        print(f"skipped: {r['skipped']}")
        return
    print("| check | result |")
    print("|---|---|")
    print(f"| `/healthz` says the data directory is full | {'yes' if r['said full in /healthz'] else '**no**'} |")
    print(f"| `logs_agent_disk_full` while full | {r['logs_agent_disk_full while full']} |")
    print(f"| lines written before, served while full | {r['old lines served while full']} of 100 |")
    print(f"| lines written while full, kept once space returned | {r['lines written while full, then kept']:,} of 2,000 |")
    print(f"| `/healthz` after space returned | {'still full' if r['said full after space returned'] else 'no longer full'} |")


def fresh_root(name):
    root = tempfile.mkdtemp(prefix=f"toolforge-logs-fault-{name}-")
    with open(os.path.join(root, "token"), "w") as f:
        f.write(TOKEN + "\n")
    return root


def run(name, scenario, a, **options):
    root = fresh_root(name)
    try:
        return scenario(a, root, **options)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kills", type=int, default=100)
    ap.add_argument("--lines", type=int, default=400_000)
    ap.add_argument("--runs", type=int, default=1000, help="of the fold run")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--rounds", type=int, default=3, help="of the hostile-neighbour run, each way")
    ap.add_argument("--writers", type=int, default=4, help="containers of the hostile neighbour pod, a process each")
    ap.add_argument("--cpus", type=float, default=1, help="the neighbour pod's CPU limit (limits.cpu), when limited")
    ap.add_argument("--only", nargs="+", choices=("kill", "fold", "hostile", "disk"), help="run these parts alone")
    ap.add_argument("--short", action="store_true", help="10 kills of 100,000 lines, one 3 s hostile round each way: for CI")
    ap.add_argument("--verbose", action="store_true", help="every hostile round's figures as JSON on stderr")
    ap.add_argument("--bin", default=os.path.join(REPO, ".build", "release"), help="where logs-agent is")
    a = ap.parse_args()
    if a.short:
        a.kills, a.lines, a.seconds, a.rounds, a.runs = 10, 100_000, 3, 1, 100
    a.agent = os.path.join(a.bin, "logs-agent")
    # A stop by SIGTERM runs the `finally`s: the neighbour's cgroup and the agents go too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parts = set(a.only or ("kill", "fold", "hostile", "disk"))
    ok = fold_ok = disk_ok = True
    said = []
    if "kill" in parts:
        kill = run("kill", kills, a)
        kill_table(kill)
        ok = kill["lost"] == 0 and kill["duplicated"] == 0 and kill["in order"] and kill["corrupt records"] == 0
        said.append(f"kill: {'ok' if ok else 'FAILED'}")
    if "fold" in parts:
        fold = run("fold", folds, a)
        fold_table(fold)
        fold_ok = fold["lost"] == 0 and fold["listed twice"] == 0 and fold["runs read back wrong"] == 0 and fold["runs folded"] == fold["runs listed"]
        said.append(f"fold: {'ok' if fold_ok else 'FAILED'}")
    if "hostile" in parts:
        modes = {"unconstrained": [run("hostile", hostile, a, limited=False) for _ in range(a.rounds)],
                 f"`limits.cpu: {a.cpus:g}`": [run("hostile", hostile, a, limited=True) for _ in range(a.rounds)]}
        hostile_table(modes, a)
        if a.verbose:
            print(json.dumps(modes, indent=1), file=sys.stderr)
    if "disk" in parts:
        full = run("disk", disk, a)
        disk_table(full)
        disk_ok = "skipped" in full or (full["said full in /healthz"] and full["old lines served while full"] == 100
                                        and not full["said full after space returned"] and full["lines written while full, then kept"] == 2000)
        said.append(f"disk: {'ok' if disk_ok else 'FAILED'}")
    if "hostile" in parts:
        said.append("the neighbours' delays are reported, not enforced (they depend on the machine's load)")
    print(f"\n{'; '.join(said)}", file=sys.stderr)
    sys.exit(0 if ok and fold_ok and disk_ok else 1)


if __name__ == "__main__":
    main()
