"""A logging filter that keeps secrets out of every log line: share-link ids (in paths, hosts and API URLs) and
credentials. Attached to the root handler in settings.LOGGING and to gunicorn's error and access handlers
(spyglass/appserver.py), so every line any process writes passes through it."""

import logging
import re

_PATTERNS = [
    # Whatever follows /s/ or /snapshots/ up to the next separator: the id, however escaped or padded around.
    (re.compile(r"(?i)(/(?:s|snapshots)/)[^/\s?#'\"]+"), r"\1[link]"),
    # Any run of 16 or more base32 characters, wherever it appears: a link id is 32 of them (sharing/links.py), and
    # a piece that long (a 32-character prefix of a 33-character run is the id) would give most of it away.
    (re.compile(r"[a-z2-7]{16,}"), "[link]"),
    # A share-domain host in any letter case (host names are case-insensitive): <ID>.share.example.com.
    (re.compile(r"(?i)(?<![a-z0-9-])[a-z2-7]{16,}(?=\.[a-z0-9-]+\.[a-z0-9-])"), "[link]"),
    # tokens in an Authorization header or a query string
    (re.compile(r"(?i)(authorization[:=]\s*(?:basic|bearer)\s+)\S+"), r"\1[redacted]"),
    (re.compile(r"(?i)([?&](?:token|password)=)[^&\s]+"), r"\1[redacted]"),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            # A traceback's text can quote the request too (an exception's message): redact it as the handler
            # would format it, which the handler then prints as is.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
