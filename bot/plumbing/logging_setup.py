"""Logging that never prints the bot token (URLs, tracebacks), and says which update each line belongs to.

Every line written while an update is handled ends with `update=<id> chat=<id> handler=<module.function>`:
`LogContextMiddleware` (outer, on updates) and `HandlerNameMiddleware` (inner, on every event type), in
bot/plumbing/log_context.py, put them in context variables, and the formatter appends whatever is set. Each update
runs in its own asyncio task (polling and webhook alike), so the values die with the task and never leak into another
update's lines.

No aiogram here: `python -m bot backup` (a timer's job) sets up logging too, and importing aiogram costs a fresh
interpreter seconds of CPU (pydantic builds its type models).
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar

REDACTED = "<redacted-token>"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# What the current update is; None outside an update (start-up, scheduler jobs, shutdown).
current_update_id: ContextVar[int | None] = ContextVar("most_update_id", default=None)
current_chat_id: ContextVar[int | None] = ContextVar("most_chat_id", default=None)
current_handler: ContextVar[str | None] = ContextVar("most_handler", default=None)

# A handler flag (aiogram's `flags=`) for handlers whose people are promised anonymity (a creator answering a
# reference): their lines, and aiogram's "Update … is handled" after them, keep the update and the handler but
# lose the chat id, so a log does not say which Telegram account answered a questionnaire, or when.
ANONYMOUS_IN_LOGS = "anonymous_in_logs"


def log_context() -> dict[str, int | str]:
    """The update, chat and handler of the current line, only those that are known."""
    values = {"update": current_update_id.get(), "chat": current_chat_id.get(), "handler": current_handler.get()}
    return {key: value for key, value in values.items() if value is not None}


class RedactingFormatter(logging.Formatter):
    """Formats as usual plus the update context, then removes every secret from the whole line, traceback
    included."""

    def __init__(self, fmt: str, secrets: list[str]) -> None:
        super().__init__(fmt)
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)  # longest first: no partial leftovers

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        context = log_context()
        if context:
            line += " " + " ".join(f"{key}={value}" for key, value in context.items())
        return line

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text


def formatter_for(token: str, *extra_secrets: str) -> RedactingFormatter:
    # The token's secret half alone is enough to redact; the id part is public anyway.
    return RedactingFormatter(LOG_FORMAT, [token, token.partition(":")[2], *extra_secrets])


def setup_logging(level: str, token: str, *extra_secrets: str) -> None:
    """Send logs to stderr with the token (and e.g. the webhook secret) redacted; replaces handlers set before."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter_for(token, *extra_secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("aiosqlite").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # Its DEBUG lines name the chat and user of every dialog, a reference's anonymous creator included.
    logging.getLogger("aiogram_dialog").setLevel(logging.INFO)
