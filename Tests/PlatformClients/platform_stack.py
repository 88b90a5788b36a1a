"""The service as the platform's clients meet it: two agents, a gateway and, in the platform's
layout, nginx in front; a home with the clients' two config files. Shared by the tests of the
platform's clients and their benchmark."""
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "scripts"))
from demo_workload import Pod  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, what, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


class Stack:
    """Two agents, a gateway and (layout a) nginx, with pods of the tools demo and other."""

    def __init__(self, layout, bin_dir, venv, write_pods, agent_flags=()):
        """`write_pods(stack, pod)` writes the workload, `pod(node, namespace, name, labels, …)`
        making each pod (as demo_workload.Pod) and listing it in its node's PodList;
        `agent_flags` go to both agents (a benchmark's ring sizes and rate limits)."""
        self.layout, self.bin, self.venv, self.agent_flags = layout, bin_dir, venv, list(agent_flags)
        self.root = tempfile.mkdtemp(prefix="toolforge-logs-platform.")
        self.processes = []
        self.certs = os.path.join(self.root, "certs")
        subprocess.run([os.path.join(REPO, "scripts", "make-certs"), self.certs, "tool:demo", "tool:other"], check=True,
                       stdout=subprocess.DEVNULL)
        pods = {}

        def pod(node, namespace, name, labels, **kwargs):
            made = Pod(self.root, node, namespace, name, labels, **kwargs)
            pods.setdefault(node, []).append(made)
            return made
        write_pods(self, pod)
        for node in ("node-1", "node-2"):
            with open(os.path.join(self.root, f"pods-{node}.json"), "w") as f:
                json.dump({"kind": "PodList", "items": [p.manifest() for p in pods.get(node, [])]}, f)
        with open(os.path.join(self.root, "token"), "w") as f:
            f.write("platform-test-token\n")
        self.agents = agents = [self.agent(node) for node in ("node-1", "node-2")]
        gateway_port = free_port()
        common = [os.path.join(self.bin, "logs-gateway"), "--listen", f"127.0.0.1:{gateway_port}",
                  "--agent-token-file", os.path.join(self.root, "token"), "--heartbeat", "2s",
                  "--service", r"jobs-api=^/v1/tool/[^/]+/source/jobs-api/log$", "--rate-limit", "1000"]
        for node, address in agents:
            common += ["--agent", f"{node}={address}"]
        if layout == "nginx":
            self.start(common + ["--auth", "proxy", "--trusted-proxy", "127.0.0.1/32"], "gateway")
            self.gateway = f"http://127.0.0.1:{gateway_port}"
            wait_for(lambda: self.healthy(self.gateway + "/v1/healthz"), "the gateway")
            self.url = self.nginx(gateway_port)
        else:
            self.start(common + ["--auth", "mtls", "--tls-cert", f"{self.certs}/server.crt", "--tls-key", f"{self.certs}/server.key",
                                 "--client-ca", f"{self.certs}/ca.crt"], "gateway")
            self.url = f"https://127.0.0.1:{gateway_port}"
            self.gateway = None
            wait_for(lambda: self.healthy(self.url + "/logs/v1/healthz"), "the gateway")
        self.home = self.make_home("demo")

    def agent(self, node):
        os.makedirs(os.path.join(self.root, f"pods-{node}"), exist_ok=True)  # the agent refuses a pods directory that is not there
        out = self.start([os.path.join(self.bin, "logs-agent"), "--node", node, "--pods-dir", os.path.join(self.root, f"pods-{node}"),
                          "--pods-json", os.path.join(self.root, f"pods-{node}.json"), "--data-dir", os.path.join(self.root, f"data-{node}"),
                          "--listen", "127.0.0.1:0", "--token-file", os.path.join(self.root, "token"), *self.agent_flags], node)
        address = []

        def listening():
            with open(out) as f:
                for word in f.read().split():
                    if word.startswith("127.0.0.1:"):
                        address.append(word.strip(".,"))
                        return True
            return False
        wait_for(listening, f"agent {node}")
        return node, "http://" + address[0]

    def nginx(self, gateway_port):
        port = free_port()
        temp = os.path.join(self.root, "nginx")
        os.makedirs(temp)
        config = os.path.join(self.root, "nginx.conf")
        with open(config, "w") as f:
            f.write(f"""
daemon off;
worker_processes 1;
pid {temp}/nginx.pid;
error_log {temp}/error.log;
events {{}}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    map $ssl_client_s_dn $tool {{
        ~(^|,)CN=(?<cn>[^,]+) $cn;
        default "";
    }}
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {self.certs}/server.crt;
        ssl_certificate_key {self.certs}/server.key;
        ssl_client_certificate {self.certs}/ca.crt;
        ssl_verify_client on;
        location /logs/ {{
            proxy_pass http://127.0.0.1:{gateway_port}/;
            proxy_http_version 1.1;
            proxy_set_header x-toolforge-tool $tool;
            proxy_set_header x-toolforge-user "";
            proxy_buffering off;
            proxy_read_timeout 300s;
        }}
    }}
}}
""")
        self.start(["nginx", "-c", config, "-e", f"{temp}/error.log"], "nginx")
        url = f"https://127.0.0.1:{port}"
        wait_for(lambda: self.healthy(url + "/logs/v1/healthz"), "nginx")
        return url

    def healthy(self, url):
        context = ssl.create_default_context(cafile=f"{self.certs}/ca.crt")
        context.load_cert_chain(f"{self.certs}/demo.crt", f"{self.certs}/demo.key")
        try:
            with urllib.request.urlopen(url, context=context if url.startswith("https") else None, timeout=2) as r:
                return json.load(r)["data"]["status"] == "OK"
        except Exception:
            return False

    def start(self, command, name):
        out = os.path.join(self.root, f"{name}.out")
        self.processes.append(subprocess.Popen(command, stdout=open(out, "w"), stderr=open(os.path.join(self.root, f"{name}.log"), "w")))
        return out

    def make_home(self, namespace_tool, cert_tool="demo"):
        home = os.path.join(self.root, f"home-{namespace_tool}-{cert_tool}")
        os.makedirs(os.path.join(home, ".kube"), exist_ok=True)
        with open(os.path.join(home, ".kube", "config"), "w") as f:
            f.write(f"""apiVersion: v1
kind: Config
current-context: toolforge
clusters:
- name: toolforge
  cluster: {{server: "https://127.0.0.1:1"}}
contexts:
- name: toolforge
  context: {{cluster: toolforge, user: tool, namespace: tool-{namespace_tool}}}
users:
- name: tool
  user: {{client-certificate: {self.certs}/{cert_tool}.crt, client-key: {self.certs}/{cert_tool}.key}}
""")
        with open(os.path.join(home, ".toolforge.yaml"), "w") as f:
            f.write(f"api_gateway:\n  url: {self.url}\n")
        return home

    def env(self, home=None):
        """The clients' environment: a home with their config files; `requests` takes the local
        CA from REQUESTS_CA_BUNDLE, over the clients' own verify=False."""
        home = home or self.home
        env = {k: v for k, v in os.environ.items() if not k.startswith("TOOL_TOOLFORGE")}
        env.update(HOME=home, REQUESTS_CA_BUNDLE=f"{self.certs}/ca.crt", KUBECONFIG=os.path.join(home, ".kube", "config"),
                   PYTHONUNBUFFERED="1")
        return env

    def run(self, command, *args, home=None, timeout=60):
        return subprocess.run([os.path.join(self.venv, "bin", command), *args], env=self.env(home), capture_output=True, text=True,
                              timeout=timeout)

    def stop(self):
        for process in reversed(self.processes):
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(self.root, ignore_errors=True)
