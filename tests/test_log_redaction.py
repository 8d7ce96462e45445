"""Share ids and credentials never reach a log line."""

import base64
import logging
import secrets
import socket

from spyglass.lib.redact import RedactSecrets, redact
from spyglass.sharing.links import new_link_id
from tests.appservers import SqliteServer

LINK = "abcdefghijklmnopqrstuvwxyz234567"


def test_share_ids_are_redacted_in_paths_hosts_and_api_urls():
    assert LINK not in redact(f"Not Found: /s/{LINK}/")
    assert LINK not in redact(f"GET https://{LINK}.share.example.com/ 404")
    assert LINK not in redact(f"Not Found: /v6/snapshots/{LINK}/delete.json")
    assert redact("Not Found: /v6/tests/12345.json") == "Not Found: /v6/tests/12345.json"


def test_credentials_are_redacted():
    assert "s3cr3t" not in redact("authorization: Bearer s3cr3t")
    assert "s3cr3t" not in redact("/login?token=s3cr3t&x=1")


def test_the_filter_rewrites_records_with_arguments(caplog):
    logger = logging.getLogger("spyglass.test.redaction")
    logger.addFilter(RedactSecrets())
    with caplog.at_level(logging.WARNING):
        logger.warning("Not Found: %s", f"/s/{LINK}/")
    assert LINK not in caplog.text and "[link]" in caplog.text


def test_a_404_on_a_share_link_logs_no_id(client, caplog, db):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        client.get(f"/s/{LINK}/")
    assert caplog.records  # Django did log the 404
    for record in caplog.records:
        RedactSecrets().filter(record)
        assert LINK not in record.getMessage()


def test_any_long_enough_piece_of_a_link_id_is_redacted():
    """A 32-character prefix of a 32-character id is the id: a longer run, a case change in a host name or a
    percent-escape next to it must not let the id through."""
    for line in (
        f"Not Found: /s/{LINK}a/",
        f"Not Found: /s/2{LINK}/",
        f"Invalid HTTP request line: 'GET /s/{LINK}/\\x01 HTTP/1.1'",
        f"Invalid HTTP_HOST header: '{LINK.upper()}.share.example.org'",
        f"GET /s/%61{LINK[1:]}/ HTTP/1.1",
        f"GET /s/{LINK[:20]}%{LINK[20:]}/",
    ):
        cleaned = redact(line)
        assert not _pieces_of(LINK, cleaned), (line, cleaned)
    assert redact("Not Found: /static/web/results.js") == "Not Found: /static/web/results.js"
    assert redact("django.core.exceptions.ImproperlyConfigured: x") == "django.core.exceptions.ImproperlyConfigured: x"


def _pieces_of(link_id: str, text: str, size: int = 16) -> list[str]:
    """Every piece of the id, `size` characters or longer, that appears in text (in any letter case)."""
    text = text.lower()
    return [link_id[i : i + size] for i in range(len(link_id) - size + 1) if link_id[i : i + size] in text]


def _raw_request(port: int, target: bytes, host: bytes = b"127.0.0.1", headers: bytes = b"") -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(
            b"GET " + target + b" HTTP/1.1\r\nHost: " + host + b"\r\n" + headers + b"Connection: close\r\n\r\n"
        )
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return answer


def test_a_debug_level_server_logs_no_link_id_and_no_token(tmp_path):
    """Real gunicorn through `spyglass serve` at SPYGLASS_LOG_LEVEL=DEBUG: its own error and access lines and
    Django's lines carry no piece of a link id and no credential, whatever the request looks like."""
    link_id, token = new_link_id(), "tok-" + secrets.token_urlsafe(24)
    server = SqliteServer(
        tmp_path,
        {
            "SPYGLASS_LOG_LEVEL": "DEBUG",
            "SPYGLASS_SHARE_URL_TEMPLATE": "http://{linkId}.share.example.com/",
            "SPYGLASS_ALLOWED_HOSTS": "127.0.0.1,.share.example.com",
        },
    )
    try:
        port = server.start().port
        basic = base64.b64encode(f"ops@example.com:{token}".encode())
        answers = [
            _raw_request(port, f"/s/{link_id}/".encode() + b"\x01"),
            _raw_request(port, f"/s/{link_id}a/".encode()),
            _raw_request(port, f"/s/{link_id}/".encode(), headers=f"Authorization: Bearer {token}\r\n".encode()),
            _raw_request(
                port, f"/v6/snapshots/{link_id}.json".encode(), headers=b"Authorization: Basic " + basic + b"\r\n"
            ),
            _raw_request(port, f"/s/%{link_id[:2]}{link_id}/".encode()),
            _raw_request(port, f"/login/?token={token}".encode()),
            _raw_request(port, b"/", host=f"{link_id}.share.example.com".encode()),
            _raw_request(port, b"/", host=f"{link_id.upper()}.share.example.org".encode()),  # not an allowed host
        ]
        assert [a.split(b" ", 2)[1] for a in answers] == [
            b"400",
            b"404",
            b"404",
            b"401",
            b"404",
            b"200",
            b"404",
            b"400",
        ]
    finally:
        server.stop()
    lines = server.output().splitlines()
    for line in lines:
        assert not _pieces_of(link_id, line), line
        assert token not in line and basic.decode() not in line, line
    # ... and the lines were written: gunicorn's at DEBUG, its error and access logs, Django's with a traceback.
    assert any("[DEBUG]" in line for line in lines)
    assert any("Invalid request" in line and "[link]" in line for line in lines)
    assert any('"GET /s/[link]' in line for line in lines)
    assert any("DisallowedHost: Invalid HTTP_HOST header: '[link].share.example.org'" in line for line in lines)
