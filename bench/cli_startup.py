#!/usr/bin/env python3
"""The CLI's start-up (issue 5): `toolforge-logs --help` next to `curl --version` (the same
libcurl, no Swift), interleaved in one run, wall time per run; median [min–max]. Markdown table.

  python3 bench/cli_startup.py [--runs 50] [--bin .build/release]
"""
import argparse, os, statistics, subprocess, time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def once(cmd):
    started = time.perf_counter_ns()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return (time.perf_counter_ns() - started) / 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--bin", default=os.path.join(REPO, ".build", "release"))
    a = ap.parse_args()
    commands = {"toolforge-logs --help": [os.path.join(a.bin, "toolforge-logs"), "--help"], "curl --version": ["curl", "--version"]}
    times = {label: [] for label in commands}
    for label, cmd in commands.items():
        once(cmd)  # warm the page cache
    for _ in range(a.runs):
        for label, cmd in commands.items():
            times[label].append(once(cmd))
    print(f"Start-up, {a.runs} runs each, interleaved, ms: median [min–max]\n")
    print("| command | wall time |")
    print("|---|---|")
    for label, values in times.items():
        print(f"| `{label}` | {statistics.median(values):.2f} [{min(values):.2f}–{max(values):.2f}] |")
    ratio = statistics.median(times["toolforge-logs --help"]) / statistics.median(times["curl --version"])
    print(f"\ntoolforge-logs --help takes {ratio:.1f}x curl --version's time")


if __name__ == "__main__":
    main()
