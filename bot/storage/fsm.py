"""aiogram FSM storage in the bot's SQLite file: a conversation survives kill -9 and restarts."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, KeyBuilder, StateType, StorageKey

from bot.storage.db import Database

# Conversations remembered in memory. Every write still goes to the database first, so the cache only saves
# reads; this process is the file's only writer (see README, "When one process is not enough").
CACHED_CONVERSATIONS = 10_000


@dataclass(slots=True)
class _Row:
    state: str | None
    data: str | None  # JSON as stored


class SQLiteStorage(BaseStorage):
    def __init__(self, db: Database, key_builder: KeyBuilder | None = None) -> None:
        self._db = db
        self._keys = key_builder or DefaultKeyBuilder(with_destiny=True)
        self._cache: OrderedDict[str, _Row] = OrderedDict()

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        built = self._keys.build(key)
        row = await self._row(built)
        if row.state == value:
            return
        await self._db.execute(
            "INSERT INTO fsm_states (key, state, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
            (built, value, _stamp()),
        )
        row.state = value

    async def get_state(self, key: StorageKey) -> str | None:
        return (await self._row(self._keys.build(key))).state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        payload = json.dumps(dict(data), ensure_ascii=False)
        built = self._keys.build(key)
        row = await self._row(built)
        if row.data == payload or (row.data is None and not data):
            return
        await self._db.execute(
            "INSERT INTO fsm_states (key, data, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
            (built, payload, _stamp()),
        )
        row.data = payload

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        raw = (await self._row(self._keys.build(key))).data
        return json.loads(raw) if raw else {}

    def forget(self, names: Callable[[str], bool]) -> None:
        """Drop remembered conversations whose key `names` matches, after their rows were deleted elsewhere."""
        for built in [k for k in self._cache if names(k)]:
            del self._cache[built]

    async def close(self) -> None:
        """The database belongs to the app, which closes it after polling stops."""

    async def _row(self, built: str) -> _Row:
        row = self._cache.get(built)
        if row is None:
            found = await self._db.fetchone("SELECT state, data FROM fsm_states WHERE key = ?", (built,))
            row = _Row(found["state"], found["data"]) if found else _Row(None, None)
            self._cache[built] = row
            if len(self._cache) > CACHED_CONVERSATIONS:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(built)
        return row


def _stamp() -> str:
    return datetime.now(UTC).isoformat()
