#!/usr/bin/env python3
"""Reads through the gateway (issue 6), each side by side with its peers in one run, on the
peers' 1 M-line, 157 MB CRI data set ingested by a node agent into one ring that holds it all
(512 MiB suffix: nothing rolls over), behind a gateway in proxy mode (as on the platform):

  last 1,000 lines      a warm keep-alive HTTP client, text/plain | tail -n 1000 | journalctl -n 1000
  1,000 lines mid-file  since/until (1 s of the data set)          | journalctl --since --until
  full download         text/plain of the whole run, curl          | nginx serving the same bytes, curl
  small reads           a JSON page of lines=10 under wrk -t2 -c64 | the agent alone (lines=10); nginx, 4 KiB

Median [min–max] of --runs, and ratios. The journal is the peers' own (systemd-journal-remote
fed the same lines). Markdown table.

  python3 bench/gateway_reads.py [--runs 30] [--bin .build/release]

Loopback only; every process is stopped by its PID; every wait is bounded.
"""
import argparse, http.client, json, os, shutil, statistics, subprocess, sys, time, urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "..", "shared", "bench", "peers"))
import bench as peers  # noqa: E402
from stack import TOKEN, agent, gateway  # noqa: E402

ROOT = os.path.join(peers.ROOT, "reads")


def agent_rings(at):
    request = urllib.request.Request(f"http://{at}/internal/v2/rings", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as r:
        return json.load(r)["rings"]


def cpu_seconds(pid):
    """A process's user + system CPU time so far (/proc/PID/stat, fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed_ms(function, runs):
    function()  # warm
    values = []
    for _ in range(runs):
        started = time.perf_counter_ns()
        function()
        values.append((time.perf_counter_ns() - started) / 1e6)
    return values


def command(cmd, want_lines):
    def run():
        out = subprocess.run(cmd, capture_output=True, check=True).stdout
        assert out.count(b"\n") >= want_lines, (cmd, out.count(b"\n"))
    return run


def fmt(values, unit="ms"):
    return f"{statistics.median(values):,.2f} {unit} [{min(values):,.2f}–{max(values):,.2f}]"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--bin", default=os.path.join(REPO, ".build", "release"))
    a = ap.parse_args()
    size = peers.fsize(peers.CRI)
    if not (os.path.isdir(peers.JDIR) and os.listdir(peers.JDIR)):
        peers.journal_remote(0, size)  # the peers' journal of the same lines
    d = peers.fresh(ROOT)
    container = os.path.join(d, "pods", "tool-demo_cri_0001", "job")
    os.makedirs(container)
    os.link(peers.CRI, os.path.join(container, "0.log"))
    procs = []
    rows = []
    try:
        agent_p, agent_at = agent(a.bin, d, "--suffix-bytes", "512MiB", "--rate-bytes", "100GiB", "--burst-bytes", "100GiB",
                                  "--budget-bytes", "100GiB")
        procs.append(agent_p)
        assert peers.wait_until(lambda: any(r["records_written"] >= peers.N_LINES for r in agent_rings(agent_at)), 300, 0.05), \
            "the agent did not ingest the data set"
        gateway_p, gateway_at = gateway(a.bin, d, [("node-1", agent_at)], "--trusted-proxy", "127.0.0.1/32", "--rate-limit", "100000",
                                        "--spec", os.path.join(REPO, "openapi", "openapi.yaml"))
        procs.append(gateway_p)
        host, port = gateway_at.rsplit(":", 1)
        client = http.client.HTTPConnection(host, int(port), timeout=60)
        headers = {"x-toolforge-tool": "demo", "Accept": "text/plain"}

        def gateway_get(query, want_lines):
            def run():
                client.request("GET", "/v1/tool/demo/job/cri/logs?" + query, headers=headers)
                response = client.getresponse()
                body = response.read()
                assert response.status == 200 and body.count(b"\n") >= want_lines, (response.status, body[:200])
            return run

        # The data set's times are of 2026-11-22: outside the API's default window of an hour.
        last_lines = "since=2026-11-22T00:00:00Z&direction=newest_first&lines="
        assert peers.wait_until(lambda: gateway_get(last_lines + "1", 1)() is None, 20, 0.1) is not None
        since, until = "2026-11-22T10:08:20Z", "2026-11-22T10:08:21Z"
        last = {"gateway, lines=1000 (keep-alive client)": timed_ms(gateway_get(last_lines + "1000", 1000), a.runs),
                "tail -n 1000 (the file)": timed_ms(command(["tail", "-n", "1000", peers.CRI], 1000), a.runs),
                "journalctl -n 1000 (the journal)": timed_ms(command(["journalctl", "-D", peers.JDIR, "-n", "1000", "-o", "cat"], 1000), a.runs)}
        # About a thousand lines in that second (records of lines the runtime split are joined).
        seek = {"gateway, since/until (keep-alive client)": timed_ms(gateway_get(f"since={since}&until={until}", 900), a.runs),
                "journalctl --since --until": timed_ms(command(["journalctl", "-D", peers.JDIR, "--since", peers.MID,
                                                                "--until", peers.MID_END, "-o", "cat"], 1000), a.runs)}
        # Full download: the whole run as text/plain, next to nginx serving the same file.
        # nginx serves the very bytes the gateway sends (the run's messages), saved once.
        www = peers.fresh(os.path.join(ROOT, "www"))
        whole = f"http://{gateway_at}/v1/tool/demo/job/cri/logs?since=2026-11-22T00:00:00Z"
        subprocess.run(["curl", "-s", "--max-time", "120", "-o", os.path.join(www, "run.txt"), "-H", "x-toolforge-tool: demo",
                        "-H", "Accept: text/plain", whole], check=True)
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write(peers.NGINX_CONF.format(d=d, www=www, port=peers.PORT))
        nginx = subprocess.Popen(["nginx", "-e", os.path.join(d, "nginx-error.log"), "-p", d, "-c", conf],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(nginx)
        assert peers.wait_until(lambda: peers._port_open(peers.PORT), 10, 0.02) is not None, "nginx did not come up"
        rounds = max(3, a.runs // 6)
        download = {"gateway, text/plain of the whole run": [], "nginx, the same bytes": []}
        for _ in range(rounds + 1):
            ours = subprocess.run(["curl", "-s", "--max-time", "120", "-o", "/dev/null", "-w", "%{size_download} %{speed_download}",
                                   "-H", "x-toolforge-tool: demo", "-H", "Accept: text/plain",
                                   whole],
                                  capture_output=True, text=True).stdout.split()
            theirs = peers._curl(f"http://127.0.0.1:{peers.PORT}/run.txt")
            download["gateway, text/plain of the whole run"].append(float(ours[1]) / 1e6)
            download["nginx, the same bytes"].append(theirs["speed"] / 1e6)
            ours_bytes = int(ours[0])
        for values in download.values():
            values.pop(0)  # the warm-up round
        # Small reads under load: the platform's path (a JSON page of the last 10 lines) through
        # the gateway, next to the agent alone answering lines=10 of the ring, and nginx serving
        # 4 KiB. The gateway's CPU per request is its user+system time over the requests served.
        with open(os.path.join(www, "4k.bin"), "wb") as f:
            f.write(os.urandom(4096))
        ring = agent_rings(agent_at)[0]["id"]
        small = {"gateway, lines=10": [], "agent alone, lines=10": [], "nginx, 4 KiB file": [], "gateway CPU per request": []}
        for _ in range(max(1, rounds // 2)):
            for label, extra in (("gateway, lines=10", ["-H", "x-toolforge-tool: demo",
                                                        f"http://{gateway_at}/v1/tool/demo/job/cri/logs?{last_lines}10"]),
                                 ("agent alone, lines=10", ["-H", f"Authorization: Bearer {TOKEN}",
                                                            f"http://{agent_at}/internal/v2/rings/{ring}/logs?lines=10"]),
                                 ("nginx, 4 KiB file", [f"http://127.0.0.1:{peers.PORT}/4k.bin"])):
                cpu_before = cpu_seconds(gateway_p.pid)
                out = subprocess.run(["timeout", "30", "wrk", "-t2", "-c64", "-d10s"] + extra, capture_output=True, text=True).stdout
                result = peers._parse_wrk(out)
                assert "errors" not in result, (label, result)
                small[label].append(result["req_s"])
                if label == "gateway, lines=10":
                    small["gateway CPU per request"].append(1e6 * (cpu_seconds(gateway_p.pid) - cpu_before) / result["requests"])
    finally:
        for p in reversed(procs):
            peers.stop(p, __import__("signal").SIGQUIT if p.args[0] == "nginx" else __import__("signal").SIGTERM)
        shutil.rmtree(d, ignore_errors=True)

    print(f"Reads through the gateway, 1 M lines ({size / 1e6:.0f} MB) in one ring; {a.runs} runs (downloads: {rounds}); "
          "median [min–max]\n")
    print("| read | ours | peers (same run) | ratio | target |")
    print("|---|---|---|---|---|")
    ours = last["gateway, lines=1000 (keep-alive client)"]
    tail, journal = last["tail -n 1000 (the file)"], last["journalctl -n 1000 (the journal)"]
    print(f"| last 1,000 lines | {fmt(ours)} | tail -n: {fmt(tail)}; journalctl -n: {fmt(journal)} | "
          f"{statistics.median(ours) / statistics.median(tail):.2f}x tail; journalctl takes {statistics.median(journal) / statistics.median(ours):.1f}x ours | <= 2x tail; >= 3x faster than journalctl |")
    ours, theirs = seek["gateway, since/until (keep-alive client)"], seek["journalctl --since --until"]
    print(f"| since/until, 1,000 lines mid-run | {fmt(ours)} | journalctl: {fmt(theirs)} | "
          f"{statistics.median(ours) / statistics.median(theirs):.2f}x journalctl | <= 0.5x |")
    ours, alone, theirs = small["gateway, lines=10"], small["agent alone, lines=10"], small["nginx, 4 KiB file"]
    print(f"| lines=10 newest first (a JSON page, the platform's path), wrk -t2 -c64 -d10s | {fmt(ours, 'req/s')}; "
          f"the gateway's CPU: {statistics.median(small['gateway CPU per request']):,.0f} µs a request | "
          f"agent alone, lines=10: {fmt(alone, 'req/s')}; nginx, 4 KiB: {fmt(theirs, 'req/s')} | "
          f"{100 * statistics.median(ours) / statistics.median(alone):.0f} % of the agent alone; "
          f"{100 * statistics.median(ours) / statistics.median(theirs):.0f} % of nginx | >= 35 % of the agent alone |")
    ours, theirs = download["gateway, text/plain of the whole run"], download["nginx, the same bytes"]
    print(f"| full download, {ours_bytes / 1e6:.0f} MB (the run's 1 M messages) | {fmt(ours, 'MB/s')} | nginx: {fmt(theirs, 'MB/s')} | "
          f"{100 * statistics.median(ours) / statistics.median(theirs):.0f} % of nginx | >= 50 % |")


if __name__ == "__main__":
    main()
