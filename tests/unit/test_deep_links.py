"""The deep-link lock-out rule (table-driven), its storage, and what the guard logs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.deep_links import kind_of
from bot.domain.deep_links import (
    FAILURE_WINDOW,
    LOCKOUT,
    MAX_FAILURES,
    Attempts,
    after_failure,
    locked_for,
    minutes_left,
)
from bot.storage.db import Database, connect
from bot.storage.deep_links import DeepLinkAttemptRepo

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def test_the_constants_say_what_the_brief_asks() -> None:
    assert (MAX_FAILURES, FAILURE_WINDOW, LOCKOUT) == (5, 10 * MIN, 30 * MIN)


@pytest.mark.parametrize(
    ("before", "now", "after", "locks"),
    [
        # the first failure opens a window
        (None, T0, Attempts(T0, 1), False),
        # more inside the window add up, the window keeps its start
        (Attempts(T0, 1), T0 + 3 * MIN, Attempts(T0, 2), False),
        (Attempts(T0, 3), T0 + 9 * MIN, Attempts(T0, 4), False),
        # the fifth inside the window locks for LOCKOUT from now
        (Attempts(T0, 4), T0 + 9 * MIN, Attempts(T0, 5, T0 + 39 * MIN), True),
        # a window that is over starts again at one
        (Attempts(T0, 4), T0 + 10 * MIN, Attempts(T0 + 10 * MIN, 1), False),
        # during a lock-out nothing changes and no second lock-out starts
        (Attempts(T0, 5, T0 + 30 * MIN), T0 + 20 * MIN, Attempts(T0, 5, T0 + 30 * MIN), False),
        # after a lock-out: a clean slate
        (Attempts(T0, 5, T0 + 30 * MIN), T0 + 30 * MIN, Attempts(T0 + 30 * MIN, 1), False),
    ],
)
def test_after_failure(before: Attempts | None, now: datetime, after: Attempts, locks: bool) -> None:
    assert after_failure(before, now) == (after, locks)


@pytest.mark.parametrize(
    ("attempts", "now", "remaining"),
    [
        (None, T0, None),
        (Attempts(T0, 4), T0, None),
        (Attempts(T0, 5, T0 + 30 * MIN), T0, 30 * MIN),
        (Attempts(T0, 5, T0 + 30 * MIN), T0 + 29 * MIN, MIN),
        (Attempts(T0, 5, T0 + 30 * MIN), T0 + 30 * MIN, None),
    ],
)
def test_locked_for(attempts: Attempts | None, now: datetime, remaining: timedelta | None) -> None:
    assert locked_for(attempts, now) == remaining


@pytest.mark.parametrize(
    ("remaining", "minutes"),
    [(30 * MIN, 30), (29 * MIN + timedelta(seconds=1), 30), (timedelta(seconds=1), 1), (timedelta(0), 1)],
)
def test_minutes_left_rounds_up(remaining: timedelta, minutes: int) -> None:
    assert minutes_left(remaining) == minutes


@pytest.mark.parametrize(
    ("payload", "kind"),
    [("join_abc", "join"), ("ref_x", "ref"), ("ci_123", "ci"), ("gs_1", "gs"), ("hello", "other"), ("x_y", "other")],
)
def test_kind_of_names_only_known_prefixes(payload: str, kind: str) -> None:
    assert kind_of(payload) == kind


def test_five_failures_in_a_row_lock_exactly_once() -> None:
    attempts, locks = None, []
    for i in range(20):
        attempts, locked = after_failure(attempts, T0 + i * timedelta(seconds=10))
        locks.append(locked)
    assert locks.count(True) == 1 and locks.index(True) == MAX_FAILURES - 1


def test_expiry_covers_the_window_and_the_lock_out() -> None:
    assert Attempts(T0, 2).expires_at == T0 + FAILURE_WINDOW
    assert Attempts(T0, 5, T0 + 35 * MIN).expires_at == T0 + 35 * MIN


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await connect(tmp_path / "most.db")
    yield database
    await database.close()


async def test_storage_round_trips_and_prunes_expired_rows(db: Database) -> None:
    repo = DeepLinkAttemptRepo(db)
    await repo.save(1, Attempts(T0, 5, T0 + LOCKOUT), T0)
    await repo.save(2, Attempts(T0, 1), T0)
    assert await repo.get(1, T0 + MIN) == Attempts(T0, 5, T0 + LOCKOUT)
    assert await repo.get(2, T0 + FAILURE_WINDOW) is None  # expired: says nothing any more
    await repo.save(3, Attempts(T0 + 11 * MIN, 1), T0 + 11 * MIN)  # saving prunes everyone's expired rows
    rows = await db.fetchall("SELECT user_id FROM deep_link_attempts ORDER BY user_id")
    assert [r[0] for r in rows] == [1, 3]
    assert await repo.prune(T0 + LOCKOUT + FAILURE_WINDOW) == 2
