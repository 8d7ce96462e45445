"""Throw-away PostgreSQL servers for the failover test: a primary and a streaming replica made with pg_basebackup,
each a cluster of its own (Debian's PostgreSQL 15 binaries) in a temp dir, listening on a free loopback port. They
never touch the machine's own server on 5432. PostgreSQL refuses to run as root, so when the tests run as root the
binaries run as the `postgres` OS user (runuser). Stopped through pg_ctl, which signals the postmaster's PID."""

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.cluster import free_port

# Debian's server binaries, the newest installed (scripts/test.sh installs the package `postgresql` when none is).
PG_BIN = max(
    Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
    key=lambda p: int(p.parts[-3]),
    default=Path("/usr/lib/postgresql/15/bin/pg_ctl"),
).parent


def _run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    if not (PG_BIN / "pg_ctl").exists():
        raise RuntimeError(f"no PostgreSQL server binaries in {PG_BIN}: install the Debian package postgresql")
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    result = subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}): {result.stderr or result.stdout}")
    return result


@dataclass
class PgServer:
    data: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def ctl(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        log = self.data.parent / f"{self.data.name}.log"
        return _run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(log), *args, timeout=timeout)

    def start(self):
        self.ctl("start", "-w", "-t", "90", timeout=120)

    def stop(self, mode: str = "fast"):
        """`immediate` is a crash: the postmaster and its backends quit at once, with no checkpoint."""
        self.ctl("stop", "-m", mode, "-w", "-t", "60", timeout=90)

    def promote(self):
        self.ctl("promote", "-w", "-t", "60", timeout=90)

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def sql(self, query: str, params=()) -> list:
        with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []


@dataclass
class Replicated:
    root: Path
    primary: PgServer
    replica: PgServer

    def multi_host_url(self) -> str:
        """libpq's multi-host form, primary first, as an operator writes it in DATABASE_URL."""
        hosts = f"127.0.0.1:{self.primary.port},127.0.0.1:{self.replica.port}"
        return f"postgres://postgres@{hosts}/postgres?target_session_attrs=read-write"


def _configure(data: Path, port: int, socket_dir: Path):
    with open(data / "postgresql.conf", "a") as conf:  # later lines win over the copied primary's
        conf.write(
            f"\nport = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{socket_dir}'\n"
            "wal_level = replica\nmax_wal_senders = 5\nshared_buffers = 32MB\nmax_connections = 120\n"
        )


def start_replicated(wait: float = 90) -> Replicated:
    """A primary and a streaming replica that commits wait for (synchronous_standby_names = '*': an acknowledged
    write is on both, so the promoted replica has every round the app acknowledged). The replica's own settings hold
    no synchronous standby, so once promoted it commits alone. Stop with stop_replicated()."""
    root = Path(tempfile.mkdtemp(prefix="sg-failover-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    primary = PgServer(root / "primary", free_port())
    replica = PgServer(root / "replica", free_port())
    servers = Replicated(root, primary, replica)
    try:
        _run(str(PG_BIN / "initdb"), "-D", str(primary.data), "-U", "postgres", "-A", "trust", "--no-sync")
        _configure(primary.data, primary.port, root)
        with open(primary.data / "pg_hba.conf", "a") as hba:
            hba.write("\nhost replication all 127.0.0.1/32 trust\n")
        primary.start()
        _run(
            str(PG_BIN / "pg_basebackup"),
            *("-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres", "-D", str(replica.data)),
            *("-R", "-X", "stream", "--checkpoint=fast"),
        )
        _configure(replica.data, replica.port, root)
        replica.start()
        deadline = time.monotonic() + wait
        while not primary.sql("select 1 from pg_stat_replication where state = 'streaming'"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the replica did not stream within {wait} s")
            time.sleep(0.2)
        primary.sql("alter system set synchronous_standby_names = '*'")
        primary.sql("select pg_reload_conf()")
        while primary.sql("select 1 from pg_stat_replication where sync_state = 'sync'") == []:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the replica did not become synchronous within {wait} s")
            time.sleep(0.2)
    except BaseException:
        stop_replicated(servers)
        raise
    return servers


def stop_replicated(servers: Replicated):
    for server in (servers.primary, servers.replica):
        if server.running():
            try:
                server.stop("immediate")
            except (RuntimeError, subprocess.TimeoutExpired):
                pid = int((server.data / "postmaster.pid").read_text().split()[0])
                os.kill(pid, 9)
    shutil.rmtree(servers.root, ignore_errors=True)
