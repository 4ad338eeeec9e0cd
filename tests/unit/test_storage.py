"""The SQLite layer: pragmas, migrations, repositories and the FSM storage surviving a reconnect."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey

from bot.domain.checkins import WeeklyTime
from bot.storage.checkins import CheckinRepo, NewSchedule
from bot.storage.db import Database, available_migrations, connect
from bot.storage.fsm import SQLiteStorage
from bot.storage.users import UserRepo
from bot.storage.workspaces import Role, WorkspaceRepo

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
RANGES_MIGRATION = 14  # 014_reference_durations.sql


class Flow(StatesGroup):
    waiting_for_name = State()


async def test_pragmas_and_schema_version(tmp_path: Path) -> None:
    db = await connect(tmp_path / "sub" / "most.db")
    try:
        assert (tmp_path / "sub" / "most.db").exists()
        assert (await db.fetchval("PRAGMA journal_mode")).lower() == "wal"
        assert await db.fetchval("PRAGMA foreign_keys") == 1
        assert await db.fetchval("PRAGMA busy_timeout") >= 1000
        assert await db.fetchval("PRAGMA user_version") == len(available_migrations())
    finally:
        await db.close()


async def test_migrations_apply_once(tmp_path: Path) -> None:
    path = tmp_path / "most.db"
    db = await connect(path)
    await UserRepo(db).touch(1, "ru", NOW)
    await db.close()
    db = await connect(path)  # a second start must not re-run or fail
    try:
        assert (await UserRepo(db).get(1)) is not None
    finally:
        await db.close()


async def test_workspace_creation_is_atomic_and_scoped(db: Database) -> None:
    users, workspaces = UserRepo(db), WorkspaceRepo(db)
    await users.touch(10, "en", NOW)
    await users.touch(11, "en", NOW)
    ws = await workspaces.create_for_owner("Acme", 10, NOW)
    assert (await workspaces.current_for(10)) == ws
    assert await workspaces.current_for(11) is None
    assert await workspaces.role_of(ws.id, 10) is Role.OWNER
    assert await workspaces.role_of(ws.id, 11) is None


async def test_locale_survives_and_touch_does_not_reset_it(db: Database) -> None:
    users = UserRepo(db)
    await users.touch(5, "en", NOW)
    await users.set_locale(5, "ru")
    record = await users.touch(5, "en", NOW)
    assert record.locale == "ru"
    assert record.telegram_language == "en"


async def test_fsm_state_survives_reconnect(tmp_path: Path) -> None:
    path = tmp_path / "most.db"
    key = StorageKey(bot_id=1, chat_id=42, user_id=42)
    db = await connect(path)
    storage = SQLiteStorage(db)
    await storage.set_state(key, Flow.waiting_for_name)
    await storage.set_data(key, {"partner_id": 7, "name": "Кейс «А»"})
    await db.close()

    db = await connect(path)
    try:
        storage = SQLiteStorage(db)
        assert await storage.get_state(key) == Flow.waiting_for_name.state
        assert await storage.get_data(key) == {"partner_id": 7, "name": "Кейс «А»"}
        other = StorageKey(bot_id=1, chat_id=43, user_id=43)
        assert await storage.get_state(other) is None
        assert await storage.get_data(other) == {}
        await storage.set_state(key, None)
        assert await storage.get_state(key) is None
        assert await storage.get_data(key) == {"partner_id": 7, "name": "Кейс «А»"}
    finally:
        await db.close()


async def test_transaction_rolls_back_on_error(db: Database) -> None:
    try:
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO workspaces (name, created_at) VALUES ('x', 'now')")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert await db.fetchval("SELECT COUNT(*) FROM workspaces") == 0


async def test_touch_keeps_last_seen_to_the_day_and_the_language_current(db: Database) -> None:
    users = UserRepo(db)
    await users.touch(5, "en", NOW)
    seen = "SELECT telegram_language, first_seen, last_seen FROM users WHERE id = 5"
    today = NOW.date().isoformat()
    assert tuple(await db.fetchone(seen)) == ("en", today, today)  # the day, not the second they wrote
    await users.touch(5, "en", NOW + timedelta(hours=3))
    assert tuple(await db.fetchone(seen)) == ("en", today, today)  # read, not written
    record = await users.touch(5, "ru", NOW + timedelta(hours=4))
    assert record.telegram_language == "ru"
    assert tuple(await db.fetchone(seen)) == ("ru", today, today)
    tomorrow = NOW + timedelta(days=1)
    await users.touch(5, None, tomorrow)  # no language sent: keep the known one
    assert tuple(await db.fetchone(seen)) == ("ru", today, tomorrow.date().isoformat())


async def test_reference_answers_stored_before_ranges_get_the_range_their_months_fall_in(tmp_path: Path) -> None:
    path = tmp_path / "most.db"
    with sqlite3.connect(path) as old:  # a database as the version before the ranges left it
        for version, _name, sql in available_migrations():
            if version >= RANGES_MIGRATION:
                break
            old.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version = {version};\nCOMMIT;")
        stamp = NOW.isoformat()
        old.execute("INSERT INTO users (id, first_seen, last_seen) VALUES (1, ?, ?)", (stamp, stamp))
        old.execute("INSERT INTO workspaces (id, name, created_at) VALUES (1, 'Acme', ?)", (stamp,))
        old.execute(
            "INSERT INTO partners (id, workspace_id, name, name_key, kind, markets, created_at, updated_at) "
            "VALUES (1, 1, 'P', 'p', 'agency', 'both', ?, ?)", (stamp, stamp))
        for key, months in (("a", 1), ("b", 3), ("c", 8), ("d", 12), ("e", 40)):
            old.execute(
                "INSERT INTO reference_answers (partner_id, respondent_key, worked_months, market, consistency, "
                "respect, reliability, growth, again, locale, started_at, finished_at) "
                "VALUES (1, ?, ?, 'ru', 4, 4, 4, 4, 'yes', 'ru', ?, ?)", (key, months, stamp, stamp))
    db = await connect(path)
    try:
        rows = await db.fetchall("SELECT worked_months, worked_range FROM reference_answers ORDER BY id")
        assert [tuple(row) for row in rows] == [
            (1, "lt3"), (3, "3to6"), (8, "6to12"), (12, "12plus"), (40, "12plus")
        ]
        assert await db.fetchval("PRAGMA foreign_key_check") is None
    finally:
        await db.close()


async def test_a_skipped_doc_keeps_the_partnerships_link_and_never_another_ones(tmp_path: Path) -> None:
    db = await connect(tmp_path / "most.db")
    try:
        stamp = NOW.isoformat()
        for uid in (1, 2):
            await db.execute("INSERT INTO users (id, first_seen, last_seen) VALUES (?, ?, ?)", (uid, stamp, stamp))
        mine = await db.execute("INSERT INTO workspaces (name, created_at) VALUES ('Mine', ?)", (stamp,))
        theirs = await db.execute("INSERT INTO workspaces (name, created_at) VALUES ('Theirs', ?)", (stamp,))
        ids = []
        for workspace, name in ((mine, "A"), (mine, "B"), (theirs, "C")):
            ids.append(await db.execute(
                "INSERT INTO partners (workspace_id, name, name_key, kind, markets, created_at, updated_at) "
                "VALUES (?, ?, ?, 'agency', 'both', ?, ?)", (workspace, name, name.lower(), stamp, stamp)))
        a, b, c = ids
        repo = CheckinRepo(db)
        when = WeeklyTime(0, 10, 0, "Europe/Moscow")
        doc = "https://docs.example.com/a"
        assert (await repo.save_schedule(-100, NewSchedule(mine, a, when, 24, doc), 1, NOW)).shared_doc == doc
        assert (await repo.save_schedule(-100, NewSchedule(mine, a, when, 48, None), 1, NOW)).shared_doc == doc
        assert (await repo.save_schedule(-100, NewSchedule(mine, b, when, 48, None), 1, NOW)).shared_doc is None
        await repo.save_schedule(-100, NewSchedule(mine, b, when, 48, doc), 1, NOW)
        assert (await repo.save_schedule(-100, NewSchedule(theirs, c, when, 24, None), 2, NOW)).shared_doc is None
    finally:
        await db.close()
