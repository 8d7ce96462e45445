"""Loopback helpers for agent tests: a TCP service, a proxy that can cut the line to the server, and a fake clock."""

import socket
import threading
import time

from django.db import OperationalError


class TcpService:
    """Accepts connections on loopback and closes them (what the TCP probe needs on the other end)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(256)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.close()

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def closed_port() -> int:
    """A loopback port nobody listens on (connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ToggleProxy:
    """A TCP proxy on loopback in front of the server; down() makes the server unreachable (connection refused)."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = closed_port()
        self.listener = None
        self.open: set[socket.socket] = set()
        self.up()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def up(self):
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(64)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def down(self):
        # shutdown() wakes the thread blocked in accept(), so the port is really closed (connections refused).
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        for sock in list(self.open):  # and established connections break, as in a real outage
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            self.open.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, a, b):
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            self.open.discard(a)
            self.open.discard(b)
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def round_start_clock(interval: int = 60, into: float = 0.5):
    """A clock that runs at real speed but starts just after the beginning of the current real round, so an agent
    runs its first round at once (and never reports a round the server would call future)."""
    now = time.time()
    shift = -(now % interval) + into
    return lambda: time.time() + shift


def wait_for(predicate, timeout: float = 20.0, step: float = 0.1, what: str = "condition"):
    """The predicate's first true value, polled every `step` seconds; fails naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"{what}: not met within {timeout} s")


def write_beside_live_server(write, seconds: float = 10.0):
    """Runs a test's own database write while a live server's thread reads. The SQLite pass's in-memory database has
    a shared cache, where a table another connection is reading is refused at once ("database table is locked")
    rather than waited for; a file database, as deployed, waits. PostgreSQL never refuses."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return write()
        except OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
