"""Users: the Telegram people the bot has met, and their language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.storage.db import Database
from bot.storage.respondents import day_of
from bot.storage.workspaces import Workspace


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    locale: str | None
    telegram_language: str | None
    current_workspace_id: int | None
    # That workspace's name while the user is still a member of it (as WorkspaceRepo.current_for); else None.
    current_workspace_name: str | None = None

    @property
    def current_workspace(self) -> Workspace | None:
        if self.current_workspace_id is None or self.current_workspace_name is None:
            return None
        return Workspace(self.current_workspace_id, self.current_workspace_name)


# Read with the user, so the update that touches the row learns the workspace in the same statement.
_WORKSPACE_NAME = (
    "(SELECT w.name FROM memberships m JOIN workspaces w ON w.id = m.workspace_id "
    "WHERE m.user_id = users.id AND m.workspace_id = users.current_workspace_id) AS current_workspace_name"
)
_COLUMNS = f"id, locale, telegram_language, current_workspace_id, {_WORKSPACE_NAME}"

# `first_seen` and `last_seen` are UTC days (YYYY-MM-DD), nothing finer: nothing needs more, a person seen today
# needs no new write (writing on every update made the user row the costliest statement per update), and a moment
# precise to the second could be lined up with a log line or a reference creator's first contact (SECURITY.md).


class UserRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def touch(self, user_id: int, telegram_language: str | None, now: datetime) -> UserRecord:
        """Create the user on first sight, refresh what Telegram says; written only when something changed or
        `last_seen` is an earlier day, else just read."""
        row = await self._db.lookup(f"SELECT {_COLUMNS}, last_seen FROM users WHERE id = ?", (user_id,))
        if row is not None and _current(row, telegram_language, now):
            return _record(row)
        stamp = day_of(now)
        row = await self._db.fetchone(
            "INSERT INTO users (id, telegram_language, first_seen, last_seen) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET "
            "telegram_language = COALESCE(excluded.telegram_language, users.telegram_language), "
            "last_seen = excluded.last_seen "
            f"RETURNING {_COLUMNS}",
            (user_id, telegram_language, stamp, stamp),
        )
        assert row is not None
        return _record(row)

    async def get(self, user_id: int) -> UserRecord | None:
        row = await self._db.lookup(f"SELECT {_COLUMNS} FROM users WHERE id = ?", (user_id,))
        return None if row is None else _record(row)

    async def set_locale(self, user_id: int, locale: str) -> None:
        await self._db.execute("UPDATE users SET locale = ? WHERE id = ?", (locale, user_id))


def _current(row: Any, telegram_language: str | None, now: datetime) -> bool:
    if telegram_language is not None and telegram_language != row["telegram_language"]:
        return False
    return isinstance(row["last_seen"], str) and row["last_seen"][:10] == day_of(now)


def _record(row: Any) -> UserRecord:
    return UserRecord(
        row["id"], row["locale"], row["telegram_language"], row["current_workspace_id"], row["current_workspace_name"]
    )
