"""Share ids and credentials never reach a log line."""

import logging

from spyglass.lib.redact import RedactSecrets, redact

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
