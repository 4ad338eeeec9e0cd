"""Users: the Telegram people the bot has met, and their language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.storage.db import Database


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    locale: str | None
    telegram_language: str | None
    current_workspace_id: int | None


class UserRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def touch(self, user_id: int, telegram_language: str | None, now: datetime) -> UserRecord:
        """Create the user on first sight, refresh what Telegram says on every update."""
        stamp = now.isoformat()
        row = await self._db.fetchone(
            "INSERT INTO users (id, telegram_language, first_seen, last_seen) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET "
            "telegram_language = COALESCE(excluded.telegram_language, users.telegram_language), "
            "last_seen = excluded.last_seen "
            "RETURNING id, locale, telegram_language, current_workspace_id",
            (user_id, telegram_language, stamp, stamp),
        )
        assert row is not None
        return UserRecord(row["id"], row["locale"], row["telegram_language"], row["current_workspace_id"])

    async def get(self, user_id: int) -> UserRecord | None:
        row = await self._db.fetchone(
            "SELECT id, locale, telegram_language, current_workspace_id FROM users WHERE id = ?", (user_id,)
        )
        if row is None:
            return None
        return UserRecord(row["id"], row["locale"], row["telegram_language"], row["current_workspace_id"])

    async def set_locale(self, user_id: int, locale: str) -> None:
        await self._db.execute("UPDATE users SET locale = ? WHERE id = ?", (locale, user_id))
