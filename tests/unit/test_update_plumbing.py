"""The plumbing under every update: stored arrivals, the FSM cache, inline filters and keyboard layout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiogram import F, Router
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey
from aiogram.types import CallbackQuery, InlineKeyboardButton, User
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.app import build_app
from bot.config import load_settings
from bot.handlers.inline_filters import sync_filters
from bot.handlers.press_gate import gate_button_presses
from bot.keyboards.grid import ButtonGrid
from bot.storage.db import connect
from bot.storage.fsm import SQLiteStorage
from bot.storage.received import KEEP_HANDLED_FOR, ReceivedUpdates

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


class Flow(StatesGroup):
    waiting_for_name = State()


async def test_received_updates_are_new_once_and_replayed_until_handled(tmp_path: Path) -> None:
    db = await connect(tmp_path / "most.db")
    try:
        received = ReceivedUpdates(db)
        assert await received.record([(1, '{"update_id": 1}'), (2, '{"update_id": 2}')], NOW) == {1, 2}
        assert await received.record([(2, '{"update_id": 2}'), (3, '{"update_id": 3}')], NOW) == {3}
        assert await received.unhandled() == [(1, '{"update_id": 1}'), (2, '{"update_id": 2}'),
                                              (3, '{"update_id": 3}')]
        await received.mark_handled(2, NOW)
        assert [update_id for update_id, _ in await received.unhandled()] == [1, 3]
        assert await db.fetchval("SELECT payload FROM received_updates WHERE update_id = 2") is None
        assert await received.record([(2, '{"update_id": 2}')], NOW) == set()  # handled: still known

        assert await received.prune(NOW + KEEP_HANDLED_FOR - timedelta(minutes=1)) == 0
        assert await received.prune(NOW + KEEP_HANDLED_FOR + timedelta(minutes=1)) == 1  # only the handled one
        assert [update_id for update_id, _ in await received.unhandled()] == [1, 3]
    finally:
        await db.close()


async def test_fsm_cache_reads_what_was_written_and_forgets_deleted_rows(tmp_path: Path) -> None:
    db = await connect(tmp_path / "most.db")
    try:
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
    finally:
        await db.close()


async def test_no_filter_of_the_bot_goes_to_a_worker_thread(tmp_path: Path) -> None:
    settings = load_settings(bot_token="123456:" + "A" * 35, bot_api_url="http://127.0.0.1:9",
                             database_path=tmp_path / "most.db", backup_dir=tmp_path / "backups")
    app = await build_app(settings)
    try:
        assert sync_filters(app.dispatcher) == []
    finally:
        await app.db.close()
        await app.bot.session.close()


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


class Press(CallbackData, prefix="t1"):
    n: int


class Other(CallbackData, prefix="t2"):
    n: int


async def test_a_router_is_gated_by_its_prefixes_only_when_every_button_handler_has_one() -> None:
    async def handler() -> None:
        return None

    exact, catch_all = Router(name="exact"), Router(name="catch_all")
    exact.callback_query.register(handler, Press.filter())
    exact.callback_query.register(handler, Other.filter(F.n == 1))
    catch_all.callback_query.register(handler, Press.filter())
    catch_all.callback_query.register(handler)  # e.g. "this button is out of date"
    root = Router()
    root.include_routers(exact, catch_all)

    assert gate_button_presses(root) == [exact]
    gate = exact.callback_query._handler.filters[-1].callback
    assert await gate(press("t1:5")) and await gate(press("t2:1"))
    assert not await gate(press("t3:1")) and not await gate(press("t10:1")) and not await gate(press(None))


def press(data: str | None) -> CallbackQuery:
    user = User(id=1, is_bot=False, first_name="A")
    return CallbackQuery(id="1", from_user=user, chat_instance="c", data=data)


async def test_a_stored_update_that_cannot_be_read_is_dropped_not_replayed_forever(tmp_path: Path) -> None:
    settings = load_settings(bot_token="123456:" + "A" * 35, bot_api_url="http://127.0.0.1:9",
                             database_path=tmp_path / "most.db", backup_dir=tmp_path / "backups")
    app = await build_app(settings)
    try:
        received = ReceivedUpdates(app.db)
        await received.record([(7, '{"update_id": "not a number"}')], NOW)
        assert app.intake is not None
        assert await app.intake.replay() == 1
        assert await received.unhandled() == []
    finally:
        await app.db.close()
        await app.bot.session.close()
