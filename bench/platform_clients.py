#!/usr/bin/env python3
"""The platform's own clients (issue 12), side by side with ours in one run: the jobs CLI's
`logs JOB -l 100` and its default read of the last hour (100,000 lines: 200 pages of 500) next
to the same reads through `toolforge-logs`, against one gateway in mutual TLS; and what a page
deep in a read costs next to the first (page 200 against page 1, each fetched alone over a
kept-alive connection). Wall time per run, median [min–max]. Markdown tables.

  python3 bench/platform_clients.py [--runs 5] [--lines 100000] [--bin .build/release]
"""
import argparse, http.client, json, os, ssl, statistics, subprocess, sys, time
from datetime import timedelta

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "Tests", "PlatformClients"))
from platform_stack import Stack, wait_for  # noqa: E402
from demo_workload import component, now, stamp  # noqa: E402

VENV = os.path.join(REPO, ".build", "platform-clients")


def timed(function, runs):
    function()  # warm-up
    values = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        values.append((time.perf_counter() - started) * 1000)
    return values


def fmt(values):
    return f"{statistics.median(values):.1f} [{min(values):.1f}–{max(values):.1f}]"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--bin", default=os.path.join(REPO, ".build", "release"))
    a = ap.parse_args()
    subprocess.run([os.path.join(REPO, "scripts", "platform-clients"), "--install"], check=True, stdout=subprocess.DEVNULL)

    def workload(stack, pod):
        big = pod("node-1", "tool-demo", "big-7d9f-abcde", component("deployments", "big"))
        start = now() - timedelta(minutes=50)
        step = timedelta(minutes=45) / a.lines
        with open(big.path, "w") as log:
            for n in range(a.lines):
                log.write(f"{stamp(start + n * step)} stdout F big line {n:06d} " + "x" * 60 + "\n")

    stack = Stack("standalone", a.bin, VENV, workload)
    try:
        ours = os.path.join(a.bin, "toolforge-logs")
        env = stack.env()
        env.update(TOOLFORGE_LOGS_URL=stack.url, TOOLFORGE_LOGS_CA_FILE=f"{stack.certs}/ca.crt",
                   TOOLFORGE_LOGS_CERT=f"{stack.certs}/demo.crt", TOOLFORGE_LOGS_KEY=f"{stack.certs}/demo.key")

        def command(argv, want):
            def run():
                out = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
                got = out.stdout.count("\n")
                assert out.returncode == 0 and got == want, (argv, out.returncode, got, out.stderr[-500:])
            return run

        last = f"big line {a.lines - 1:06d}"
        wait_for(lambda: last in stack.run("toolforge-jobs", "logs", "big", "-l", "1").stdout, "every line ingested", 300)
        jobs = os.path.join(VENV, "bin", "toolforge-jobs")
        reads = {
            ("`-l 100`", "toolforge-jobs logs big -l 100"): timed(command([jobs, "logs", "big", "-l", "100"], 100), a.runs),
            ("`-l 100`", "toolforge-logs job big -n 100"): timed(command([ours, "job", "big", "-n", "100"], 100), a.runs),
            ("the last hour", "toolforge-jobs logs big"): timed(command([jobs, "logs", "big"], a.lines), a.runs),
            ("the last hour", "toolforge-logs job big --since 1h"): timed(command([ours, "job", "big", "--since", "1h"], a.lines), a.runs),
        }
        # Page 200 against page 1, as the jobs CLI pages (newest first), over one TLS connection.
        context = ssl.create_default_context(cafile=f"{stack.certs}/ca.crt")
        context.load_cert_chain(f"{stack.certs}/demo.crt", f"{stack.certs}/demo.key")
        host, port = stack.url.removeprefix("https://").split(":")
        connection = http.client.HTTPSConnection(host, int(port), context=context, timeout=60)
        base = "/logs/v1/tool/demo/job/big/logs"

        def get(url):
            connection.request("GET", base + url)
            response = connection.getresponse()
            body = json.loads(response.read())
            assert response.status == 200 and len(body["data"]["logs"]) == 500, (response.status, url)
            return body["data"].get("next", {}).get("url")

        pages = ["?direction=newest_first"]
        while len(pages) < a.lines // 500 and (url := get(pages[-1])):
            pages.append(url)
        deep = pages[-1]
        page_times = {"page 1": timed(lambda: get(pages[0]), a.runs * 4), f"page {len(pages)}": timed(lambda: get(deep), a.runs * 4)}
        connection.close()
    finally:
        stack.stop()

    print(f"The platform's CLIs and ours, one gateway in mutual TLS, {a.lines:,} lines in the last hour, "
          f"{a.runs} runs each, ms: median [min–max]\n")
    print("| read | client | wall time | ratio to ours |")
    print("|---|---|---|---|")
    for what in ("`-l 100`", "the last hour"):
        rows = [(client, values) for (kind, client), values in reads.items() if kind == what]
        baseline = statistics.median(rows[1][1])
        for client, values in rows:
            print(f"| {what} | `{client}` | {fmt(values)} | {statistics.median(values) / baseline:.2f}x |")
    print(f"\nOne page of 500 entries (`next.url` as the jobs CLI follows it), {a.runs * 4} fetches each, ms: median [min–max]\n")
    print("| page | time |")
    print("|---|---|")
    for label, values in page_times.items():
        print(f"| {label} | {fmt(values)} |")
    first, deep_label = page_times["page 1"], f"page {len(pages)}"
    print(f"\n{deep_label} takes {statistics.median(page_times[deep_label]) / statistics.median(first):.2f}x page 1's time (target <= 1.5x)")


if __name__ == "__main__":
    main()
