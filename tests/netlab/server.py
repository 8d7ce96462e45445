"""Targets inside the namespace: TCP accept-and-close on 7000, HTTP on 8000 (GET /wait/<ms> answers after <ms>),
a DNS responder on 53 (UDP and TCP) for demo.test, and a silent UDP socket on 5353 that never answers.

Usage: server.py ADDRESS. Prints "ready" once everything listens; stops on SIGTERM."""

import os
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from spyglass.demo.targets import DnsResponder

BODY = b"x" * 2000


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802
        if self.path.startswith("/wait/"):
            time.sleep(int(self.path.split("/")[2]) / 1000.0)
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args):
        pass


class Quiet(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass


def accept_and_close(sock):
    while True:
        try:
            conn, _ = sock.accept()
        except OSError:
            return
        conn.close()


def main() -> int:
    address = sys.argv[1]
    try:  # threads started below inherit the real-time policy: a busy machine must not delay answers
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(15))
    except OSError:
        pass
    tcp = socket.socket()
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((address, 7000))
    tcp.listen(4096)
    threading.Thread(target=accept_and_close, args=(tcp,), daemon=True).start()
    http = Quiet((address, 8000), Handler)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    DnsResponder(address, 53).start()
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind((address, 5353))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print("ready", flush=True)
    stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
