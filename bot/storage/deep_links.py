"""Failed deep-link attempts per person (migration 011): one small row each, deleted once it expires."""

from __future__ import annotations

from datetime import datetime

from bot.domain.deep_links import Attempts
from bot.storage.db import Database


class DeepLinkAttemptRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, user_id: int, now: datetime) -> Attempts | None:
        """The person's record, unless it has expired."""
        row = await self._db.fetchone(
            "SELECT window_start, failures, locked_until, expires_at FROM deep_link_attempts WHERE user_id = ?",
            (user_id,),
        )
        if row is None or datetime.fromisoformat(row["expires_at"]) <= now:
            return None
        locked = row["locked_until"]
        return Attempts(
            datetime.fromisoformat(row["window_start"]),
            int(row["failures"]),
            datetime.fromisoformat(locked) if locked is not None else None,
        )

    async def prune(self, now: datetime) -> int:
        """Delete every expired record; how many went."""
        return await self._db.execute_rowcount(
            "DELETE FROM deep_link_attempts WHERE expires_at <= ?", (now.isoformat(),)
        )

    async def save(self, user_id: int, attempts: Attempts, now: datetime) -> None:
        """Store the person's record and drop everyone's expired ones, so the table holds only live records."""
        await self.prune(now)
        await self._db.execute(
            "INSERT INTO deep_link_attempts (user_id, window_start, failures, locked_until, expires_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET window_start = excluded.window_start, "
            "failures = excluded.failures, locked_until = excluded.locked_until, expires_at = excluded.expires_at",
            (
                user_id,
                attempts.window_start.isoformat(),
                attempts.failures,
                attempts.locked_until.isoformat() if attempts.locked_until is not None else None,
                attempts.expires_at.isoformat(),
            ),
        )
