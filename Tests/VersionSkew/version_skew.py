#!/usr/bin/env python3
"""Agents and gateways of adjacent releases, and a data directory handed back and forth between
them, as a DaemonSet roll (and its rollback) would (issue 20, "Upgrades and rollback"). Runs of
a scheduled job are written as the kubelet leaves them (CRI logs and a PodList), finish, fold,
and are listed and read through each gateway, after each step:

  1. the previous release's agent writes and folds runs 0-5 (histories without a run index);
     both gateways list and read them;
  2. this release's agent opens that directory (indexes the histories once; the pods are still
     on the node: nothing is read in again); both gateways list and read them;
  3. it writes and folds runs 6-8 (with their index records);
  4. the previous release's agent opens the directory again (rollback): all 9 runs, once each;
     it writes and folds run 9 (past the index);
  5. this release's agent again: all 10 runs, once each, lines as written.

  python3 Tests/VersionSkew/version_skew.py --old-bin OLD/.build/debug --new-bin .build/debug

OLD is a checkout of the previous release, built (`swift build --product logs-agent` and
`--product logs-gateway`). Not part of `./scripts/test`: it needs that second build. Loopback
only; processes stopped by PID; every wait bounded; files under /tmp/version-skew.
"""
import argparse, datetime, json, os, shutil, sys, time, urllib.parse, urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "bench"))
import stack  # noqa: E402
from stack import peers  # noqa: E402

ROOT = "/tmp/version-skew"
START = 1_790_000_000 * 1_000_000_000


def iso(ns):
    return datetime.datetime.fromtimestamp(ns / 1e9, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def lines(run):
    return [f"run {run} line {n}: <b>hostile</b> \u202e bytes {run * 31 + n}" for n in range(5)]


class Node:
    def __init__(self):
        self.pods, self.podlist = os.path.join(ROOT, "pods"), os.path.join(ROOT, "pods.json")
        os.makedirs(self.pods)
        self.entries = []
        self.agent = self.gateways = None

    def write(self, runs):
        """The runs' pod directories and PodList entries, finished (run 4 failed)."""
        for run in runs:
            t = START + run * 60_000_000_000
            name, uid = f"tick-{29_000_000 + run}", f"00000000-0000-4000-8000-{run:012d}"
            d = os.path.join(self.pods, f"tool-demo_{name}-x7k2p_{uid}", "job")
            os.makedirs(d)
            with open(os.path.join(d, "0.log"), "w") as f:
                f.writelines(f"{iso(t + n * 1_000_000)} stdout F {line}\n" for n, line in enumerate(lines(run)))
            self.entries.append({"metadata": {"name": f"{name}-x7k2p", "namespace": "tool-demo", "uid": uid,
                                              "labels": {"app.kubernetes.io/component": "cronjobs", "app.kubernetes.io/name": "tick"},
                                              "ownerReferences": [{"kind": "Job", "name": name}]},
                                 "spec": {"nodeName": "node-1", "containers": [{"name": "job"}]},
                                 "status": {"containerStatuses": [{"name": "job", "restartCount": 0, "state": {"terminated": {
                                     "exitCode": 1 if run == 4 else 0, "reason": "Error" if run == 4 else "Completed",
                                     "startedAt": iso(t)[:19] + "Z", "finishedAt": iso(t + 30_000_000_000)[:19] + "Z"}}}]}})
        with open(self.podlist + ".tmp", "w") as f:
            json.dump({"kind": "PodList", "items": self.entries}, f)
        os.rename(self.podlist + ".tmp", self.podlist)

    def start(self, agent_bin, gateway_bins):
        self.stop()
        self.agent, at = stack.agent(agent_bin, ROOT, "--pods-json", self.podlist, "--fold-after", "1s")
        self.gateways = {name: stack.gateway(b, ROOT, [("node-1", at)], "--trusted-proxy", "127.0.0.1/32", name=f"gateway-{name}")
                         for name, b in gateway_bins.items()}
        self.agent_at = at

    def stop(self):
        for p, _ in (self.gateways or {}).values():
            peers.stop(p)
        if self.agent:
            peers.stop(self.agent)

    def stats(self):
        request = urllib.request.Request(f"http://{self.agent_at}/internal/v2/stats", headers={"Authorization": f"Bearer {stack.TOKEN}"})
        with urllib.request.urlopen(request, timeout=30) as r:
            return next((t for t in json.loads(r.read())["usage"]["tools"] if t["tool"] == "demo"), {})

    def wait_folded(self, count, timeout=90):
        deadline = time.time() + timeout
        while time.time() < deadline:
            mine = self.stats()
            if mine.get("runs") == count and mine.get("folded_rings") == count:
                return
            time.sleep(0.5)
        raise SystemExit(f"{count} runs not all finished and folded: {self.stats()}")


def get(at, path, accept="application/json"):
    request = urllib.request.Request(f"http://{at}{path}", headers={"x-toolforge-tool": "demo", "Accept": accept})
    with urllib.request.urlopen(request, timeout=60) as r:
        return r.read()


def check(node, runs, step):
    """Every gateway lists exactly `runs`, once each with its exit code, and reads each run's lines as written."""
    failures = []
    for name, (_, at) in node.gateways.items():
        deadline = time.time() + 30
        while True:
            page = json.loads(get(at, "/v1/tool/demo/job/tick/runs?limit=100"))["data"]
            listed = sorted(r["run"] for r in page["runs"])
            want = sorted(f"tick-{29_000_000 + r}" for r in runs)
            if listed == want or time.time() > deadline:
                break
            time.sleep(1)
        if listed != want:
            failures.append(f"{name} gateway lists {listed}, not {want}")
            continue
        codes = {r["run"]: r.get("exit_code") for r in page["runs"]}
        for run in runs:
            key = f"tick-{29_000_000 + run}"
            if codes[key] != (1 if run == 4 else 0):
                failures.append(f"{name} gateway: {key} exit code {codes[key]}")
            text = get(at, "/v1/tool/demo/job/tick/logs?" + urllib.parse.urlencode({"run": key, "since": iso(START - 3_600_000_000_000)}),
                       accept="text/plain").decode()
            got = [line.split(" ", 1)[1] if line[:4].isdigit() else line for line in text.splitlines()]
            if got != lines(run) and text.splitlines() != lines(run):
                failures.append(f"{name} gateway: {key} reads {text.splitlines()[:2]}…")
    status = "ok" if not failures else "FAILED"
    print(f"{step}: {len(runs)} runs through {', '.join(node.gateways)} gateways: {status}")
    for failure in failures:
        print("  " + failure)
    return not failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--old-bin", required=True)
    ap.add_argument("--new-bin", default=os.path.join(REPO, ".build", "debug"))
    a = ap.parse_args()
    shutil.rmtree(ROOT, ignore_errors=True)
    os.makedirs(ROOT)
    node = Node()
    both = {"previous": a.old_bin, "this": a.new_bin}
    ok = True
    # (which agent starts, or None: the same goes on; runs written first; the step's name)
    steps = [(a.old_bin, range(0, 6), "1. previous agent, its folded runs"),
             (a.new_bin, range(0), "2. this agent over them (upgrade)"),
             (None, range(6, 9), "3. this agent folds more"),
             (a.old_bin, range(0), "4. previous agent again (rollback)"),
             (None, range(9, 10), "4. previous agent folds one more"),
             (a.new_bin, range(0), "5. this agent again")]
    written = 0
    try:
        for agent, runs, name in steps:
            node.write(runs)
            written += len(runs)
            if agent:
                node.start(agent, both)
            node.wait_folded(written)
            ok &= check(node, range(0, written), name)
    finally:
        node.stop()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
