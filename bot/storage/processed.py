"""Which updates were already handled, so a re-delivered one is skipped."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.storage.db import Database

# Telegram keeps an unconfirmed update for at most 24 hours; a week of ids is plenty.
KEEP_PROCESSED_FOR = timedelta(days=7)


class ProcessedUpdates:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def seen(self, update_id: int) -> bool:
        return (
            await self._db.fetchval("SELECT 1 FROM processed_updates WHERE update_id = ?", (update_id,)) == 1
        )

    async def mark(self, update_id: int, now: datetime) -> None:
        await self._db.execute(
            "INSERT OR IGNORE INTO processed_updates (update_id, processed_at) VALUES (?, ?)",
            (update_id, now.isoformat()),
        )

    async def prune(self, now: datetime) -> int:
        return await self._db.execute_rowcount(
            "DELETE FROM processed_updates WHERE processed_at < ?", ((now - KEEP_PROCESSED_FOR).isoformat(),)
        )
