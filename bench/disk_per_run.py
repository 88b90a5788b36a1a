#!/usr/bin/env python3
"""Disk per finished run (issue 20): what a scheduled job's small runs cost a node, with every
run in a ring file of its own (--fold-runs false, what releases before history files did) and
folded into the job's history file (the default), next to zstd -3 of each run's lines alone
(the peer: the smallest a run's text gets as a file of its own).

For each size (lines a run) the real agent (--bin-dir) ingests RUNS pods of one scheduled job
(a kubelet-like pods directory, a PodList that gives each pod's Job, exit code and end), each
run's lines from bench/corpus.py (the eight kinds in turn: varied lines, never one repeated).
Once every run is listed finished (and, folded, once no ring file of a run is left), and the
pods are deleted as the kubelet does (the agent then forgets their containers), the whole
data directory's allocated bytes (st_blocks * 512, indexes and the activity ring included)
divided by runs. "folded within" is the time from the last run listed finished to the last
ring file gone (the agent folds runs finished for --fold-after 1s here, 1m by default, and looks
every 15 s). Every run is then read back through the agent's API and compared line for line.

  python3 bench/disk_per_run.py [--bin-dir .build/release] [--sizes 1:500 20:1000 100:300 10000:10]

Loopback only; the agent is stopped by its PID; every wait is bounded; files under the peers'
ROOT (/tmp/peers/disk-per-run), removed at the end.
"""
import argparse, json, os, random, shutil, sys, time, urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import corpus  # noqa: E402
from agent_ingest import peers, start_agent  # noqa: E402
from history_per_byte import Zstd, write_cri  # noqa: E402

ROOT = os.path.join(peers.ROOT, "disk-per-run")
JOB = "tick"


def runs_of(size, count, seed):
    """`count` runs of `size` lines each, the corpus's kinds in turn: [(lines, times)]."""
    kinds = list(corpus.KINDS)
    streams = {kind: corpus.generate(kind, seed, lines=size * count, times=True) for kind in kinds}
    out = []
    for run in range(count):
        pairs = [next(streams[kinds[run % len(kinds)]]) for _ in range(size)]
        out.append(([line.encode() for line, _ in pairs], [us for _, us in pairs]))
    return out


def pod_entry(name, uid, run):
    code, reason = (1, "Error") if run % 97 == 7 else (0, "Completed")
    return {"metadata": {"name": name, "namespace": "tool-demo", "uid": uid,
                         "labels": {"app.kubernetes.io/component": "cronjobs", "app.kubernetes.io/name": JOB},
                         "ownerReferences": [{"kind": "Job", "name": name.rsplit("-", 1)[0]}]},
            "spec": {"nodeName": "bench", "containers": [{"name": "job", "image": "tool-demo/tool-demo:latest"}]},
            "status": {"containerStatuses": [{"name": "job", "restartCount": 0, "state": {"terminated": {
                "exitCode": code, "reason": reason, "startedAt": "2026-11-30T10:00:00Z", "finishedAt": "2026-11-30T10:00:05Z"}}}]}}


def write_pods(work, runs, seed):
    pods = os.path.join(work, "pods")
    entries = []
    for run, (lines, times) in enumerate(runs):
        name = f"{JOB}-{29_000_000 + run}-x7k2p"
        uid = f"00000000-0000-4000-8000-{run:012d}"
        d = os.path.join(pods, f"tool-demo_{name}_{uid}", "job")
        os.makedirs(d)
        write_cri(os.path.join(d, "0.log"), lines, times, random.Random(f"cri {seed} {run}"))
        entries.append(pod_entry(name, uid, run))
    with open(os.path.join(work, "pods.json"), "w") as f:
        json.dump({"kind": "PodList", "items": entries}, f)
    return pods


def get(port, path, accept="application/json"):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=60) as r:
        return r.read()


def scheduled(port):
    return json.loads(get(port, "/internal/v2/rings?kind=scheduled"))["rings"]


def allocated(directory):
    total = 0
    for root, _, files in os.walk(directory):
        for name in files:
            total += os.lstat(os.path.join(root, name)).st_blocks * 512
    return total


def ring_files(data):
    return [n for n in os.listdir(data) if n.endswith(".ring")]


def measure(a, size, count, fold):
    work = peers.fresh(os.path.join(ROOT, f"{size}-{'fold' if fold else 'rings'}"))
    runs = runs_of(size, count, a.seed)
    pods = write_pods(work, runs, a.seed)
    data = os.path.join(work, "data")
    extra = ["--pods-json", os.path.join(work, "pods.json"), "--budget-bytes", "1TiB", "--tool-share", "1"]
    extra += ["--fold-after", "1s"] if fold else ["--fold-runs", "false"]
    agent, port = start_agent(os.path.join(a.bin_dir, "logs-agent"), pods, data, extra)
    try:
        deadline = time.time() + a.timeout
        while time.time() < deadline:
            rings = scheduled(port)
            if len(rings) == count and all(r["state"] == "finished" for r in rings):
                break
            time.sleep(0.5)
        else:
            raise SystemExit(f"{size} lines a run: the agent did not finish {count} runs in {a.timeout:.0f} s")
        finished = time.time()
        took = None
        if fold:
            # Every run folds but those over the fold limit (256 KiB of blocks), which keep their
            # ring files: done when none is left, or when none has folded for two fold passes.
            left, since = len(ring_files(data)) - 1, time.time()  # the activity's ring stays
            while time.time() < deadline and left > 0 and time.time() - since < 35:
                time.sleep(0.5)
                now_left = len(ring_files(data)) - 1
                if now_left < left:
                    left, since = now_left, time.time()
            took = since - finished
        unfolded = len(ring_files(data)) - 1
        # The kubelet deletes finished pods (a CronJob keeps its last few): the agent then forgets
        # their containers, which it kept so as not to read them in again while they were there.
        shutil.rmtree(pods)
        os.makedirs(pods)
        with open(os.path.join(work, "pods.json"), "w") as f:
            json.dump({"kind": "PodList", "items": []}, f)
        retired = os.path.join(data, "retired-containers")
        while time.time() < deadline + 30 and os.path.exists(retired) and os.path.getsize(retired) > 0:
            time.sleep(0.5)
        disk = allocated(data)
        by_run = {r["run"]: r for r in scheduled(port)}
        for run, (lines, _) in enumerate(runs):
            ring = by_run[f"{JOB}-{29_000_000 + run}"]
            text = get(port, f"/internal/v2/rings/{ring['id']}/logs", accept="text/plain")
            if text != b"".join(line + b"\n" for line in lines):
                raise SystemExit(f"{size} lines a run: run {run} read back differs")
        failed = sum(1 for r in by_run.values() if r.get("exit_code") == 1)
        return disk / count, took, failed, count - unfolded
    finally:
        peers.stop(agent)
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin-dir", default=os.path.join(REPO, ".build", "release"))
    ap.add_argument("--sizes", nargs="+", default=["1:500", "20:1000", "100:300", "10000:10"],
                    help="LINES:RUNS pairs (default 1:500 20:1000 100:300 10000:10)")
    ap.add_argument("--seed", type=int, default=20)
    ap.add_argument("--timeout", type=float, default=300, help="seconds each agent may take to ingest and fold")
    a = ap.parse_args()
    zstd = Zstd(3)
    rows = []
    started = time.time()
    for pair in a.sizes:
        size, count = map(int, pair.split(":"))
        text = [b"".join(line + b"\n" for line in lines) for lines, _ in runs_of(size, count, a.seed)]
        peer = sum(zstd.size(t) for t in text) / count
        payload = sum(map(len, text)) / count
        rings, _, _, _ = measure(a, size, count, fold=False)
        folded, took, failed, how_many = measure(a, size, count, fold=True)
        rows.append((size, count, payload, rings, folded, took, peer, failed, how_many))
        print(f"{size} lines a run: {rings:,.0f} B as ring files, {folded:,.0f} B folded ({how_many} of {count}), zstd {peer:,.0f} B",
              file=sys.stderr, flush=True)
    print("### Disk per finished run: ring files, folded, zstd -3\n")
    print(f"A scheduled job's finished runs through the real agent; the whole data directory's allocated bytes per run "
          f"({time.strftime('%Y-%m-%d')}, {zstd.version}, {time.time() - started:.0f} s). Target: <= 2 KiB a run of 20 lines, "
          f"folded within 2 minutes.\n")
    print("| lines a run | runs | text a run | ring files | folding on | runs folded | zstd -3 of the run alone | folding on / zstd | last fold after the runs ended | runs read back |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for size, count, payload, rings, folded, took, peer, failed, how_many in rows:
        print(f"| {size:,} | {count:,} | {payload:,.0f} B | {rings:,.0f} B | **{folded:,.0f} B** | {how_many:,} | {peer:,.0f} B | "
              f"{folded / peer:.2f}x | {took:.1f} s | all {count:,} ({failed} failed, with their exit code) |")
    print("\nRuns over the fold limit (256 KiB of blocks) keep their ring files: 'runs folded' says how many folded.")


if __name__ == "__main__":
    main()
