"""Updates as they arrive: written down (raw, as Telegram sent them) before Telegram is told, marked once handled,
or set aside with a reason when they cannot be handled."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.storage.db import Database

# Telegram keeps an unconfirmed update for at most 24 hours; a week of handled ids is plenty.
KEEP_HANDLED_FOR = timedelta(days=7)
# Set-aside updates stay for an operator to look at for longer.
KEEP_SET_ASIDE_FOR = timedelta(days=30)
REASON_MAX_CHARS = 500


# A deep-link payload (`/start ref_…`, `join_…`, `ci_…`, `gs_…`, also inside a t.me link): the prefix stays, the
# token goes.
DEEP_LINK_TOKEN = re.compile(r"\b(ref|join|ci|gs)_[A-Za-z0-9_-]{6,}")
REDACTED_TOKEN = r"\1_<redacted>"


def redact_tokens(payload: str | None) -> str | None:
    return None if payload is None else DEEP_LINK_TOKEN.sub(REDACTED_TOKEN, payload)


@dataclass(frozen=True, slots=True)
class PendingUpdate:
    update_id: int
    payload: str
    attempts: int


def _record(conn: sqlite3.Connection, updates: list[tuple[int, str]], stamp: str) -> set[int]:
    ids = [update_id for update_id, _ in updates]
    marks = ",".join("?" * len(ids))
    rows = conn.execute(f"SELECT update_id FROM received_updates WHERE update_id IN ({marks})", ids).fetchall()
    known = {row[0] for row in rows}
    fresh = [(update_id, payload, stamp) for update_id, payload in updates if update_id not in known]
    if fresh:
        conn.executemany("INSERT INTO received_updates (update_id, payload, received_at) VALUES (?, ?, ?)", fresh)
    return {update_id for update_id, _, _ in fresh}


class ReceivedUpdates:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(self, updates: Sequence[tuple[int, str]], now: datetime) -> set[int]:
        """Store (update_id, raw JSON) pairs not seen before, in one transaction; returns the ids that were new.

        One trip to the writer's thread: every update waits for its batch to be stored, and the writer is the
        busiest thing in the bot (five trips, each waiting for the loop, made it the slowest step of the intake)."""
        if not updates:
            return set()
        return await self._db.transaction_in_one_trip(_record, list(updates), now.isoformat())

    async def mark_handled(self, update_id: int, now: datetime) -> None:
        """Inside the update's unit of work: committed with the handler's writes, or not at all (it goes with the
        unit's COMMIT, in the same trip)."""
        await self._db.execute_at_commit(
            "UPDATE received_updates SET handled_at = ?, payload = NULL WHERE update_id = ?",
            (now.isoformat(), update_id),
        )

    async def failed_attempt(self, update_id: int, error: str) -> int:
        """Count one more failed attempt (after its unit of work was rolled back); returns the attempts so far."""
        value = await self._db.fetchval(
            "UPDATE received_updates SET attempts = attempts + 1, last_error = ? WHERE update_id = ? "
            "RETURNING attempts",
            (error[:REASON_MAX_CHARS], update_id),
        )
        return int(value or 0)

    async def set_aside(self, update_id: int, reason: str, now: datetime) -> None:
        """Give up on an update: kept with its payload and reason, never replayed. Deep-link tokens in it are
        blanked first: kept for 30 days, a payload must not hand a working reference or invite link to whoever
        reads the database."""
        async with self._db.transaction() as tx:
            payload = await tx.fetchval("SELECT payload FROM received_updates WHERE update_id = ?", (update_id,))
            await tx.execute(
                "UPDATE received_updates SET set_aside_at = ?, set_aside_reason = ?, payload = ? WHERE update_id = ?",
                (now.isoformat(), reason[:REASON_MAX_CHARS], redact_tokens(payload), update_id),
            )

    async def set_aside_count(self) -> int:
        return int(await self._db.fetchval("SELECT count(*) FROM received_updates WHERE set_aside_at IS NOT NULL"))

    async def unhandled(self) -> list[PendingUpdate]:
        """Updates received before a crash and neither handled nor set aside, oldest first."""
        rows = await self._db.fetchall(
            "SELECT update_id, payload, attempts FROM received_updates "
            "WHERE handled_at IS NULL AND set_aside_at IS NULL ORDER BY update_id"
        )
        return [PendingUpdate(row[0], row[1], row[2]) for row in rows]

    async def prune(self, now: datetime) -> int:
        handled = await self._db.execute_rowcount(
            "DELETE FROM received_updates WHERE handled_at < ?", ((now - KEEP_HANDLED_FOR).isoformat(),)
        )
        set_aside = await self._db.execute_rowcount(
            "DELETE FROM received_updates WHERE set_aside_at < ?", ((now - KEEP_SET_ASIDE_FOR).isoformat(),)
        )
        return handled + set_aside
