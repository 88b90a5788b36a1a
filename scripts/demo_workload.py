#!/usr/bin/env python3
"""The local stack's demo workload: writes CRI log files the way the kubelet does, and a PodList
per node for their metadata, then keeps the live containers talking until it is stopped.

usage: demo_workload.py ROOT NODE [NODE ...]   (pods in ROOT/pods-NODE, PodList ROOT/pods-NODE.json)
"""
import json
import os
import random
import signal
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone


def stamp(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}000Z"


class Pod:
    def __init__(self, root, node, namespace, name, labels, owner=None, container="job", state=None):
        self.node, self.namespace, self.name, self.container = node, namespace, name, container
        self.uid = str(uuid.uuid4())
        self.labels, self.owner, self.state = labels, owner, state or {"running": {"startedAt": stamp(now())}}
        directory = os.path.join(root, f"pods-{node}", f"{namespace}_{name}_{self.uid}", container)
        os.makedirs(directory, exist_ok=True)
        self.path = os.path.join(directory, "0.log")

    def write(self, lines, stream="stdout", at=None):
        at = at or now()
        with open(self.path, "a") as log:
            for offset, line in enumerate(lines):
                log.write(f"{stamp(at + timedelta(microseconds=offset))} {stream} F {line}\n")

    def manifest(self):
        metadata = {"name": self.name, "namespace": self.namespace, "uid": self.uid, "labels": self.labels}
        if self.owner:
            metadata["ownerReferences"] = [{"kind": self.owner[0], "name": self.owner[1]}]
        return {"metadata": metadata, "spec": {"nodeName": self.node, "containers": [{"name": self.container}]},
                "status": {"containerStatuses": [{"name": self.container, "restartCount": 0, "state": self.state}]}}


def now():
    return datetime.now(timezone.utc)


def finished(exit_code, minutes_ago):
    end = now() - timedelta(minutes=minutes_ago)
    return {"terminated": {"exitCode": exit_code, "reason": "Completed" if exit_code == 0 else "Error",
                           "startedAt": stamp(end - timedelta(minutes=1)), "finishedAt": stamp(end)}}


def component(kind, name):
    return {"app.kubernetes.io/component": kind, "app.kubernetes.io/name": name}


def main(root, nodes):
    first, second = nodes[0], nodes[-1]
    pods = []

    def pod(*args, **kwargs):
        pods.append(Pod(root, *args, **kwargs))
        return pods[-1]

    worker = pod(first, "tool-demo", "worker-7d9f-abcde", component("deployments", "worker"))
    web = [pod(node, "tool-demo", f"demo-5c8b-{suffix}", component("web", "demo"), container="webservice")
           for node, suffix in ((first, "r1"), (second, "r2"))]
    for run, (code, minutes) in enumerate(((0, 50), (1, 30), (0, 10))):
        job = f"backup-2900000{run}"
        backup = pod(second, "tool-demo", f"{job}-x{run}", component("cronjobs", "backup"), owner=("Job", job),
                     state=finished(code, minutes))
        backup.write([f"backup run {run}: copying tables", f"backup run {run}: {'done' if code == 0 else 'out of space'}"],
                     at=now() - timedelta(minutes=minutes + 1))
        if code:
            backup.write([f"backup run {run}: error: disk full"], stream="stderr", at=now() - timedelta(minutes=minutes))
    once = pod(first, "tool-demo", "migrate-q1w2e", component("jobs", "migrate"), owner=("Job", "migrate"),
               state=finished(0, 5))
    once.write(["migrating schema", "migration 0042 applied"], at=now() - timedelta(minutes=6))
    build = pod(second, "image-build", "demo-build-r8x-pod", {"tekton.dev/pipelineRun": "demo-build-r8x", "user": "demo"},
                container="step-build", state=finished(0, 20))
    build.write(["Step 1/3: detecting buildpacks", "Step 2/3: installing python 3.13", "Step 3/3: exporting image"],
                at=now() - timedelta(minutes=21))
    noisy = pod(first, "tool-demo", "noisy-6f5d-zzzzz", component("deployments", "noisy"))
    # Random hex (it compresses only about 2x, as zstd blocks do noisy output): 4.6 MB that a
    # 1 MiB suffix cannot hold, so that the read shows the lines that rolled over.
    filler = random.Random(6)
    noisy.write([f"noisy line {n:07d} {filler.getrandbits(400):0100x}" for n in range(40_000)])
    pod(first, "tool-other", "secret-1a2b-ccccc", component("deployments", "secret")).write(["only tool other may read this"])

    for node in nodes:
        items = [p.manifest() for p in pods if p.node == node]
        path = os.path.join(root, f"pods-{node}.json")
        with open(path + ".tmp", "w") as out:
            json.dump({"kind": "PodList", "items": items}, out)
        os.replace(path + ".tmp", path)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    tick = 0
    while True:
        tick += 1
        worker.write([f"worker: processed batch {tick}"])
        replica = web[tick % 2]
        replica.write([f'127.0.0.1 - - "GET /page/{random.randint(1, 99)} HTTP/1.1" 200'])
        if tick % 10 == 1:  # from the first tick: the README's `webservice --stream stderr` has a line to show
            replica.write([f"WARNING: slow request /page/{random.randint(1, 99)} took {random.uniform(2, 9):.1f}s"], stream="stderr")
        if tick % 10 == 0:
            worker.write([f"worker: slow batch {tick}"], stream="stderr")
        time.sleep(1)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    try:
        main(sys.argv[1], sys.argv[2:])
    except KeyboardInterrupt:
        pass
