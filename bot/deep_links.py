"""Deep links cost something to guess: failures counted per person, a lock-out past the threshold.

The one place every deep-link kind goes through:
- `DeepLinkGuard` is a message middleware: while a person is locked out, any `/start <payload>` of theirs gets
  "Too many invalid links…" instead of its handler — a valid token too, so the reply tells nothing about
  whether a token exists;
- a handler that finds its payload is not a valid, live token calls `await deep_links.failed(message)` — the
  one line a new deep-link kind adds.
The rule (threshold, window, lock-out) is bot/domain/deep_links.py; the counts live in SQLite
(bot/storage/deep_links.py), written in the update's unit of work, so a restart forgets nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Message, TelegramObject
from aiogram.utils.i18n import ngettext

from bot.clock import Clock
from bot.domain.deep_links import FAILURE_WINDOW, MAX_FAILURES, after_failure, locked_for, minutes_left
from bot.storage.deep_links import DeepLinkAttemptRepo

log = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]

# Prefixes named in the lock-out's log line; anything else is logged as "other" (the payload itself never is).
KINDS = ("join", "ref", "ci", "gs")
START = re.compile(r"^/start(?:@\w+)?\s+(\S.*)$", re.DOTALL | re.IGNORECASE)


def payload_of(message: Message) -> str | None:
    """The deep-link payload of a `/start <payload>` message; None for anything else."""
    match = START.match(message.text or "")
    return match.group(1).strip() if match else None


def kind_of(payload: str) -> str:
    """The payload's kind for the logs: its known prefix, else "other"."""
    prefix, separator, _rest = payload.partition("_")
    return prefix if separator and prefix in KINDS else "other"


def lockout_text(minutes: int) -> str:
    return ngettext(
        "Too many invalid links. Try again in {count} minute.",
        "Too many invalid links. Try again in {count} minutes.",
        minutes,
    ).format(count=minutes)


class DeepLinkGuard(BaseMiddleware):
    """Refuses every deep link of a locked-out person, and counts the failures handlers report."""

    def __init__(self, attempts: DeepLinkAttemptRepo, clock: Clock) -> None:
        self._attempts = attempts
        self._clock = clock

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Message) or event.from_user is None or payload_of(event) is None:
            return await handler(event, data)
        now = self._clock.now()
        remaining = locked_for(await self._attempts.get(event.from_user.id, now), now)
        if remaining is None:
            return await handler(event, data)
        await event.answer(lockout_text(minutes_left(remaining)))
        return None

    async def failed(self, message: Message) -> None:
        """The message's deep link is not a valid, live token: count it; the failure that starts a lock-out is
        logged once, at WARNING, with the person's id and the link's kind — never the payload."""
        if message.from_user is None:
            return
        user_id = message.from_user.id
        now = self._clock.now()
        attempts, locked = after_failure(await self._attempts.get(user_id, now), now)
        await self._attempts.save(user_id, attempts, now)
        if locked and attempts.locked_until is not None:
            log.warning(
                "deep links refused for user %s for %d minutes: %d invalid links within %d minutes, the last: %s",
                user_id,
                minutes_left(attempts.locked_until - now),
                MAX_FAILURES,
                FAILURE_WINDOW // timedelta(minutes=1),
                kind_of(payload_of(message) or ""),
            )
