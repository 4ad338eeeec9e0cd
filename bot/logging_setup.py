"""Logging that never prints the bot token, wherever it hides (URLs, tracebacks)."""

from __future__ import annotations

import logging
import sys

REDACTED = "<redacted-token>"


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then removes every secret from the whole line, traceback included."""

    def __init__(self, fmt: str, secrets: list[str]) -> None:
        super().__init__(fmt)
        self._secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def formatter_for(token: str) -> RedactingFormatter:
    # The token's secret half alone is enough to redact; the id part is public anyway.
    return RedactingFormatter(LOG_FORMAT, [token, token.partition(":")[2]])


def setup_logging(level: str, token: str) -> None:
    """Send logs to stderr with the token redacted; replaces handlers set before."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter_for(token))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("aiosqlite").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
