"""Updates as they arrive: written down before Telegram is told, marked once handled."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.storage.db import Database

# Telegram keeps an unconfirmed update for at most 24 hours; a week of handled ids is plenty.
KEEP_HANDLED_FOR = timedelta(days=7)


class ReceivedUpdates:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(self, updates: Sequence[tuple[int, str]], now: datetime) -> set[int]:
        """Store (update_id, JSON) pairs not seen before, in one transaction; returns the ids that were new."""
        if not updates:
            return set()
        ids = [update_id for update_id, _ in updates]
        marks = ",".join("?" * len(ids))
        async with self._db.transaction() as tx:
            known = {row[0] for row in await tx.fetchall(
                f"SELECT update_id FROM received_updates WHERE update_id IN ({marks})", ids
            )}
            fresh = [(update_id, payload, now.isoformat()) for update_id, payload in updates if update_id not in known]
            if fresh:
                await tx.executemany(
                    "INSERT INTO received_updates (update_id, payload, received_at) VALUES (?, ?, ?)", fresh
                )
        return {update_id for update_id, _, _ in fresh}

    async def mark_handled(self, update_id: int, now: datetime) -> None:
        await self._db.execute(
            "UPDATE received_updates SET handled_at = ?, payload = NULL WHERE update_id = ?",
            (now.isoformat(), update_id),
        )

    async def unhandled(self) -> list[tuple[int, str]]:
        """Updates received before a crash and never handled, oldest first."""
        rows = await self._db.fetchall(
            "SELECT update_id, payload FROM received_updates WHERE handled_at IS NULL ORDER BY update_id"
        )
        return [(row[0], row[1]) for row in rows]

    async def prune(self, now: datetime) -> int:
        return await self._db.execute_rowcount(
            "DELETE FROM received_updates WHERE handled_at < ?", ((now - KEEP_HANDLED_FOR).isoformat(),)
        )
