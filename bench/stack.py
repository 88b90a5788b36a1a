"""What the benchmarks share: starting our servers on port 0 and reading where they listen."""
import subprocess, sys, time, os, urllib.request

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


TOKEN = "bench-token"


def rss_mib(pid):
    """A live process's resident memory now, in MiB."""
    with open(f"/proc/{pid}/status") as f:
        return int(next(l for l in f if l.startswith("VmRSS")).split()[1]) / 1024


def metric(url, name):
    """One unlabelled figure from a Prometheus text page, or None."""
    text = urllib.request.urlopen(url, timeout=10).read().decode()
    return next((float(l.split()[-1]) for l in text.splitlines() if l.startswith(name + " ")), None)


def agent(bin_dir, d, *extra, node="node-1", pods=None):
    """logs-agent over `pods` (default d/pods), its rings in d/data-NODE, answering the token in
    d/token (written when missing); returns (process, HOST:PORT)."""
    token = os.path.join(d, "token")
    if not os.path.exists(token):
        with open(token, "w") as f:
            f.write(TOKEN + "\n")
    pods = pods or os.path.join(d, "pods")
    os.makedirs(pods, exist_ok=True)  # the agent refuses a pods directory that is not there
    return start([os.path.join(bin_dir, "logs-agent"), "--node", node, "--pods-dir", pods,
                  "--data-dir", os.path.join(d, f"data-{node}"), "--listen", "127.0.0.1:0", "--token-file", token, *extra],
                 os.path.join(d, f"{node}.log"))


def gateway(bin_dir, d, agents, *extra, name="gateway"):
    """logs-gateway in front of `agents`, (node, HOST:PORT) pairs started by agent(); returns
    (process, HOST:PORT)."""
    return start([os.path.join(bin_dir, "logs-gateway"), "--listen", "127.0.0.1:0",
                  *[flag for node, at in agents for flag in ("--agent", f"{node}=http://{at}")],
                  "--agent-token-file", os.path.join(d, "token"), *extra], os.path.join(d, f"{name}.log"))
