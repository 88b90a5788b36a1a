"""The platform's own logs clients, unchanged from PyPI, against this service.

`toolforge-jobs logs` (toolforge-jobs-cli 16.2.3) and `toolforge-logs` (toolforge-logs-cli 0.0.5)
run in the virtual environment that scripts/platform-clients makes, against two agents' worth
of pods, in both layouts: (a) as on the platform, nginx in front (mutual TLS with the tool's
certificate, `/logs` stripped, `x-toolforge-tool` from the certificate), our gateway behind it
in proxy mode; (b) our gateway alone, in mutual TLS, answering under `/logs` itself.

    BIN=<swift bin dir> VENV=<venv> python3 -m pytest Tests/PlatformClients
"""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from platform_stack import Stack, wait_for  # noqa: E402
from demo_workload import component, finished, now, stamp  # noqa: E402

BIN = os.environ["BIN"]
VENV = os.environ["VENV"]
WORKER_LINES = 1200
SEPARATOR_LINE = "before\u2028after the line separator"


def write_pods(s, pod):
    """The tool demo's jobs (one with more lines than a page, on two nodes), a build, and a job
    of the tool other."""
    at = now()
    s.worker = pod("node-1", "tool-demo", "worker-7d9f-abcde", component("deployments", "worker"))
    start = at - timedelta(minutes=40)
    with open(s.worker.path, "a") as log:
        for n in range(WORKER_LINES):
            log.write(f"{stamp(start + timedelta(seconds=n))} stdout F worker line {n:05d}\n")
    replica = pod("node-2", "tool-demo", "worker-7d9f-fghij", component("deployments", "worker"))
    replica.write(["replica on node-2"], at=at - timedelta(minutes=5))
    s.separator = pod("node-2", "tool-demo", "sep-1111-aaaaa", component("deployments", "sep"))
    s.separator.write([SEPARATOR_LINE], at=at - timedelta(minutes=3))
    old = pod("node-1", "tool-demo", "old-2222-bbbbb", component("jobs", "old"), owner=("Job", "old"), state=finished(0, 300))
    old.write(["from long ago"], at=at - timedelta(hours=5))
    s.quiet = pod("node-1", "tool-demo", "quiet-3333-ccccc", component("deployments", "quiet"))
    s.quiet.write(["quiet: started"], at=at - timedelta(minutes=1))
    build = pod("node-2", "image-build", "demo-build-abc-pod", {"tekton.dev/pipelineRun": "demo-build-abc", "user": "demo"},
                container="step-build", state=finished(0, 2))
    build.write(["build step: exporting image"], at=at - timedelta(minutes=3))
    pod("node-1", "tool-other", "secret-4444-ddddd", component("deployments", "secret")).write(["only tool other may read this"])


@pytest.fixture(scope="module", params=["nginx", "standalone"])
def stack(request):
    s = Stack(request.param, BIN, VENV, write_pods)
    try:
        # The agents have ingested everything once the job reads back whole.
        wait_for(lambda: s.run("toolforge-jobs", "logs", "worker", "-l", "1").stdout.strip().endswith(f"worker line {WORKER_LINES - 1:05d}")
                 or "replica on node-2" in s.run("toolforge-jobs", "logs", "worker", "-l", "1").stdout, "the worker's lines", 60)
        yield s
    finally:
        s.stop()


def lines_of(result):
    assert result.returncode == 0, result.stderr
    # Split at newlines only: splitlines() would break the U+2028 line, as the clients must not.
    return [line for line in result.stdout.split("\n") if line]


def test_last_lines(stack):
    out = lines_of(stack.run("toolforge-jobs", "logs", "worker", "-l", "3"))
    assert len(out) == 3
    assert out[-1].endswith("] [job] replica on node-2"), out
    assert out[0].endswith(f"worker line {WORKER_LINES - 2:05d}") and "[worker-7d9f-abcde] [job]" in out[0]


def test_default_window_pages_every_line_once_in_order(stack):
    out = lines_of(stack.run("toolforge-jobs", "logs", "worker"))
    worker = [line for line in out if "worker line" in line]
    assert [int(line.rsplit(" ", 1)[1]) for line in worker] == list(range(WORKER_LINES))
    assert out[-1].endswith("replica on node-2")
    times = [line.split(" ", 1)[0] for line in out]
    assert times == sorted(times)


def test_since_and_until(stack):
    recent = lines_of(stack.run("toolforge-jobs", "logs", "worker", "--since", "10m"))
    assert recent and all("worker line" not in line for line in recent), recent
    start = datetime.now(timezone.utc) - timedelta(minutes=40)
    offset = timezone(timedelta(hours=1))
    since = (start + timedelta(seconds=100)).astimezone(offset).isoformat(timespec="seconds")
    until = (start + timedelta(seconds=110)).astimezone(offset).isoformat(timespec="seconds")
    window = lines_of(stack.run("toolforge-jobs", "logs", "worker", "--since", since, "--until", until))
    assert 9 <= len(window) <= 11 and all("worker line" in line for line in window), window
    assert lines_of(stack.run("toolforge-jobs", "logs", "worker", "--until", "1m", "-l", "2"))[-1].endswith("replica on node-2")


def test_no_logs_and_bad_input(stack):
    gone = stack.run("toolforge-jobs", "logs", "old")
    assert gone.returncode == 1 and "Job 'old' does not have any logs available" in gone.stderr
    bad = stack.run("toolforge-jobs", "logs", "worker", "--since", "yesterday")
    assert bad.returncode == 1 and 'Invalid "since" time' in bad.stderr
    reversed_window = stack.run("toolforge-jobs", "logs", "worker", "--since", "1m", "--until", "2h")
    assert reversed_window.returncode == 1 and '"since" time must be before "until" time' in reversed_window.stderr


def test_other_tool_is_denied(stack):
    home = stack.make_home("other", cert_tool="demo")
    for command in (("toolforge-jobs", "logs", "secret"), ("toolforge-jobs", "logs", "secret", "-f"), ("toolforge-logs",)):
        result = stack.run(*command, home=home, timeout=30)
        assert result.returncode != 0, command
        assert "only tool other may read this" not in result.stdout + result.stderr


def test_line_separator_survives(stack):
    out = lines_of(stack.run("toolforge-jobs", "logs", "sep"))
    assert out == [out[0]] and out[0].endswith(SEPARATOR_LINE)


def default_sigint():
    """Run in the follower before it starts: a background job of a non-interactive shell (`nohup
    ./scripts/test &`) starts with SIGINT ignored, every child inherits that, and Python then never
    turns a SIGINT into KeyboardInterrupt. The user's follow is stopped with ^C; so is this one,
    whatever started the tests. (Popen's restore_signals does not cover SIGINT.)"""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_follow(stack):
    output = os.path.join(stack.root, "follow.out")
    errors = os.path.join(stack.root, "follow.err")
    with open(output, "w") as out, open(errors, "w") as err:
        follower = subprocess.Popen([os.path.join(VENV, "bin", "toolforge-jobs"), "logs", "quiet", "-f", "-l", "1"], env=stack.env(),
                                    stdout=out, stderr=err, preexec_fn=default_sigint)
    try:
        wait_for(lambda: "quiet: started" in open(output).read(), "the follow's first line")
        stack.quiet.write(["quiet: one", SEPARATOR_LINE])
        wait_for(lambda: "quiet: one" in open(output).read(), "a line appended while following")
        # Quiet for longer than nginx's and our keep-alives' intervals: the follow holds.
        time.sleep(31 if stack.layout == "nginx" else 6)
        assert follower.poll() is None, open(output).read()
        stack.quiet.write(["quiet: after the silence"])
        wait_for(lambda: "quiet: after the silence" in open(output).read(), "a line after a quiet spell")
    finally:
        follower.send_signal(signal.SIGINT)
        try:
            follower.wait(10)
        except subprocess.TimeoutExpired:
            follower.kill()
            raise
    text = open(output).read()
    assert "Traceback" not in open(errors).read() and "Error" not in text, text
    lines = [line for line in text.split("\n") if line.strip()]
    assert [line.split("] ", 2)[-1] for line in lines] == ["quiet: started", "quiet: one", SEPARATOR_LINE, "quiet: after the silence"], lines


def test_logs_cli_filters_and_directions(stack):
    default = lines_of(stack.run("toolforge-logs"))
    assert "Unable to parse log" not in stack.run("toolforge-logs").stderr
    assert any("[worker] [worker-7d9f-abcde|job] worker line 00000" in line for line in default)
    assert not any("exporting image" in line for line in default)
    newest = lines_of(stack.run("toolforge-logs", "--direction", "newest_first", "--lines", "2", "--job-names", "worker"))
    assert len(newest) == 2 and newest[0].endswith("replica on node-2") and newest[1].endswith(f"worker line {WORKER_LINES - 1:05d}")
    oldest = lines_of(stack.run("toolforge-logs", "--lines", "2", "--job-names", "worker"))
    assert [line.rsplit(" ", 1)[1] for line in oldest] == ["00000", "00001"]
    builds = lines_of(stack.run("toolforge-logs", "--build-ids", "demo-build-abc", "--json"))
    assert [json.loads(line)["message"] for line in builds] == ["build step: exporting image"]
    assert json.loads(builds[0])["source"] == "builds"
    only_sep = [json.loads(line) for line in lines_of(stack.run("toolforge-logs", "--json", "--job-names", "sep", "--sources", "run-logs"))]
    assert [(e["source"], e["job_name"], e["message"]) for e in only_sep] == [("run-logs", "sep", SEPARATOR_LINE)]
    none = stack.run("toolforge-logs", "--deployment-ids", "d-1", "--sources", "deployments")
    assert none.returncode == 0 and none.stdout.strip() == ""


def test_event_pushed_the_platform_way(stack):
    if stack.gateway is None:
        pytest.skip("services write through the platform's API gateway (layout a)")
    event = {"message": "job worker created", "event_type": "created", "job_name": "worker", "user_name": "alice",
             "message_format": "text"}
    request = urllib.request.Request(stack.gateway + "/v1/tool/demo/source/jobs-api/log", data=json.dumps(event).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "x-toolforge-user": "service:jobs-api"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert json.load(answer)["data"]["status"] == "OK"
    incomplete = urllib.request.Request(stack.gateway + "/v1/tool/demo/source/jobs-api/log",
                                        data=json.dumps({"message": "x", "event_type": "created"}).encode(), method="POST",
                                        headers={"Content-Type": "application/json", "x-toolforge-user": "service:jobs-api"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(incomplete, timeout=10)
    assert refused.value.code == 400 and "job_name" in json.load(refused.value)["messages"]["error"][0]
    wait_for(lambda: "JOB CREATED: job 'worker' created by user 'alice', with message (format: text) 'job worker created'"
             in stack.run("toolforge-logs", "--sources", "jobs").stdout, "the event read back by the logs CLI", 20)
    # The job filter selects the job's events and output, nothing of other jobs.
    worker = lines_of(stack.run("toolforge-logs", "--job-names", "worker", "--direction", "newest_first", "--lines", "3"))
    assert "JOB CREATED" in worker[0] and worker[1].endswith("replica on node-2"), worker
    assert "JOB CREATED" not in stack.run("toolforge-logs", "--job-names", "sep").stdout
