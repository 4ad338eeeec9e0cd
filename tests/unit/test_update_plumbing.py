"""The plumbing under every update: stored arrivals, the FSM cache and keyboard layout."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey
from aiogram.types import InlineKeyboardButton
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.app import build_app
from bot.config import load_settings
from bot.keyboards.grid import ButtonGrid
from bot.storage.db import Database
from bot.storage.fsm import SQLiteStorage
from bot.storage.received import KEEP_HANDLED_FOR, ReceivedUpdates

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


class Flow(StatesGroup):
    waiting_for_name = State()


async def test_received_updates_are_new_once_and_replayed_until_handled(db: Database) -> None:
    received = ReceivedUpdates(db)
    assert await received.record([(1, '{"update_id": 1}'), (2, '{"update_id": 2}')], NOW) == {1, 2}
    assert await received.record([(2, '{"update_id": 2}'), (3, '{"update_id": 3}')], NOW) == {3}
    assert [(u.update_id, u.payload) for u in await received.unhandled()] == [
        (1, '{"update_id": 1}'), (2, '{"update_id": 2}'), (3, '{"update_id": 3}')]
    await received.mark_handled(2, NOW)
    assert [u.update_id for u in await received.unhandled()] == [1, 3]
    assert await db.fetchval("SELECT payload FROM received_updates WHERE update_id = 2") is None
    assert await received.record([(2, '{"update_id": 2}')], NOW) == set()  # handled: still known

    assert await received.prune(NOW + KEEP_HANDLED_FOR - timedelta(minutes=1)) == 0
    assert await received.prune(NOW + KEEP_HANDLED_FOR + timedelta(minutes=1)) == 1  # only the handled one
    assert [u.update_id for u in await received.unhandled()] == [1, 3]


async def test_a_failing_update_counts_its_attempts_and_once_set_aside_is_never_replayed(db: Database) -> None:
    received = ReceivedUpdates(db)
    await received.record([(1, '{"update_id": 1}'), (2, '{"update_id": 2}')], NOW)
    assert await received.failed_attempt(1, "RuntimeError: boom") == 1
    assert await received.failed_attempt(1, "RuntimeError: boom") == 2
    assert [(u.update_id, u.attempts) for u in await received.unhandled()] == [(1, 2), (2, 0)]
    await received.set_aside(1, "failed 2 times", NOW)
    assert [u.update_id for u in await received.unhandled()] == [2]
    assert await received.set_aside_count() == 1
    row = await db.fetchone("SELECT payload, set_aside_reason FROM received_updates WHERE update_id = 1")
    assert tuple(row) == ('{"update_id": 1}', "failed 2 times")  # kept for an operator to look at


async def test_a_set_aside_update_keeps_no_working_deep_link_token(db: Database) -> None:
    received = ReceivedUpdates(db)
    token = "Zk3_q-9XwVb1pLmN0aT5yRc2"
    payload = json.dumps(
        {"update_id": 7, "message": {"text": f"/start ref_{token}"},
         "note": f"t.me/b?start=join_{token} ci_{token} t.me/b?startgroup=gs_{token}"}
    )
    await received.record([(7, payload)], NOW)
    await received.set_aside(7, "failed 3 times", NOW)
    kept = await db.fetchval("SELECT payload FROM received_updates WHERE update_id = 7")
    assert token not in kept
    assert "/start ref_<redacted>" in kept and "start=join_<redacted>" in kept and "ci_<redacted>" in kept
    assert "startgroup=gs_<redacted>" in kept


async def test_fsm_cache_reads_what_was_written_and_forgets_deleted_rows(db: Database) -> None:
    storage = SQLiteStorage(db)
    key = StorageKey(bot_id=1, chat_id=42, user_id=42)
    await storage.set_state(key, Flow.waiting_for_name)
    await storage.set_data(key, {"step": 1})
    await storage.set_data(key, {"step": 2})
    assert await storage.get_state(key) == Flow.waiting_for_name.state
    assert await storage.get_data(key) == {"step": 2}
    row = await db.fetchone("SELECT state, data FROM fsm_states")
    assert (row["state"], row["data"]) == (Flow.waiting_for_name.state, '{"step": 2}')

    await db.execute("DELETE FROM fsm_states")  # as /deletemydata does, behind the storage's back
    assert await storage.get_data(key) == {"step": 2}  # still remembered...
    storage.forget(lambda built: "42" in built.split(":"))
    assert await storage.get_state(key) is None  # ...until told
    assert await storage.get_data(key) == {}


async def test_an_updates_conversation_changes_are_written_once_when_it_is_done(db: Database) -> None:
    storage = SQLiteStorage(db)
    key, other = StorageKey(bot_id=1, chat_id=42, user_id=42), StorageKey(bot_id=1, chat_id=7, user_id=7)
    stored_rows = "SELECT key, state, data FROM fsm_states ORDER BY key"
    with storage.changes_of_one_update() as changed:
        await storage.set_state(key, Flow.waiting_for_name)
        await storage.set_data(key, {"step": 1})
        await storage.set_data(other, {"for": "someone else"})  # e.g. a group step that starts a private one
        assert await storage.get_data(key) == {"step": 1}  # the handler sees its own changes
        assert await db.fetchall(stored_rows) == []  # nothing written yet
    await storage.write_changes(changed)
    assert [tuple(r) for r in await db.fetchall(stored_rows)] == [
        (storage._keys.build(key), Flow.waiting_for_name.state, '{"step": 1}'),
        (storage._keys.build(other), None, '{"for": "someone else"}'),
    ]

    with storage.changes_of_one_update() as changed:
        await storage.set_state(key, None)
        await storage.set_data(key, {})
    storage.drop_changes(changed)  # cut off at shutdown: the update will be handled again from the start
    assert await storage.get_state(key) == Flow.waiting_for_name.state
    assert await storage.get_data(key) == {"step": 1}

    go_on = asyncio.Event()

    async def outlives_the_update() -> None:
        await go_on.wait()
        await storage.set_data(other, {"late": True})

    with storage.changes_of_one_update() as changed:
        await storage.set_data(key, {"step": 2})
        task = asyncio.create_task(outlives_the_update())  # inherits the update's context
    await storage.write_changes(changed)
    go_on.set()
    await task
    assert [tuple(r)[2] for r in await db.fetchall(stored_rows)] == ['{"step": 2}', '{"late": true}']

    await storage.set_data(key, {"step": 3})  # outside an update (a scheduled job): written at once
    assert (await db.fetchone("SELECT data FROM fsm_states WHERE key = ?", (storage._keys.build(key),)))[0] \
        == '{"step": 3}'


@pytest.mark.parametrize(("count", "sizes", "repeat"), [
    (12, (2,), False), (7, (3, 1), False), (9, (1, 2), True), (10, (), False), (5, (8,), False), (0, (2,), False),
])
def test_button_grid_lays_out_rows_like_aiograms_builder(count: int, sizes: tuple[int, ...], repeat: bool) -> None:
    ours, theirs = ButtonGrid(), InlineKeyboardBuilder()
    for index in range(count):
        ours.button(text=f"b{index}", callback_data=f"d{index}")
        theirs.button(text=f"b{index}", callback_data=f"d{index}")
    if sizes or count == 10:
        ours.adjust(*sizes, repeat=repeat)
        theirs.adjust(*sizes, repeat=repeat)
    assert ours.rows() == theirs.export()
    assert all(isinstance(b, InlineKeyboardButton) for row in ours.rows() for b in row)


def test_button_grid_refuses_rows_telegram_cannot_show() -> None:
    with pytest.raises(ValueError):
        ButtonGrid().adjust(9)


async def test_a_stored_update_that_cannot_be_read_is_set_aside_not_replayed_forever(tmp_path: Path) -> None:
    settings = load_settings(bot_token="123456:" + "A" * 35, bot_api_url="http://127.0.0.1:9",
                             database_path=tmp_path / "most.db", backup_dir=tmp_path / "backups")
    app = await build_app(settings)
    try:
        received = ReceivedUpdates(app.db)
        await received.record([(7, '{"update_id": "not a number"}')], NOW)
        assert app.intake is not None
        assert await app.intake.replay() == 1
        assert await app.inflight.wait_idle(10)  # parsed, and set aside, in the update's own task
        assert await received.unhandled() == []
        assert await app.intake.set_aside_count() == 1
    finally:
        await app.db.close()
        await app.bot.session.close()


async def test_stale_conversations_of_one_kind_are_pruned_and_forgotten(db: Database) -> None:
    storage = SQLiteStorage(db)
    creator, manager = StorageKey(bot_id=1, chat_id=42, user_id=42), StorageKey(bot_id=1, chat_id=7, user_id=7)
    await storage.set_state(creator, "ReferenceForm:waiting_for_rating")
    await storage.set_data(creator, {"reference": {"link_hash": "h"}})
    await storage.set_state(manager, Flow.waiting_for_name)
    await db.execute("UPDATE fsm_states SET updated_at = ?", ((NOW - timedelta(days=40)).isoformat(),))
    assert await storage.prune_stale("ReferenceForm:", NOW - timedelta(days=41)) == 0  # not that old
    assert await storage.prune_stale("ReferenceForm:", NOW - timedelta(days=28)) == 1
    assert await storage.get_state(creator) is None and await storage.get_data(creator) == {}  # memory agrees
    assert await storage.get_state(manager) == Flow.waiting_for_name.state  # another kind: kept
    assert await db.fetchval("SELECT COUNT(*) FROM fsm_states") == 1


async def test_a_cleared_conversation_leaves_no_row(db: Database) -> None:
    storage = SQLiteStorage(db)
    key = StorageKey(bot_id=1, chat_id=42, user_id=42)
    with storage.changes_of_one_update() as changed:
        await storage.set_state(key, Flow.waiting_for_name)
        await storage.set_data(key, {"step": 1})
    await storage.write_changes(changed)
    assert await db.fetchval("SELECT COUNT(*) FROM fsm_states") == 1
    with storage.changes_of_one_update() as changed:
        await storage.set_state(key, None)
        await storage.set_data(key, {})
    await storage.write_changes(changed)
    assert await db.fetchval("SELECT COUNT(*) FROM fsm_states") == 0  # no chat id kept beside when it ended


class Questionnaire(StatesGroup):
    rating = State()


async def _open_dialog(storage: SQLiteStorage, chat_id: int, state: State, intent_id: str) -> None:
    """A dialog's records as aiogram-dialog itself writes them (its StorageProxy): the context and the stack."""
    from types import SimpleNamespace

    from aiogram.fsm.storage.memory import SimpleEventIsolation
    from aiogram_dialog.api.entities import Context, Stack
    from aiogram_dialog.context.storage import StorageProxy

    proxy = StorageProxy(storage, SimpleEventIsolation(), chat_id, chat_id, None, None,
                         SimpleNamespace(id=1), {"Questionnaire": Questionnaire, "Flow": Flow})  # type: ignore[arg-type]
    stack = Stack(_id="", intents=[intent_id], last_message_id=7)
    await proxy.save_context(Context(_intent_id=intent_id, _stack_id="", state=state, start_data=None,
                                     dialog_data={"reference": {"link_hash": "h"}}))
    await proxy.save_stack(stack)


async def test_abandoned_dialogs_of_one_kind_are_pruned_with_their_stacks(db: Database) -> None:
    """The nightly clean-up finds a questionnaire run as a dialog by its context's state (aiogram-dialog keeps it
    in the FSM storage's data), deletes the context and the stack it leaves empty, and keeps other dialogs and
    anything touched since."""
    storage = SQLiteStorage(db)
    await _open_dialog(storage, 42, Questionnaire.rating, "aaa111")  # a creator, gone quiet
    await _open_dialog(storage, 7, Flow.waiting_for_name, "bbb222")  # another kind of dialog
    await _open_dialog(storage, 43, Questionnaire.rating, "ccc333")  # a creator who answered today
    await db.execute("UPDATE fsm_states SET updated_at = ?", ((NOW - timedelta(days=40)).isoformat(),))
    await db.execute("UPDATE fsm_states SET updated_at = ? WHERE key LIKE 'fsm:43:%'",
                     ((NOW - timedelta(days=1)).isoformat(),))
    assert await db.fetchval("SELECT COUNT(*) FROM fsm_states") == 6
    assert await storage.prune_stale_dialogs("Questionnaire:", NOW - timedelta(days=41)) == 0  # not that old
    assert await storage.prune_stale_dialogs("Questionnaire:", NOW - timedelta(days=28)) == 1
    keys = {key for (key,) in await db.fetchall("SELECT key FROM fsm_states")}
    assert not [key for key in keys if ":42:" in key]  # neither the context nor the stack keeps the chat id
    assert len(keys) == 4
    gone = StorageKey(bot_id=1, chat_id=42, user_id=42, destiny="aiogd:context:aaa111")
    assert await storage.get_data(gone) == {}  # memory agrees
    # A stack touched since (a message shown) keeps its dialog, however old the context is.
    await db.execute("UPDATE fsm_states SET updated_at = ? WHERE key LIKE 'fsm:43:%' AND key LIKE '%context%'",
                     ((NOW - timedelta(days=40)).isoformat(),))
    assert await storage.prune_stale_dialogs("Questionnaire:", NOW - timedelta(days=28)) == 0
