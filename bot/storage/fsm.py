"""aiogram FSM storage in the bot's SQLite file: a conversation survives kill -9 and restarts.

While an update is handled (`changes_of_one_update`), its state and data changes are kept in memory and written
together when the handler is done, inside the update's unit of work (bot/plumbing/intake.py): one write per conversation
per update instead of one per call, committed with the handler's records and the handled mark. A crash or a
failed handler before that commit loses nothing and keeps nothing: the memory copy is dropped and the update is
handled again from the state it found. Outside an update (scheduled jobs) every change is written at once.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, KeyBuilder, StateType, StorageKey

from bot.storage.db import Database

# Conversations remembered in memory. Every write still goes to the database first, so the cache only saves
# reads; this process is the file's only writer (see README, "When one process is not enough").
CACHED_CONVERSATIONS = 10_000


class UpdateChanges(set[str]):
    """The conversation keys one update changed. Closed once they are written: a task the update started, which
    inherits this set and outlives the update, then writes its own changes at once."""

    closed = False


@dataclass(slots=True)
class _Row:
    state: str | None
    data: str | None  # JSON as stored


_UPSERT = (
    "INSERT INTO fsm_states (key, state, data, updated_at) VALUES (?, ?, COALESCE(?, '{}'), ?) "
    "ON CONFLICT(key) DO UPDATE SET "
    "state = excluded.state, data = excluded.data, updated_at = excluded.updated_at"
)


_DELETE = "DELETE FROM fsm_states WHERE key = ?"
# The destinies of aiogram-dialog's records (aiogram_dialog/context/storage.py): a dialog's context, a chat's stack.
DIALOG_CONTEXT, DIALOG_STACK = "aiogd:context:", "aiogd:stack:"
EMPTY_DATA = (None, "{}")


def _statement(built: str, row: _Row) -> tuple[str, tuple[Any, ...]]:
    """A conversation with no state and no data leaves no row: a finished one (a creator's reference, say) must
    not keep their chat id beside the moment they finished."""
    if row.state is None and row.data in EMPTY_DATA:
        return _DELETE, (built,)
    return _UPSERT, (built, row.state, row.data, _stamp())


class SQLiteStorage(BaseStorage):
    def __init__(self, db: Database, key_builder: KeyBuilder | None = None) -> None:
        self._db = db
        self._keys = key_builder or DefaultKeyBuilder(with_destiny=True)
        self._cache: OrderedDict[str, _Row] = OrderedDict()
        self._unwritten: set[str] = set()  # changed in memory by an update still being handled
        self._changes: ContextVar[UpdateChanges | None] = ContextVar("fsm_changes", default=None)

    @contextmanager
    def changes_of_one_update(self) -> Iterator[UpdateChanges]:
        """Within this block (one update's task), changes are collected instead of written; pass the set it
        yields to `write_changes` once the handler is done."""
        changed = UpdateChanges()
        token = self._changes.set(changed)
        try:
            yield changed
        finally:
            self._changes.reset(token)

    async def write_changes(self, changed: UpdateChanges) -> None:
        """Write the conversations an update changed (nearly always one), one statement each; inside the update's
        unit of work they go with its commit (Database.execute_at_commit)."""
        changed.closed = True
        try:
            for built in changed:
                row = self._cache.get(built)
                if row is not None:  # None: deleted meanwhile (/deletemydata)
                    await self._db.execute_at_commit(*_statement(built, row))
        finally:
            self._unwritten -= changed

    def drop_changes(self, changed: UpdateChanges) -> None:
        """The update was cut off: forget what it changed, so memory agrees with the database again."""
        changed.closed = True
        for built in changed:
            self._cache.pop(built, None)
        self._unwritten -= changed

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        built = self._keys.build(key)
        row = await self._row(built)
        if row.state == value:
            return
        row.state = value
        await self._changed(built, row)

    async def get_state(self, key: StorageKey) -> str | None:
        return (await self._row(self._keys.build(key))).state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        payload = json.dumps(dict(data), ensure_ascii=False)
        built = self._keys.build(key)
        row = await self._row(built)
        if row.data == payload or (row.data is None and not data):
            return
        row.data = payload
        await self._changed(built, row)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        raw = (await self._row(self._keys.build(key))).data
        return json.loads(raw) if raw else {}

    async def prune_stale(self, state_prefix: str, untouched_since: datetime) -> int:
        """Delete conversations in a state starting with `state_prefix` that nothing changed since then (a creator's
        questionnaire left half-done keeps their chat id beside the draft); returns how many went."""
        rows = await self._db.fetchall(
            "SELECT key FROM fsm_states WHERE substr(state, 1, ?) = ? AND updated_at < ?",
            (len(state_prefix), state_prefix, untouched_since.isoformat()),
        )
        gone = 0
        for (built,) in rows:
            if built in self._unwritten:  # being changed by an update right now: not stale
                continue
            gone += await self._db.execute_rowcount(
                "DELETE FROM fsm_states WHERE key = ? AND updated_at < ?", (built, untouched_since.isoformat())
            )
            self._cache.pop(built, None)
        return gone

    async def prune_stale_dialogs(self, state_prefix: str, untouched_since: datetime) -> int:
        """Delete dialogs (aiogram-dialog) at a state starting with `state_prefix` that nothing changed since then;
        returns how many went.

        aiogram-dialog keeps two kinds of records here, each as the data of a row without an FSM state
        (aiogram_dialog/context/storage.py): a context per open dialog, under the destiny `aiogd:context:<intent
        id>` ({"_intent_id", "_stack_id", "state", "dialog_data", ...}), and a stack per chat (and person) under
        `aiogd:stack:<stack id>` ({"intents": [intent ids, the open one last], "last_message_id", ...}). A dialog
        is left alone when either record changed since (every step answered writes the context; every message
        shown, the stack). Its context goes, and its intent leaves the stack; a stack left empty goes too, so no
        row keeps the person's chat id."""
        cutoff = untouched_since.isoformat()
        rows = await self._db.fetchall(
            "SELECT key, data FROM fsm_states WHERE key LIKE ? AND state IS NULL AND updated_at < ?",
            (f"%{DIALOG_CONTEXT}%", cutoff),
        )
        gone = 0
        for built, raw in rows:
            context = _json_object(raw)
            state, intent_id, stack_id = context.get("state"), context.get("_intent_id"), context.get("_stack_id")
            if not (isinstance(state, str) and state.startswith(state_prefix)):
                continue
            stack_key = built[: built.rindex(DIALOG_CONTEXT)] + DIALOG_STACK + str(stack_id or "")
            if {built, stack_key} & self._unwritten:  # being changed by an update right now: not stale
                continue
            stack_row = await self._db.fetchone("SELECT data, updated_at FROM fsm_states WHERE key = ?", (stack_key,))
            if stack_row is not None and stack_row["updated_at"] >= cutoff:
                continue
            deleted = await self._db.execute_rowcount(
                "DELETE FROM fsm_states WHERE key = ? AND updated_at < ?", (built, cutoff)
            )
            if not deleted or {built, stack_key} & self._unwritten:  # touched meanwhile: it lives on
                continue
            gone += deleted
            self._cache.pop(built, None)
            if stack_row is not None:
                await self._leave_stack(stack_key, _json_object(stack_row["data"]), intent_id)
        return gone

    async def _leave_stack(self, stack_key: str, stack: dict[str, Any], intent_id: object) -> None:
        before = stack.get("intents")
        if not isinstance(before, list) or intent_id not in before:
            return  # the stack has moved on to another dialog: not this one's to change
        intents = [i for i in before if i != intent_id]
        if intents:
            row = _Row(None, json.dumps({**stack, "intents": intents}, ensure_ascii=False))
            await self._db.execute(*_statement(stack_key, row))
        else:
            await self._db.execute(_DELETE, (stack_key,))
        self._cache.pop(stack_key, None)

    def forget(self, names: Callable[[str], bool]) -> None:
        """Drop remembered conversations whose key `names` matches, after their rows were deleted elsewhere."""
        for built in [k for k in self._cache if names(k)]:
            del self._cache[built]
            self._unwritten.discard(built)

    async def _changed(self, built: str, row: _Row) -> None:
        changed = self._changes.get()
        if changed is None or changed.closed:
            await self._db.execute(*_statement(built, row))
            return
        changed.add(built)
        self._unwritten.add(built)

    async def close(self) -> None:
        """The database belongs to the app, which closes it after polling stops."""

    async def _row(self, built: str) -> _Row:
        row = self._cache.get(built)
        if row is None:
            found = await self._db.lookup("SELECT state, data FROM fsm_states WHERE key = ?", (built,))
            row = _Row(found["state"], found["data"]) if found else _Row(None, None)
            self._cache[built] = row
            self._evict()
        else:
            self._cache.move_to_end(built)
        return row


    def _evict(self) -> None:
        """Oldest first, never a change not yet written."""
        while len(self._cache) > CACHED_CONVERSATIONS:
            oldest = next((built for built in self._cache if built not in self._unwritten), None)
            if oldest is None:
                return
            del self._cache[oldest]


def _json_object(raw: str | None) -> dict[str, Any]:
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _stamp() -> str:
    return datetime.now(UTC).isoformat()
