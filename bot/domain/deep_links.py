"""The rule for guessed deep links: a few failures are mistakes, more in a short window is guessing.

A deep link (`/start join_…`, `ref_…`, `ci_…`, …) carries a token. Tokens are far too long to guess, but answering
thousands of guesses a minute for free invites trying, and tells nobody it happens. So failures are counted per
person in a fixed window; past the threshold every deep link of that person is refused for a while — a valid
one too, or the lock-out would still answer "this one exists".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

# A person who mistypes a link, or opens an old one from the chat history, fails once or twice; five failures
# within ten minutes is no longer a person clicking what they were sent.
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=10)
# Long enough that guessing costs real time (at most 5 tries per 40 minutes), short enough that someone who
# really did open five stale links is back within the half hour.
LOCKOUT = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class Attempts:
    """One person's failed deep links: since when this window counts, how many, and a lock-out if one runs."""

    window_start: datetime
    failures: int
    locked_until: datetime | None = None

    @property
    def expires_at(self) -> datetime:
        """After this moment the record says nothing any more and can be deleted."""
        window_end = self.window_start + FAILURE_WINDOW
        return max(window_end, self.locked_until) if self.locked_until is not None else window_end


def locked_for(attempts: Attempts | None, now: datetime) -> timedelta | None:
    """How long the person's deep links are still refused; None when they are not."""
    if attempts is None or attempts.locked_until is None or attempts.locked_until <= now:
        return None
    return attempts.locked_until - now


def after_failure(attempts: Attempts | None, now: datetime) -> tuple[Attempts, bool]:
    """The record after one more failure, and whether this failure starts a lock-out.

    Failures during a lock-out are not expected (the lock-out refuses links before they are checked); should
    one come, it neither extends the lock-out nor starts another."""
    if attempts is not None and locked_for(attempts, now) is not None:
        return attempts, False
    if (
        attempts is None
        or now >= attempts.window_start + FAILURE_WINDOW
        or attempts.locked_until is not None  # a lock-out that ended: a clean slate
    ):
        current = Attempts(now, 1)
    else:
        current = replace(attempts, failures=attempts.failures + 1)
    if current.failures >= MAX_FAILURES:
        return replace(current, locked_until=now + LOCKOUT), True
    return current, False


def minutes_left(remaining: timedelta) -> int:
    """Whole minutes to tell the person, rounded up: "1 minute" while any time is left."""
    return max(1, math.ceil(remaining.total_seconds() / 60))
