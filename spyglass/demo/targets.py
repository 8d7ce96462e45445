"""Local demo targets on loopback: an HTTP server, a TCP service and a DNS responder (UDP and TCP).

Run as `python -m spyglass.demo.targets`: binds its preferred ports (or free ones when taken), prints the ports as
one JSON line on stdout, and serves until SIGINT/SIGTERM. No Django here."""

import json
import signal
import socket
import socketserver
import struct
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset

HOST = "127.0.0.1"
PREFERRED = {"http": 18080, "tcp": 18081, "dns": 18053}
DEMO_ZONE = "demo.test."
PAGE = b"<!doctype html><title>spyglass demo target</title><h1>It works</h1>" + b"<p>" + b"spyglass " * 400 + b"</p>"


class _Http(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        if self.path.startswith("/old"):
            self.send_response(301)
            self.send_header("Location", "/")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *args):
        pass


class _Tcp(socketserver.BaseRequestHandler):
    def handle(self):
        try:
            self.request.sendall(b"spyglass demo\r\n")
        except OSError:
            pass


class _TcpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass  # probes close with a reset on purpose; that is not an error worth a traceback


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # network measurements open and reset connections without a request


def answer(wire: bytes, zone: str = DEMO_ZONE, address: str = "127.0.0.1") -> bytes | None:
    """Answer A queries for names in the zone with the address; NXDOMAIN for everything else."""
    try:
        query = dns.message.from_wire(wire)
    except Exception:
        return None
    response = dns.message.make_response(query)
    question = query.question[0] if query.question else None
    if question is not None and question.name.to_text().endswith(zone):
        if question.rdtype in (dns.rdatatype.A, dns.rdatatype.ANY):
            response.answer.append(dns.rrset.from_text(question.name, 60, "IN", "A", address))
    else:
        response.set_rcode(dns.rcode.NXDOMAIN)
    return response.to_wire()


class DnsResponder:
    """A tiny authoritative responder for one zone, on UDP and TCP of the same port."""

    def __init__(self, host: str = HOST, port: int = 0, zone: str = DEMO_ZONE, address: str = "127.0.0.1"):
        self.zone, self.address = zone, address
        # A free UDP port may be taken on TCP by someone else: with port 0, try other ports until both are ours.
        for attempt in range(50):
            self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.udp.bind((host, port))
            self.port = self.udp.getsockname()[1]
            self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                self.tcp.bind((host, self.port))
                break
            except OSError:
                self.udp.close()
                self.tcp.close()
                if port or attempt == 49:
                    raise
        self.tcp.listen(16)
        self.stopped = threading.Event()

    def start(self) -> "DnsResponder":
        threading.Thread(target=self._serve_udp, daemon=True).start()
        threading.Thread(target=self._serve_tcp, daemon=True).start()
        return self

    def _serve_udp(self):
        while not self.stopped.is_set():
            try:
                wire, peer = self.udp.recvfrom(4096)
            except OSError:
                return
            reply = answer(wire, self.zone, self.address)
            if reply:
                self.udp.sendto(reply, peer)

    def _serve_tcp(self):
        while not self.stopped.is_set():
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                return
            with conn:
                try:
                    conn.settimeout(2)
                    size = struct.unpack("!H", conn.recv(2))[0]
                    reply = answer(conn.recv(size), self.zone, self.address)
                    if reply:
                        conn.sendall(struct.pack("!H", len(reply)) + reply)
                except (OSError, struct.error):
                    pass

    def close(self):
        self.stopped.set()
        self.udp.close()
        self.tcp.close()


def _bind(make, preferred: int):
    try:
        return make(preferred)
    except OSError:
        return make(0)


def main() -> int:
    http = _bind(lambda p: _HttpServer((HOST, p), _Http), PREFERRED["http"])
    tcp = _bind(lambda p: _TcpServer((HOST, p), _Tcp), PREFERRED["tcp"])
    responder = _bind(lambda p: DnsResponder(HOST, p), PREFERRED["dns"]).start()
    for server in (http, tcp):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(json.dumps({"http": http.server_address[1], "tcp": tcp.server_address[1], "dns": responder.port}), flush=True)
    stop.wait()
    http.shutdown()
    tcp.shutdown()
    responder.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
