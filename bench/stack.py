"""What the benchmarks share: starting our servers on port 0 and reading where they listen."""
import subprocess, sys, time, os

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "bench", "peers"))
import bench as peers  # noqa: E402


def start(cmd, log):
    """Starts logs-agent or logs-gateway on port 0; returns (process, the HOST:PORT it printed)."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=open(log, "w"), text=True)
    deadline = time.time() + 30
    while time.time() < deadline:
        line = p.stdout.readline()
        if "ready on" in line:
            return p, line.strip().rsplit(" ", 1)[1]
        if not line and p.poll() is not None:
            break
    peers.stop(p)
    raise RuntimeError(f"{cmd[0]} did not start: see {log}")
