"""A logging filter that keeps secrets out of every log line: share-link ids (in paths, hosts and API URLs) and
credentials. Attached to the root handler in settings.LOGGING."""

import logging
import re

_PATTERNS = [
    # share links (/s/<id>/, /v6/snapshots/<id>) and share-domain hosts (<id>.share.example.com)
    (re.compile(r"(?<![a-z2-7])[a-z2-7]{32}(?![a-z2-7])"), "[link]"),
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
        return True
