"""Logging that never shows the bot token or another secret: every record is scrubbed before it is written.

Two formats: ``text`` (one readable line) and ``json`` (one JSON object a line: time in UTC,
level, logger, message and, for an error, the exception's traceback).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime

TOKEN_PATTERN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}")
FORMATS = ("text", "json")


class RedactToken(logging.Filter):
    """Replaces the token, anything shaped like a bot token, and the other secrets given (the webhook's
    secret token) in every record."""

    def __init__(self, token: str | None = None, secrets: Iterable[str] = ()):
        super().__init__()
        self.token = token
        self.secrets = [s for s in secrets if s]

    def scrub(self, text: str) -> str:
        if self.token:
            text = text.replace(self.token, "<token>")
        for secret in self.secrets:
            text = text.replace(secret, "<secret>")
        return TOKEN_PATTERN.sub("<token>", text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.scrub(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = self.scrub(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False)


def configure(token: str | None, level: int = logging.INFO, fmt: str = "text", *, secrets: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter() if fmt == "json" else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    handler.addFilter(RedactToken(token, secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.captureWarnings(True)
    logging.getLogger("httpx").setLevel(logging.WARNING)
