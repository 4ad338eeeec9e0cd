"""aiogram FSM storage in the bot's SQLite file: a conversation survives kill -9 and restarts."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, KeyBuilder, StateType, StorageKey

from bot.storage.db import Database


class SQLiteStorage(BaseStorage):
    def __init__(self, db: Database, key_builder: KeyBuilder | None = None) -> None:
        self._db = db
        self._keys = key_builder or DefaultKeyBuilder(with_destiny=True)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._db.execute(
            "INSERT INTO fsm_states (key, state, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
            (self._keys.build(key), value, _stamp()),
        )

    async def get_state(self, key: StorageKey) -> str | None:
        return await self._db.fetchval("SELECT state FROM fsm_states WHERE key = ?", (self._keys.build(key),))

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        payload = json.dumps(dict(data), ensure_ascii=False)
        await self._db.execute(
            "INSERT INTO fsm_states (key, data, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
            (self._keys.build(key), payload, _stamp()),
        )

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        raw = await self._db.fetchval("SELECT data FROM fsm_states WHERE key = ?", (self._keys.build(key),))
        return json.loads(raw) if raw else {}

    async def close(self) -> None:
        """The database belongs to the app, which closes it after polling stops."""


def _stamp() -> str:
    return datetime.now(UTC).isoformat()
