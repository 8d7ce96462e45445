"""The agent process: register, then three loops — rounds (scheduler), upload (spool → server), control (heartbeat
and assignments). Every result goes through the on-disk spool before it is sent."""

import logging
import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from .client import AgentClient, Refused, ServerUnavailable, rows_fitting
from .probes.trace import raw_socket_problem
from .scheduler import Scheduler
from .spool import DEFAULT_MAX_ROWS, Spool

log = logging.getLogger("spyglass.agent")
BATCH_ROWS = 500
MAX_BACKOFF = 30.0
REVOKED = 401  # what the server answers a revoked or deleted agent token: retrying can never help


def local_address(server: str) -> str:
    """The address this machine uses toward the server (no packet is sent: UDP connect only picks a route)."""
    parts = urlsplit(server)
    try:
        infos = socket.getaddrinfo(parts.hostname or "127.0.0.1", parts.port or 80, type=socket.SOCK_DGRAM)
        with socket.socket(infos[0][0], socket.SOCK_DGRAM) as s:
            s.connect(infos[0][4])
            return s.getsockname()[0]
    except OSError:
        return ""


class AgentRuntime:
    def __init__(
        self,
        server: str,
        token: str,
        name: str,
        kind: str = "enterprise",
        spool_dir: str | Path = "./.spyglass-agent",
        spool_rows: int = DEFAULT_MAX_ROWS,
        clock=time.time,
        spread: float | None = None,
        control_seconds: float = 30.0,
        upload_seconds: float = 2.0,
        event_hooks: dict | None = None,
    ):
        self.server, self.name, self.kind = server, name, kind
        self.client = AgentClient(server, token, event_hooks=event_hooks)
        self.spool = Spool(spool_dir, spool_rows)
        self.clock = clock
        self.spread = spread
        self.control_seconds = control_seconds
        self.upload_seconds = upload_seconds
        self.stop = threading.Event()
        self.results_ready = threading.Event()
        self.batch_cut = False  # the last batch was cut to fit a request: more rows wait in the spool
        self.agent_id: int | None = None
        self.scheduler: Scheduler | None = None
        self.threads: list[threading.Thread] = []
        self.path_trace_problem = ""
        self.token_refused = False

    # --- lifecycle

    def register(self) -> bool:
        """Register until it works or we are stopped. A refused token is fatal (returns False)."""
        backoff, attempts = 0.5, 0
        while not self.stop.is_set():
            try:
                answer = self.client.register(self.name, self.kind, socket.gethostname(), self._ips())
            except ServerUnavailable as exc:
                attempts += 1
                # A server starting beside its embedded agent takes a moment: only persistent failure is news.
                level = logging.WARNING if attempts > 3 else logging.DEBUG
                log.log(level, "server not reachable (%s); retrying in %.0f s", exc, backoff)
                self.stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            except Refused as exc:
                log.error("registration refused: %s", exc)
                if exc.status == REVOKED and self.threads:  # re-registering while running: stop, as above
                    self._token_refused(exc)
                return False
            self.agent_id = answer["agentId"]
            log.info("registered as agent %s (%s)", self.agent_id, self.name)
            return True
        return False

    def _ips(self) -> list[str]:
        ip = local_address(self.server)
        return [ip] if ip else []

    def start(self) -> bool:
        """Register and start the loops in background threads. False when the server refused the agent."""
        if not self.register():
            return False
        self.path_trace_problem = raw_socket_problem()
        if self.path_trace_problem:  # said once here; every heartbeat repeats it to the server
            log.warning("%s; every other measurement goes on", self.path_trace_problem)
        self.scheduler = Scheduler(
            self.name, self._emit, clock=self.clock, spread=self.spread, done_rounds=self.spool.done_rounds()
        )
        self.refresh()
        loops = {
            "rounds": lambda: self.scheduler.loop(self.stop),
            "upload": self._upload_loop,
            "control": self._control_loop,
        }
        for name, target in loops.items():
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self.threads.append(thread)
        return True

    def run(self) -> int:
        """Run until stop is set (the CLI sets it on SIGINT/SIGTERM, the server by refusing the token): 0 on a
        requested stop, 2 when the server refused the agent."""
        if not self.start():
            return 2 if not self.stop.is_set() else 0
        self.stop.wait()
        self.close()
        return 2 if self.token_refused else 0

    def _token_refused(self, exc: Refused) -> None:
        """The token was revoked (or deleted) while the agent ran: stop, saying so, instead of retrying for ever."""
        if not self.token_refused:
            log.error(
                "the server refused this agent's token (%s): it was revoked or deleted; the agent stops. Start it "
                "again with a valid token (spyglass agent-token create); unsent results stay in the spool (%s).",
                exc,
                self.spool.path,
            )
        self.token_refused = True
        self.stop.set()
        self.results_ready.set()

    def close(self) -> None:
        self.stop.set()
        self.results_ready.set()
        for thread in self.threads:
            thread.join(timeout=10)
        if self.scheduler:
            self.scheduler.close()
        self.client.close()
        self.spool.close()

    # --- loops

    def _emit(self, rows: list[dict], test_id: int, round_id: int) -> None:
        self.spool.add(rows, test_id, round_id)
        self.results_ready.set()

    def refresh(self) -> None:
        """Heartbeat (with the spool's depth and drop count, and why path traces are unavailable) and fetch
        assignments."""
        try:
            self.client.heartbeat(self.agent_id, self.spool.depth(), self.spool.dropped, self.path_trace_problem)
            self.scheduler.set_assignments(self.client.assignments(self.agent_id))
        except ServerUnavailable as exc:
            log.warning("control: server not reachable (%s)", exc)
        except Refused as exc:
            if exc.status == REVOKED:
                self._token_refused(exc)
                return
            log.warning("control refused: %s", exc)
            if exc.status == 404:
                self.register()

    def _control_loop(self) -> None:
        while not self.stop.wait(self.control_seconds):
            self.refresh()

    def upload_once(self) -> int:
        """Send the oldest spooled rows; returns how many the server stored. Raises ServerUnavailable."""
        batch = self.spool.batch(BATCH_ROWS)
        if not batch:
            return 0
        fitting = rows_fitting([row for _, row in batch])
        self.batch_cut = fitting < len(batch)
        batch = batch[:fitting]  # the rest goes on the next pass, at once
        seqs = [seq for seq, _ in batch]
        try:
            self.client.post_results(self.agent_id, [row for _, row in batch])
        except Refused as exc:
            if exc.status == 400 and exc.rows:
                bad = [seqs[i] for i in exc.rows if 0 <= i < len(seqs)]
                log.error("server refused %d results: %s", len(bad), exc)
                self.spool.reject(bad)  # the rest of the batch goes again on the next pass
                return 0
            if exc.status == REVOKED:
                self._token_refused(exc)
                return 0
            if exc.status == 404:
                self.register()
            raise ServerUnavailable(str(exc)) from None
        self.spool.ack(seqs)
        return len(seqs)

    def _upload_loop(self) -> None:
        backoff = 1.0
        while not self.stop.is_set():
            try:
                sent = self.upload_once()
                backoff = 1.0
            except ServerUnavailable as exc:
                log.warning("upload: server not reachable (%s); keeping results in the spool", exc)
                # A 503's Retry-After (the server's database is failing over) says when to come back; else back off.
                self.stop.wait(min(max(exc.retry_after, 1.0), MAX_BACKOFF) if exc.retry_after is not None else backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            if sent < BATCH_ROWS and not self.batch_cut:
                self.results_ready.wait(self.upload_seconds)
                self.results_ready.clear()
