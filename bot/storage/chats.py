"""Group chats the bot is in, with their language and whether it may still post there."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.storage.db import Database


@dataclass(frozen=True, slots=True)
class ChatRecord:
    id: int
    type: str
    title: str | None
    locale: str | None
    active: bool


class ChatRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def touch(self, chat_id: int, chat_type: str, title: str | None, now: datetime) -> ChatRecord:
        """Record a group on first sight; keep its title current."""
        stamp = now.isoformat()
        row = await self._db.fetchone(
            "INSERT INTO chats (id, type, title, added_at, updated_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET type = excluded.type, title = excluded.title, "
            "updated_at = excluded.updated_at "
            "RETURNING id, type, title, locale, active",
            (chat_id, chat_type, title, stamp, stamp),
        )
        assert row is not None
        return _record(row)

    async def get(self, chat_id: int) -> ChatRecord | None:
        row = await self._db.fetchone(
            "SELECT id, type, title, locale, active FROM chats WHERE id = ?", (chat_id,)
        )
        return None if row is None else _record(row)

    async def set_locale(self, chat_id: int, locale: str) -> None:
        await self._db.execute("UPDATE chats SET locale = ? WHERE id = ?", (locale, chat_id))

    async def set_active(self, chat_id: int, active: bool, now: datetime) -> None:
        await self._db.execute(
            "UPDATE chats SET active = ?, updated_at = ? WHERE id = ?",
            (int(active), now.isoformat(), chat_id),
        )


def _record(row: object) -> ChatRecord:
    r = row  # aiosqlite.Row
    return ChatRecord(r["id"], r["type"], r["title"], r["locale"], bool(r["active"]))  # type: ignore[index]
