"""The agent's HTTP client for the agent API (/agent/v1/...)."""

import json

import httpx

from . import VERSION

# The largest request body the server takes (its DATA_UPLOAD_MAX_MEMORY_SIZE, 1 MiB; larger ones are answered 413,
# which no retry mends), less room for the envelope.
MAX_BODY_BYTES = 1024 * 1024 - 1024


def rows_fitting(rows: list[dict]) -> int:
    """How many of `rows`, from the first, one results request carries within MAX_BODY_BYTES (at least one): 500
    rows of 30-hop traces with hop names come to about 1.5 MB. Measured as httpx encodes the body."""
    size = len(b'{"results":[]}')
    for count, row in enumerate(rows):
        size += len(json.dumps(row, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()) + 1
        if size > MAX_BODY_BYTES and count:
            return count
    return len(rows)


class ServerUnavailable(Exception):
    """The server could not be reached or answered 5xx: keep the data and try again later. `retry_after`: the seconds
    a 503 asked the agent to wait (the server's database is away, as during a failover), else None."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def retry_after_of(response: httpx.Response) -> float | None:
    """Retry-After in seconds (the delta form spyglass sends), else None."""
    value = response.headers.get("Retry-After", "").strip()
    return float(value) if value.isdigit() else None


class Refused(Exception):
    """The server refused the request (4xx); `rows` names refused result rows when it did."""

    def __init__(self, status: int, message: str, rows: list[int] | None = None):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.rows = rows or []


class AgentClient:
    def __init__(self, server: str, token: str, timeout: float = 15.0, event_hooks: dict | None = None):
        self.http = httpx.Client(
            base_url=server.rstrip("/") + "/agent/v1/",
            headers={"Authorization": f"Bearer {token}", "User-Agent": f"spyglass-agent/{VERSION}"},
            timeout=timeout,
            trust_env=False,
            event_hooks=event_hooks or {},
        )

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        try:
            response = self.http.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise ServerUnavailable(str(exc) or type(exc).__name__) from None
        if response.status_code >= 500:
            raise ServerUnavailable(f"server answered {response.status_code}", retry_after_of(response))
        try:
            data = response.json()
        except ValueError:
            data = {}
        if response.status_code >= 400:
            raise Refused(response.status_code, data.get("errorMessage", response.text[:200]), data.get("rows"))
        return data

    def register(self, name: str, kind: str, hostname: str, ip_addresses: list[str]) -> dict:
        body = {"name": name, "kind": kind, "version": VERSION, "hostname": hostname, "ipAddresses": ip_addresses}
        return self._call("POST", "register", body)

    def heartbeat(self, agent_id: int, spool_depth: int, spool_dropped: int, path_traces: str = "") -> dict:
        """path_traces: "" when this agent can trace paths, else why it cannot (one line)."""
        body = {"version": VERSION, "spoolDepth": spool_depth, "spoolDropped": spool_dropped, "pathTraces": path_traces}
        return self._call("POST", f"agents/{agent_id}/heartbeat", body)

    def assignments(self, agent_id: int) -> list[dict]:
        return self._call("GET", f"agents/{agent_id}/assignments")["assignments"]

    def post_results(self, agent_id: int, rows: list[dict]) -> int:
        return self._call("POST", f"agents/{agent_id}/results", {"results": rows})["accepted"]

    def close(self):
        self.http.close()
