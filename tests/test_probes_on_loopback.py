"""Probes against real servers on loopback: HTTP phases, redirects, errors, TLS facts; DNS answers; ICMP mode."""

import datetime
import os
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from spyglass.agent.measure import run_assignment
from spyglass.agent.probes.dns import dns_probe
from spyglass.agent.probes.http import http_probe
from spyglass.agent.probes.icmp import icmp_burst
from spyglass.agent.probes.tcp import tcp_burst
from spyglass.demo.targets import DnsResponder
from tests.agent_helpers import TcpService, closed_port

BODY = b"hello " * 1000
DRIPS: list[threading.Event] = []  # one per /drip request, set once the server has written the whole body


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        if self.path.startswith("/hop/"):
            left = int(self.path.split("/")[2])
            self.send_response(302)
            self.send_header("Location", f"/hop/{left - 1}" if left > 1 else "/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path == "/slow":
            time.sleep(1.5)
        if self.path == "/drip":  # every read gets a byte well within any timeout; the whole body takes 1.6 s
            sent_all = threading.Event()
            DRIPS.append(sent_all)
            self.send_response(200)
            self.send_header("Content-Length", "20")
            self.end_headers()
            for _ in range(20):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.08)
            sent_all.set()
            return
        if self.path == "/missing":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args):
        pass


def serve(server: ThreadingHTTPServer) -> None:
    """Serves in a thread that notices shutdown() within 20 ms (serve_forever's default poll is 0.5 s, which every
    test's teardown waited)."""
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()


@pytest.fixture
def web():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    serve(server)
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def tls_web(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "spyglass.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    serve(server)
    yield f"https://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_it_times_every_phase_of_an_http_request(web):
    result = http_probe(web + "/")
    assert result["errorType"] == "None"
    assert result["responseCode"] == 200
    assert result["serverIp"] == "127.0.0.1"
    assert result["wireSize"] == len(BODY)
    for phase in ("dnsTime", "connectTime", "waitTime", "receiveTime", "responseTime", "totalTime"):
        assert result[phase] is not None and result[phase] >= 0, phase
    assert result["sslTime"] == 0.0
    assert result["totalTime"] >= result["connectTime"] + result["waitTime"]
    assert result["throughput"] > 0
    request_head, response_head = result["requestHeaders"], result["responseHeaders"]
    assert request_head.startswith("GET / HTTP/1.1\r\n") and "\r\nHost: 127.0.0.1" in request_head
    assert response_head.startswith("HTTP/1.0 200 OK\r\n")  # http.server answers as HTTP/1.0
    assert response_head.endswith("\r\n")
    assert "\n" not in response_head.replace("\r\n", "")  # every line ends in CRLF, as v6 writes them


def test_it_follows_redirects_and_counts_them(web):
    result = http_probe(web + "/hop/3")
    assert result["responseCode"] == 200
    assert result["numRedirects"] == 3
    assert result["redirectTime"] > 0
    assert result["totalTime"] > result["redirectTime"]


def test_it_stops_at_the_redirect_limit_or_when_told_not_to_follow(web):
    limited = http_probe(web + "/hop/5", max_redirects=2)
    assert limited["errorType"] == "HTTP"
    assert "more than 2 redirects" in limited["errorDetails"]
    unfollowed = http_probe(web + "/hop/1", follow_redirects=False)
    assert unfollowed["responseCode"] == 302
    assert unfollowed["numRedirects"] == 0


def test_it_reports_http_connect_and_timeout_errors(web):
    missing = http_probe(web + "/missing")
    assert (missing["errorType"], missing["responseCode"]) == ("HTTP", 404)
    refused = http_probe(f"http://127.0.0.1:{closed_port()}/")
    assert refused["errorType"] == "Connect"
    assert refused["responseCode"] is None
    slow = http_probe(web + "/slow", time_limit_s=0.5)
    assert slow["errorType"] == "Timeout"
    assert "receive_response_headers" in slow["errorDetails"]


def test_the_time_limit_bounds_the_whole_request_body_included(web):
    DRIPS.clear()
    dripping = http_probe(web + "/drip", time_limit_s=0.8)
    assert dripping["errorType"] == "Timeout", dripping
    assert "receive_response_body" in dripping["errorDetails"]
    assert not DRIPS[0].is_set()  # it stopped at the limit, while the server was still sending the body
    assert http_probe(web + "/drip", time_limit_s=8)["errorType"] == "None"


def test_availability_follows_the_desired_status_code_and_the_content_regex(web):
    assert (http_probe(web + "/missing", desired_status="404")["errorType"]) == "None"
    ok = http_probe(web + "/", desired_status="2xx", content_regex=r"hello\s+hello")
    assert (ok["errorType"], ok["responseCode"]) == ("None", 200)
    wrong_code = http_probe(web + "/", desired_status="201")
    assert wrong_code["errorType"] == "HTTP" and "expected 201" in wrong_code["errorDetails"]
    assert wrong_code["responseCode"] == 200
    wrong_content = http_probe(web + "/", content_regex="goodbye")
    assert wrong_content["errorType"] == "Content" and "goodbye" in wrong_content["errorDetails"]
    # The test's settings reach the probe through the agent's assignment.
    a = {"testId": 1, "type": "http-server", "interval": 60, "url": web + "/", "networkMeasurements": False}
    (row,) = run_assignment({**a, "contentRegex": "goodbye"}, 0)
    assert row["errorType"] == "Content"
    (row,) = run_assignment({**a, "desiredStatusCode": "404", "url": web + "/missing"}, 0)
    assert row["errorType"] == "None"


def test_it_reports_tls_version_cipher_and_certificate_facts(tls_web):
    unverified = http_probe(tls_web + "/", verify=False)
    assert unverified["errorType"] == "None"
    assert unverified["sslTime"] > 0
    assert unverified["sslVersion"].startswith("TLSv1")
    assert unverified["sslCipher"]
    (cert,) = unverified["sslCerts"]
    assert cert["subjectName"] == "CN=spyglass.test"
    assert cert["issuerName"] == "CN=spyglass.test"
    assert 28 <= cert["daysUntilExpiry"] <= 30
    verified = http_probe(tls_web + "/", verify=True)
    assert verified["errorType"] == "SSL"
    assert "certificate" in verified["errorDetails"].lower()


def test_it_measures_tcp_handshakes_and_refusals_on_loopback():
    service = TcpService()
    ok = tcp_burst("127.0.0.1", service.port, count=10, spacing_ms=5)
    service.close()
    assert ok["loss"] == 0.0 and ok["errorType"] == "None"
    assert 0 < ok["minLatency"] <= ok["avgLatency"] <= ok["maxLatency"] < 100
    refused = tcp_burst("127.0.0.1", closed_port(), count=3, spacing_ms=5)
    assert refused["loss"] == 100.0 and refused["errorType"] == "Connect" and refused["avgLatency"] is None


def test_it_resolves_with_a_dns_server_and_reports_nxdomain_and_timeouts():
    responder = DnsResponder().start()
    try:
        found = dns_probe("www.demo.test A", f"127.0.0.1:{responder.port}")
        assert (found["errorType"], found["mappings"]) == ("None", "127.0.0.1 (A)")
        assert found["resolutionTime"] > 0
        assert dns_probe("www.demo.test", f"127.0.0.1:{responder.port}", transport="TCP")["mappings"]
        missing = dns_probe("elsewhere.example A", f"127.0.0.1:{responder.port}")
        assert missing["errorType"] == "DNS" and "NXDOMAIN" in missing["errorDetails"]
    finally:
        responder.close()
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        timeout = dns_probe("www.demo.test A", f"127.0.0.1:{silent.getsockname()[1]}", timeout_s=0.3)
    assert timeout["errorType"] == "Timeout"


@pytest.mark.skipif(os.geteuid() != 0, reason="ICMP echo needs root or net.ipv4.ping_group_range here")
def test_it_pings_in_icmp_mode():
    result = icmp_burst("127.0.0.1", count=5, spacing_ms=10)
    assert result["loss"] == 0.0
    assert result["errorType"] == "None"
    assert result["avgLatency"] > 0
