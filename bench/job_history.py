#!/usr/bin/env python3
"""Fourteen days of a scheduled job that runs every minute (issue 20): 20,160 runs of 20 lines
each written through a real agent with the shipped defaults (the DaemonSet's budget, prefix,
suffix and max age; folding on, a minute after a run ends), then listed and read through a real
gateway. Before history files, the same defaults kept 10 runs.

The runs are written in batches as a kubelet would have them: a batch's pod directories (CRI
logs of 20 lines from bench/corpus.py; the runs 59 s apart, the last ending now, so that 20,160
of them span 13.8 days, inside the shipped --max-age of 14 days, which a minute apart they would
cross while the benchmark runs) and its PodList entries (the run's Job, start, end and exit code: every 97th run fails); once the agent
has finished and folded the batch, its pods are deleted (as the kubelet does with finished
pods), and the next batch comes. Then, through the gateway (`job/tick/runs`):
  listed        every run, a page of 1,000 at a time, each once, newest first; its exit code
  failed        `state=failed` lists exactly the runs that failed
  first page    time to the first page of 50; a deep page (the last) next to it
  oldest read   the oldest run's lines, and a failed run's of the first day, line for line
and the data directory's allocated bytes per run, the agent's and the gateway's RSS.

  python3 bench/job_history.py [--runs 20160] [--batch 1008] [--bin-dir .build/release]

Loopback only; processes stopped by PID; every wait bounded; files under the peers' ROOT
(/tmp/peers/job-history), removed at the end.
"""
import argparse, json, os, shutil, sys, time, urllib.parse, urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import corpus  # noqa: E402
import stack  # noqa: E402
from stack import peers  # noqa: E402

ROOT = os.path.join(peers.ROOT, "job-history")
SHIPPED = ["--budget-bytes", "20GiB", "--prefix-bytes", "1MiB", "--suffix-bytes", "15MiB", "--max-age", "14d"]
MINUTE = 60 * 1_000_000_000
# Runs 59 s apart, so that 20,160 of them end 5.6 hours inside the shipped 14 days (`--max-age`):
# a minute apart, the oldest would age out while the benchmark writes the newest.
EVERY = 59 * 1_000_000_000


def iso(ns):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 1_000_000_000)) + f".{ns % 1_000_000_000:09d}Z"


def lines_of(run, pools):
    """A run's 20 lines: its kind's (the corpus's kinds in turn, as each job prints its own kind
    of log), the next 20 of that kind, so no two runs print the same."""
    pool = pools[run % len(pools)]
    first = (run // len(pools) * 20) % (len(pool) - 20)
    return pool[first:first + 20]


def failed(run):
    return run % 97 == 7


def get(at, path, headers, timeout=120):
    request = urllib.request.Request(f"http://{at}{path}", headers=headers)
    with urllib.request.urlopen(request, timeout=timeout) as r:
        return r.read()


def allocated(directory):
    return sum(os.lstat(os.path.join(root, n)).st_blocks * 512 for root, _, files in os.walk(directory) for n in files)


class Node:
    """A real agent (and a gateway in front of it) that a job's runs are written through."""

    def __init__(self, a, work, name, *extra):
        self.a, self.dir = a, os.path.join(work, name)
        self.pods, self.podlist = os.path.join(self.dir, "pods"), os.path.join(self.dir, "pods.json")
        os.makedirs(self.pods)
        self.agent, self.agent_at = stack.agent(a.bin_dir, self.dir, *SHIPPED, "--pods-json", self.podlist, *extra)
        self.gateway, self.gateway_at = stack.gateway(a.bin_dir, self.dir, [("node-1", self.agent_at)],
                                                      "--trusted-proxy", "127.0.0.1/32", "--rate-limit", "100000")
        self.data = os.path.join(self.dir, "data-node-1")

    def stop(self):
        peers.stop(self.gateway)
        peers.stop(self.agent)

    def restart_agent(self, runs):
        """Stops the agent and starts it again over its data directory, with no pods: (seconds to
        ready, seconds until it lists every run, its RSS then in MiB)."""
        peers.stop(self.agent)
        os.remove(self.podlist)
        # A cold page cache, where the machine lets us (root): what a node's reboot would leave.
        try:
            os.sync()
            with open("/proc/sys/vm/drop_caches", "w") as f:
                f.write("3\n")
            self.cold = True
        except OSError:
            self.cold = False
        t = time.time()
        self.agent, self.agent_at = stack.agent(self.a.bin_dir, self.dir, *SHIPPED, "--pods-json", self.podlist)
        ready = time.time() - t
        auth = {"Authorization": f"Bearer {stack.TOKEN}"}
        while time.time() - t < 120:
            tools = json.loads(get(self.agent_at, "/internal/v2/stats", auth))["usage"]["tools"]
            if next((x.get("runs") for x in tools if x["tool"] == "demo"), 0) == runs:
                break
            time.sleep(0.1)
        return ready, time.time() - t, stack.rss_mib(self.agent.pid)

    def write(self, runs, start, pool, folded=True):
        """Writes `runs` (a range) a batch at a time; each batch is waited for (finished, and
        folded when `folded`), then its pods are deleted."""
        auth = {"Authorization": f"Bearer {stack.TOKEN}"}
        started = time.time()
        for first in range(runs.start, runs.stop, self.a.batch):
            batch = range(first, min(first + self.a.batch, runs.stop))
            entries, dirs = [], []
            for run in batch:
                t = start + run * EVERY
                name, uid = f"tick-{29_000_000 + run}", f"00000000-0000-4000-8000-{run:012d}"
                d = os.path.join(self.pods, f"tool-demo_{name}-x7k2p_{uid}")
                os.makedirs(os.path.join(d, "job"))
                with open(os.path.join(d, "job", "0.log"), "w") as f:
                    f.writelines(f"{iso(t + n * 1_000_000)} stdout F {line}\n" for n, line in enumerate(lines_of(run, pool)))
                dirs.append(d)
                entries.append({"metadata": {"name": f"{name}-x7k2p", "namespace": "tool-demo", "uid": uid,
                                             "labels": {"app.kubernetes.io/component": "cronjobs", "app.kubernetes.io/name": "tick"},
                                             "ownerReferences": [{"kind": "Job", "name": name}]},
                                "spec": {"nodeName": "node-1", "containers": [{"name": "job"}]},
                                "status": {"containerStatuses": [{"name": "job", "restartCount": 0, "state": {"terminated": {
                                    "exitCode": 1 if failed(run) else 0, "reason": "Error" if failed(run) else "Completed",
                                    "startedAt": iso(t)[:19] + "Z", "finishedAt": iso(t + 30_000_000_000)[:19] + "Z"}}}]}})
            with open(self.podlist + ".tmp", "w") as f:
                json.dump({"kind": "PodList", "items": entries}, f)
            os.rename(self.podlist + ".tmp", self.podlist)
            deadline = time.time() + self.a.timeout
            want = batch.stop - runs.start
            while True:
                tools = json.loads(get(self.agent_at, "/internal/v2/stats", auth))["usage"]["tools"]
                mine = next((t for t in tools if t["tool"] == "demo"), {})
                if mine.get("runs") == want and (not folded or mine.get("folded_rings") == want):
                    break
                if time.time() > deadline:
                    raise SystemExit(f"runs {batch.start}..{batch.stop}: {mine.get('runs')} finished, {mine.get('folded_rings')} folded "
                                     f"after {self.a.timeout:.0f} s")
                time.sleep(1)
            for d in dirs:
                shutil.rmtree(d)
            print(f"{want:,} runs written{' and folded' if folded else ''} ({time.time() - started:.0f} s)", file=sys.stderr, flush=True)

    def last_lines_ms(self, run, start):
        """The fastest of 10 reads of one run's last 100 lines as text through the gateway, in ms."""
        query = urllib.parse.urlencode({"run": f"tick-{29_000_000 + run}", "since": iso(start - MINUTE), "lines": 100})
        times = []
        for _ in range(10):
            t = time.time()
            get(self.gateway_at, "/v1/tool/demo/job/tick/logs?" + query, {"x-toolforge-tool": "demo", "Accept": "text/plain"})
            times.append((time.time() - t) * 1000)
        return min(times)

    def job_tail(self, start, count=100):
        """The job's last `count` lines over all its runs, as text through the gateway (what
        `toolforge-logs job tick --since 14d -n 100` asks): (the fastest of 5 in ms, the text)."""
        query = urllib.parse.urlencode({"since": iso(start - MINUTE), "lines": count, "direction": "newest_first"})
        times, text = [], ""
        for _ in range(5):
            t = time.time()
            text = get(self.gateway_at, "/v1/tool/demo/job/tick/logs?" + query, {"x-toolforge-tool": "demo", "Accept": "text/plain"}).decode()
            times.append((time.time() - t) * 1000)
        return min(times), text

    def read_window(self, since_ns):
        """The job's lines since `since_ns` as text through the gateway (what `toolforge-logs job
        tick --since 2d` asks): (lines, seconds to the first byte, seconds in all)."""
        query = urllib.parse.urlencode({"since": iso(since_ns)})
        request = urllib.request.Request(f"http://{self.gateway_at}/v1/tool/demo/job/tick/logs?{query}",
                                         headers={"x-toolforge-tool": "demo", "Accept": "text/plain"})
        t = time.time()
        first, lines = None, 0
        with urllib.request.urlopen(request, timeout=900) as r:
            while chunk := r.read(1 << 16):
                first = first or time.time() - t
                lines += chunk.count(b"\n")
        return lines, first or 0.0, time.time() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=20_160)
    ap.add_argument("--batch", type=int, default=1008)
    ap.add_argument("--window-days", type=float, default=2, help="the read of the last days, next to the same runs as ring files")
    ap.add_argument("--bin-dir", default=os.path.join(REPO, ".build", "release"))
    ap.add_argument("--timeout", type=float, default=300, help="seconds a batch may take to finish and fold")
    a = ap.parse_args()
    pool = [list(corpus.generate(kind, 20, lines=2000)) for kind in corpus.KINDS]
    work = peers.fresh(ROOT)
    demo = {"x-toolforge-tool": "demo"}
    start = time.time_ns() - (a.runs - 1) * EVERY - 2 * MINUTE  # the last run ends 1.5 minutes ago
    # The window ends with the last run (with 20,160 runs: now), and holds its last days of runs.
    window_start = start + (a.runs - 1) * EVERY - int(a.window_days * 24 * 60) * MINUTE
    in_window = [run for run in range(a.runs) if start + run * EVERY >= window_start]
    node = Node(a, work, "folded")
    agent, gateway, gateway_at = node.agent, node.gateway, node.gateway_at
    started = time.time()
    try:
        node.write(range(a.runs), start, pool)
        written = time.time() - started
        time.sleep(2)
        disk = allocated(node.data)
        history = allocated(os.path.join(node.data, "history"))
        agent_rss, gateway_rss = stack.rss_mib(agent.pid), stack.rss_mib(gateway.pid)

        def page(query):
            t = time.time()
            body = json.loads(get(gateway_at, "/v1/tool/demo/job/tick/runs?" + query, demo))["data"]
            return body, (time.time() - t) * 1000

        listed, cursor, pages, deepest = [], None, 0, None
        while True:
            body, _ = page("limit=1000" + (f"&before={urllib.parse.quote(cursor)}" if cursor else ""))
            listed += body["runs"]
            pages += 1
            cursor = body.get("next")
            if not cursor:
                break
            deepest = cursor
        names = [r["run"] for r in listed]
        expected = [f"tick-{29_000_000 + run}" for run in reversed(range(a.runs))]
        exits_right = all((r.get("exit_code") == 1) == failed(int(r["run"][5:]) - 29_000_000) for r in listed)
        first_ms = min(page("limit=50")[1] for _ in range(5))
        # The deepest page the listing reached: past all but the last (up to 1,000) runs.
        deep_query = "limit=50" + (f"&before={urllib.parse.quote(deepest)}" if deepest else "")
        deep_ms = min(page(deep_query)[1] for _ in range(5))
        failures, _ = page("limit=1000&state=failed")
        failed_right = sorted(r["run"] for r in failures["runs"]) == sorted(f"tick-{29_000_000 + run}" for run in range(a.runs) if failed(run))

        def read(run):
            query = urllib.parse.urlencode({"run": f"tick-{29_000_000 + run}", "since": iso(start - MINUTE)})
            text = get(gateway_at, "/v1/tool/demo/job/tick/logs?" + query, {**demo, "Accept": "text/plain"}).decode()
            return text.splitlines() == lines_of(run, pool)

        oldest_ok, failed_ok = read(0), read(7)
        tail_ms, tail = node.job_tail(start)
        tail_ok = tail.splitlines() == [line for run in range(a.runs - 5, a.runs) for line in lines_of(run, pool)]
        window = node.read_window(window_start)
        old_run_ms = node.last_lines_ms(0, start)
        restart = node.restart_agent(a.runs)
        node.stop()
        # The same runs of the window as ring files (folding off): the read as it was before.
        rings = Node(a, work, "rings", "--fold-runs", "false")
        rings.write(range(in_window[0], a.runs), start, pool, folded=False)
        window_rings = rings.read_window(window_start)
        ring_run_ms = rings.last_lines_ms(a.runs - 1, start)
        rings.stop()
    finally:
        node.stop()
        shutil.rmtree(work, ignore_errors=True)
    print("### A job that runs every minute, for 14 days, with the shipped defaults\n")
    print(f"{a.runs:,} runs of 20 lines through a real agent (budget 20 GiB, prefix 1 MiB, suffix 15 MiB, max age 14 d, "
          f"folding a minute after a run ends) and gateway ({time.strftime('%Y-%m-%d')}; written in {written:.0f} s, "
          f"{a.batch:,} runs a batch). Before history files the same defaults kept 10 runs.\n")
    print("| check | result |")
    print("|---|---|")
    print(f"| runs listed through the gateway, {pages} pages of 1,000 | **{len(listed):,}** of {a.runs:,}, "
          f"{'each once, newest first' if names == expected else '**not each once in order**'} |")
    exits = "every run's right" if exits_right else "**wrong**"
    print(f"| exit codes | {exits} |")
    print(f"| `state=failed` | {len(failures['runs'])} runs, {'exactly the failed ones' if failed_right else '**not the failed ones**'} |")
    print(f"| the oldest run ({(time.time_ns() - start) / (24 * 60 * MINUTE):.1f} days old), and a failed one of the first day, read | "
          f"{'line for line' if oldest_ok and failed_ok else '**differs**'} |")
    print(f"| first page of 50 / a deep page (50 runs after the first {(pages - 1) * 1000:,}) | {first_ms:.1f} ms / {deep_ms:.1f} ms "
          f"({deep_ms / first_ms:.2f}x) |")
    print(f"| disk per run: the history files / the whole data directory (the tool's activity ring too: "
          f"3 events a run) | {history / a.runs:,.0f} B / {disk / a.runs:,.0f} B ({disk / 2**20:.1f} MiB in all) |")
    print(f"| agent RSS / gateway RSS, after writing | {agent_rss:.0f} MiB / {gateway_rss:.0f} MiB |")
    print(f"| the agent restarted over that data directory ({'cold' if node.cold else 'warm'} page cache): ready / every run listed / RSS | {restart[0]:.2f} s / "
          f"{restart[1]:.2f} s / {restart[2]:.0f} MiB |")
    print(f"| the job's last 100 lines over all {a.runs:,} runs (`--since 14d -n 100`) | {tail_ms:.1f} ms, "
          f"{'the last 5 runs line for line' if tail_ok else '**not the last 5 runs**'} |")
    print(f"| the last 100 lines of one run: the oldest, folded / the newest, in its ring file | {old_run_ms:.1f} ms / "
          f"{ring_run_ms:.1f} ms ({old_run_ms / ring_run_ms:.2f}x) |")
    want = len(in_window) * 20
    for label, (lines, first, took) in ((f"folded ({a.runs:,} runs kept)", window), (f"ring files ({len(in_window):,} runs)", window_rings)):
        print(f"| `--since {a.window_days:g}d` as text, {label} | {lines:,} of {want:,} lines; first byte {first * 1000:,.0f} ms, "
              f"all in {took:.2f} s ({lines / max(took, 1e-9):,.0f} lines/s) |")
    ok = len(listed) == a.runs and names == expected and exits_right and failed_right and oldest_ok and failed_ok
    ok = ok and window[0] == want and window_rings[0] == want and tail_ok
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
