"""The production shape, for tests: PostgreSQL, two `spyglass serve` processes (gunicorn) on loopback ports behind
nginx as the load balancer, and the worker as a process of its own. Everything listens on 127.0.0.1 and is stopped
by PID when the test session ends."""

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg

NGINX_CONF = """
worker_processes 1;
daemon off;
pid {run}/nginx.pid;
error_log {run}/nginx-error.log warn;
events {{ worker_connections 2048; }}
http {{
    access_log off;
    client_body_temp_path {run}/body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;
    upstream spyglass {{
        server 127.0.0.1:{app1};
        server 127.0.0.1:{app2};
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 2m;
        location / {{
            proxy_pass http://spyglass;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            add_header X-Spyglass-Upstream $upstream_addr always;
        }}
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, timeout: float = 60.0, proc: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode} before answering")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def _db_url(base: str, name: str) -> str:
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/{name}"))


@dataclass
class Cluster:
    database_url: str
    base_url: str  # through nginx
    app_urls: list[str]
    data_dir: Path
    env: dict
    processes: dict = field(default_factory=dict)
    logs: dict = field(default_factory=dict)

    def spyglass(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run a `spyglass` command against the cluster's database."""
        result = subprocess.run(
            [sys.executable, "-m", "spyglass.cli.main", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"spyglass {' '.join(args)} failed: {result.stderr}")
        return result

    def sql(self, query: str, params=()):
        with psycopg.connect(self.database_url.replace("postgres://", "postgresql://", 1)) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    def start(self, name: str, args: list[str], log_name: str | None = None) -> subprocess.Popen:
        log = open(self.data_dir / f"{log_name or name}.log", "ab")  # noqa: SIM115 - closed in stop()
        proc = subprocess.Popen(args, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.processes[name] = proc
        self.logs[name] = log
        return proc

    def start_app(self, index: int) -> subprocess.Popen:
        port = urlsplit(self.app_urls[index]).port
        proc = self.start(
            f"app{index}",
            [
                sys.executable,
                "-m",
                "spyglass.cli.main",
                "serve",
                "--no-agent",
                "--no-worker",
                "--workers",
                "2",
                "--addr",
                f"127.0.0.1:{port}",
            ],
        )
        wait_for_http(self.app_urls[index] + "/v6/status.json", proc=proc)
        return proc

    def start_agent(self, name: str, server: str, token: str) -> subprocess.Popen:
        """A remote `spyglass agent` process (no Django settings, no database: only the server's URL and a token)."""
        spool = self.data_dir / f"spool-{name}"
        env = {k: v for k, v in self.env.items() if k != "DATABASE_URL" and not k.startswith("SPYGLASS_")}
        log = open(self.data_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed in stop()
        args = [sys.executable, "-m", "spyglass.cli.main", "agent", "--server", server, "--name", name]
        args += ["--spool", str(spool)]
        env["SPYGLASS_AGENT_TOKEN"] = token  # from the environment: a token on the command line shows in `ps`
        proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.processes[name], self.logs[name] = proc, log
        return proc

    def spooled_keys(self, agent_name: str) -> list[str]:
        """The keys of the results an agent still holds in its on-disk spool (not yet acknowledged by a server)."""
        path = self.data_dir / f"spool-{agent_name}" / "spool.sqlite3"
        if not path.exists():
            return []
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as db:
            return [key for (key,) in db.execute("SELECT key FROM rows ORDER BY seq")]

    def stop(self, name: str, sig=signal.SIGTERM):
        proc = self.processes.pop(name, None)
        if proc is None:
            return
        if proc.poll() is None:
            os.killpg(proc.pid, sig)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=15)
        self.logs.pop(name).close()

    def log_text(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in self.data_dir.glob("*.log"))


def start_cluster(base_database_url: str, extra_env: dict | None = None) -> Cluster:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(nginx):
        raise RuntimeError("nginx is not installed (scripts/test.sh installs the Debian package nginx-light)")
    name = f"spyglass_cluster_{uuid.uuid4().hex[:10]}"
    admin_url = base_database_url.replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    data_dir = Path(tempfile.mkdtemp(prefix="spyglass-cluster-"))
    lb_port, app_ports = free_port(), [free_port(), free_port()]
    base_url = f"http://127.0.0.1:{lb_port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPYGLASS_") and k != "DATABASE_URL"}
    env["SPYGLASS_STATIC_ROOT"] = os.environ["SPYGLASS_STATIC_ROOT"]  # the run's collected static files (conftest)
    env.update(
        {
            "DATABASE_URL": _db_url(base_database_url, name),
            "SPYGLASS_DATA_DIR": str(data_dir),
            "SPYGLASS_SECRET_KEY": "cluster-secret-" + uuid.uuid4().hex,
            "SPYGLASS_BASE_URL": base_url,
            "SPYGLASS_LOG_LEVEL": "INFO",
        }
    )
    env.update(extra_env or {})
    cluster = Cluster(env["DATABASE_URL"], base_url, [f"http://127.0.0.1:{p}" for p in app_ports], data_dir, env)
    try:
        cluster.spyglass("migrate")
        for i in range(2):
            cluster.start_app(i)
        cluster.start("worker", [sys.executable, "-m", "spyglass.cli.main", "worker"])
        run = data_dir / "nginx"
        run.mkdir()
        conf = run / "nginx.conf"
        conf.write_text(NGINX_CONF.format(run=run, port=lb_port, app1=app_ports[0], app2=app_ports[1]))
        cluster.start("nginx", [nginx, "-c", str(conf), "-p", str(run), "-e", str(run / "nginx-error.log")])
        wait_for_http(base_url + "/v6/status.json", proc=cluster.processes["nginx"])
    except Exception:
        stop_cluster(cluster, base_database_url)
        raise
    return cluster


def stop_cluster(cluster: Cluster, base_database_url: str):
    for name in list(cluster.processes):
        cluster.stop(name)
    name = urlsplit(cluster.database_url).path.lstrip("/")
    with psycopg.connect(base_database_url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    shutil.rmtree(cluster.data_dir, ignore_errors=True)
