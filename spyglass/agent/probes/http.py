"""http-server: one request (following redirects) with the phase timings of the v6 fields, all in ms.

DNS is resolved here, timed, and the connection made to that address (Host header and SNI keep the name), so
dnsTime and connectTime are separate phases. The other phases come from httpcore's trace events.

`httpTimeLimit` bounds the whole request, redirects included, from DNS to the last byte of the body: each phase's
timeout is what is left of it, and a watchdog shuts the connection down when it runs out, so a server that sends
its body a byte at a time cannot stretch a round. The answer must carry the desired status code (default: below
400) and, when the test has one, match its content regular expression (errorType HTTP, or Content)."""

import ipaddress
import re
import socket
import ssl
import threading
import time
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import httpx

ERROR_NONE, ERROR_DNS, ERROR_CONNECT, ERROR_SSL = "None", "DNS", "Connect", "SSL"
ERROR_SEND, ERROR_RECEIVE, ERROR_HTTP, ERROR_TIMEOUT = "Send", "Receive", "HTTP", "Timeout"
ERROR_CONTENT = "Content"
# The phase a failure happened in decides its errorType.
_PHASE_ERRORS = {
    "connect_tcp": ERROR_CONNECT,
    "start_tls": ERROR_SSL,
    "send_request_headers": ERROR_SEND,
    "send_request_body": ERROR_SEND,
    "receive_response_headers": ERROR_RECEIVE,
    "receive_response_body": ERROR_RECEIVE,
}


class _Trace:
    """Collects perf_counter timestamps of httpcore's '<phase>.started/.complete' events, and arms the watchdog
    that shuts the connection down at the deadline once there is one."""

    def __init__(self, deadline: float):
        self.marks: dict[str, float] = {}
        self.phase = "connect_tcp"
        self.tls: dict = {}
        self.deadline = deadline
        self.expired = False
        self.timer: threading.Timer | None = None

    def __call__(self, name: str, info: dict):
        _, _, event = name.partition(".")
        phase, _, edge = event.rpartition(".")
        self.marks[event] = time.perf_counter()
        if edge == "started" and phase in _PHASE_ERRORS:
            self.phase = phase
        if event == "connect_tcp.complete" and info.get("return_value") is not None and self.timer is None:
            sock = info["return_value"].get_extra_info("socket")
            if sock is not None:
                self.timer = threading.Timer(max(0.0, self.deadline - time.perf_counter()), self._expire, (sock,))
                self.timer.daemon = True
                self.timer.start()
        if event == "start_tls.complete" and info.get("return_value") is not None:
            # Read now: the server may close the connection before the probe looks again.
            ssl_object = info["return_value"].get_extra_info("ssl_object")
            if ssl_object is not None:
                self.tls = {
                    "sslVersion": ssl_object.version() or "",
                    "sslCipher": (ssl_object.cipher() or ("",))[0],
                    "sslCerts": _cert_facts(ssl_object),
                }

    def _expire(self, sock: socket.socket) -> None:
        self.expired = True
        try:
            sock.shutdown(socket.SHUT_RDWR)  # wakes the reading thread at once
        except OSError:
            pass

    def disarm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()

    def span(self, phase: str) -> float | None:
        a, b = self.marks.get(phase + ".started"), self.marks.get(phase + ".complete")
        return (b - a) * 1000.0 if a is not None and b is not None else None


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _cert_facts(ssl_object) -> list[dict]:
    from cryptography import x509

    der = ssl_object.getpeercert(True)  # DER: available whether or not the certificate was verified
    if not der:
        return []
    cert = x509.load_der_x509_certificate(der)
    after, before = cert.not_valid_after_utc, cert.not_valid_before_utc
    return [
        {
            "subjectName": cert.subject.rfc4514_string(),
            "issuerName": cert.issuer.rfc4514_string(),
            "notValidBefore": before.strftime("%Y-%m-%d %H:%M:%S"),
            "notValidAfter": after.strftime("%Y-%m-%d %H:%M:%S"),
            "daysUntilExpiry": (after - datetime.now(UTC)).days,
        }
    ]


def _resolve(host: str, port: int) -> tuple[str, float]:
    try:
        ipaddress.ip_address(host)
        return host, 0.0
    except ValueError:
        pass
    start = time.perf_counter()
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return infos[0][4][0], (time.perf_counter() - start) * 1000.0


def _empty() -> dict:
    return {
        "serverIp": "",
        "responseCode": None,
        "numRedirects": 0,
        "redirectTime": 0.0,
        "dnsTime": None,
        "connectTime": None,
        "sslTime": None,
        "waitTime": None,
        "receiveTime": None,
        "responseTime": None,
        "totalTime": None,
        "wireSize": None,
        "throughput": None,
        "errorType": ERROR_NONE,
        "errorDetails": "",
        "sslVersion": "",
        "sslCipher": "",
        "sslCerts": [],
        "requestHeaders": "",
        "responseHeaders": "",
    }


def _one_hop(
    client: httpx.Client, url: str, time_limit: float, deadline: float, headers: dict
) -> tuple[dict, httpx.Response | None]:
    """One request without following redirects, done by `deadline` (perf_counter): (fields, response or None on
    failure)."""
    out = _empty()
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    begin = time.perf_counter()
    try:
        ip, dns_ms = _resolve(host, port)
    except (socket.gaierror, UnicodeError) as exc:
        out.update(errorType=ERROR_DNS, errorDetails=f"cannot resolve {host}: {exc}")
        return out, None
    out.update(serverIp=ip, dnsTime=_ms(dns_ms))
    trace = _Trace(deadline)
    target = httpx.URL(url).copy_with(host=ip)
    request_headers = {"Host": parts.netloc.rpartition("@")[2], "User-Agent": "spyglass-agent", **headers}
    remaining = max(0.05, deadline - time.perf_counter())
    try:
        with client.stream(
            "GET",
            target,
            headers=request_headers,
            extensions={"trace": trace, "sni_hostname": host, "timeout": httpx.Timeout(remaining).as_dict()},
        ) as response:
            first_byte = trace.marks.get("receive_response_headers.complete", time.perf_counter())
            response.read()
            body_done = time.perf_counter()
            trace.disarm()
            if trace.expired:  # a body without a length ends at the shutdown: it was cut, not complete
                raise httpx.ReadTimeout("the time limit ran out while receiving the body")
            out.update(trace.tls)
    except (httpx.HTTPError, ssl.SSLError, OSError) as exc:
        trace.disarm()
        if isinstance(exc, httpx.TimeoutException) or trace.expired or time.perf_counter() >= deadline:
            details = f"not done within {time_limit:g} s ({trace.phase})"
            out.update(errorType=ERROR_TIMEOUT, errorDetails=f"{details}: {exc}" if str(exc) else details)
            out["totalTime"] = _ms((time.perf_counter() - begin) * 1000.0)
            return out, None
        kind = _PHASE_ERRORS.get(trace.phase, ERROR_CONNECT)
        if trace.phase == "connect_tcp" and "start_tls.started" in trace.marks:
            kind = ERROR_SSL
        out.update(errorType=kind, errorDetails=str(exc) or type(exc).__name__)
        out["connectTime"] = _ms(trace.span("connect_tcp"))
        return out, None
    connect = trace.span("connect_tcp")
    tls = trace.span("start_tls")
    sent = trace.marks.get("send_request_headers.started", first_byte)
    wait = (first_byte - sent) * 1000.0
    receive = (body_done - first_byte) * 1000.0
    response_time = (first_byte - begin) * 1000.0
    size = response.num_bytes_downloaded
    out.update(
        responseCode=response.status_code,
        connectTime=_ms(connect),
        sslTime=_ms(tls if tls is not None else 0.0),
        waitTime=_ms(wait),
        receiveTime=_ms(receive),
        responseTime=_ms(response_time),
        totalTime=_ms((body_done - begin) * 1000.0),
        wireSize=size,
        throughput=round(size / (receive / 1000.0), 1) if receive > 0 else None,
        requestHeaders=raw_request_head(response.request),
        responseHeaders=raw_response_head(response),
    )
    return out, response


def status_wanted(code: int, desired: str) -> bool:
    """Does the response code meet the test's desiredStatusCode? "" or "default": below 400; "200": exactly that;
    "2xx": that class."""
    desired = (desired or "").strip().lower()
    if desired in ("", "default"):
        return code < 400
    if re.fullmatch(r"[1-5]xx", desired):
        return code // 100 == int(desired[0])
    return desired.isdigit() and code == int(desired)


def _check_answer(out: dict, response: httpx.Response, desired_status: str, content_regex: str) -> None:
    code = response.status_code
    if not status_wanted(code, desired_status):
        wanted = f"expected {desired_status}" if desired_status.strip() else "expected below 400"
        out.update(errorType=ERROR_HTTP, errorDetails=f"HTTP {code} {response.reason_phrase} ({wanted})")
    elif content_regex and re.search(content_regex, response.text) is None:
        out.update(
            errorType=ERROR_CONTENT, errorDetails=f"the response does not match the content regex {content_regex!r}"
        )


def _header_lines(raw: list[tuple[bytes, bytes]]) -> str:
    return "".join(f"{k.decode('latin-1')}: {v.decode('latin-1')}\r\n" for k, v in raw)


def raw_request_head(request: httpx.Request) -> str:
    """The request as it went on the wire, request line first, CRLF line endings (as v6's headers=1 shows it)."""
    return f"{request.method} {request.url.raw_path.decode('ascii')} HTTP/1.1\r\n" + _header_lines(request.headers.raw)


def raw_response_head(response: httpx.Response) -> str:
    """The status line and headers as received, CRLF line endings."""
    status = f"{response.http_version} {response.status_code} {response.reason_phrase}".rstrip()
    return status + "\r\n" + _header_lines(response.headers.raw)


def http_probe(
    url: str,
    time_limit_s: float = 5.0,
    follow_redirects: bool = True,
    max_redirects: int = 10,
    verify: bool = True,
    headers: dict | None = None,
    desired_status: str = "",
    content_regex: str = "",
) -> dict:
    """Fetch the URL like a browser's first visit would (new connection), following redirects when asked, all
    within time_limit_s."""
    redirect_ms = 0.0
    redirects = 0
    deadline = time.perf_counter() + time_limit_s
    while True:
        # Each hop opens its own connection, so the timings never mix hops.
        with httpx.Client(verify=verify, trust_env=False, follow_redirects=False) as client:
            out, response = _one_hop(client, url, time_limit_s, deadline, headers or {})
        if response is None:
            break
        if follow_redirects and response.is_redirect and response.headers.get("location"):
            if redirects >= max_redirects:
                out.update(errorType=ERROR_HTTP, errorDetails=f"more than {max_redirects} redirects")
                break
            redirects += 1
            redirect_ms += out["totalTime"] or 0.0
            url = urljoin(url, response.headers["location"])
            continue
        _check_answer(out, response, desired_status, content_regex)
        break
    out["numRedirects"] = redirects
    out["redirectTime"] = round(redirect_ms, 3)
    if redirects and out["totalTime"] is not None:
        out["totalTime"] = round(out["totalTime"] + redirect_ms, 3)
        if out["responseTime"] is not None:
            out["responseTime"] = round(out["responseTime"] + redirect_ms, 3)
    return out
