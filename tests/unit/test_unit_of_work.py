"""One update's writes commit together or not at all, and never hold up other readers."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from bot.storage.db import Connection, Database, reads_together


@pytest.fixture
async def notes(db: Database) -> Database:
    await db.execute("CREATE TABLE notes (text TEXT)")
    return db


async def texts(db: Database) -> list[str]:
    return [row[0] for row in await db.fetchall("SELECT text FROM notes ORDER BY rowid")]


async def test_writes_transactions_and_sessions_inside_a_unit_commit_together(notes: Database) -> None:
    async with notes.unit_of_work():
        await notes.execute("INSERT INTO notes VALUES ('statement')")
        async with notes.transaction() as tx:
            await tx.execute("INSERT INTO notes VALUES ('transaction')")
        async with notes.session() as s:
            await s.execute("INSERT INTO notes VALUES ('session')")
        assert await texts(notes) == ["statement", "transaction", "session"]  # the unit reads its own writes
    assert await texts(notes) == ["statement", "transaction", "session"]


async def test_a_unit_that_raises_or_is_cancelled_leaves_nothing_behind(notes: Database) -> None:
    with pytest.raises(RuntimeError):
        async with notes.unit_of_work():
            await notes.execute("INSERT INTO notes VALUES ('raised')")
            raise RuntimeError("handler failed")

    started = asyncio.Event()

    async def cut_off() -> None:
        async with notes.unit_of_work():
            await notes.execute("INSERT INTO notes VALUES ('cancelled')")
            started.set()
            await asyncio.sleep(10)

    task = asyncio.create_task(cut_off())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await texts(notes) == []


async def test_a_failed_transaction_inside_a_unit_undoes_only_itself(notes: Database) -> None:
    async with notes.unit_of_work():
        await notes.execute("INSERT INTO notes VALUES ('kept')")
        with pytest.raises(ValueError):
            async with notes.transaction() as tx:
                await tx.execute("INSERT INTO notes VALUES ('undone')")
                raise ValueError("conflict")
    assert await texts(notes) == ["kept"]


async def test_others_read_committed_data_while_a_unit_holds_the_writer(notes: Database) -> None:
    await notes.execute("INSERT INTO notes VALUES ('before')")
    inside, release = asyncio.Event(), asyncio.Event()

    async def slow_update() -> None:
        async with notes.unit_of_work():
            await notes.execute("INSERT INTO notes VALUES ('uncommitted')")
            inside.set()
            await release.wait()  # e.g. waiting for Telegram

    unit = asyncio.create_task(slow_update())
    await inside.wait()
    assert await asyncio.wait_for(texts(notes), 5) == ["before"]  # not blocked, and sees no uncommitted row
    write = asyncio.create_task(notes.execute("INSERT INTO notes VALUES ('after')"))
    await asyncio.sleep(0.05)
    assert not write.done()  # a writer outside waits for the unit rather than landing inside it
    release.set()
    await asyncio.gather(unit, write)
    assert await texts(notes) == ["before", "uncommitted", "after"]


async def test_bookkeeping_outside_the_unit_survives_its_rollback(notes: Database) -> None:
    with pytest.raises(RuntimeError):
        async with notes.unit_of_work():
            with notes.outside_unit_of_work():
                await notes.execute("INSERT INTO notes VALUES ('touch')")
            await notes.execute("INSERT INTO notes VALUES ('handler')")
            raise RuntimeError
    assert await texts(notes) == ["touch"]


async def test_a_task_that_outlives_its_unit_writes_on_its_own(notes: Database) -> None:
    later = asyncio.Event()
    background: list[asyncio.Task[None]] = []

    async def after_the_update() -> None:
        await later.wait()
        await notes.execute("INSERT INTO notes VALUES ('background')")

    with pytest.raises(RuntimeError):
        async with notes.unit_of_work():
            background.append(asyncio.create_task(after_the_update()))
            raise RuntimeError
    later.set()
    await background[0]
    assert await texts(notes) == ["background"]


async def test_a_task_waiting_for_the_writer_when_its_unit_ends_writes_on_its_own(notes: Database) -> None:
    release = asyncio.Event()
    background: list[asyncio.Task[int]] = []

    async def holder() -> None:
        async with notes.transaction() as tx:  # someone else has the writer
            await tx.execute("INSERT INTO notes VALUES ('job')")
            await release.wait()

    job = asyncio.create_task(holder())
    await asyncio.sleep(0.01)
    async with notes.unit_of_work():
        background.append(asyncio.create_task(notes.execute("INSERT INTO notes VALUES ('late')")))
        await asyncio.sleep(0.01)  # the task now waits for the writer, inside the unit's context
    release.set()
    await job
    await asyncio.wait_for(background[0], 5)  # it would hang (or hold the writer forever) if it began the unit
    assert await texts(notes) == ["job", "late"]
    assert await asyncio.wait_for(notes.writer_answers(), 5)


async def test_units_that_only_write_at_their_commit_commit_together_and_fail_alone(notes: Database) -> None:
    await notes.execute("CREATE TABLE keyed (id INTEGER PRIMARY KEY)")
    await notes.execute("INSERT INTO keyed VALUES (1)")
    release = asyncio.Event()

    async def holder() -> None:
        async with notes.transaction() as tx:  # the writer is busy meanwhile: the units below end together
            await tx.execute("INSERT INTO notes VALUES ('job')")
            await release.wait()

    async def update(text: str, clash: bool = False) -> None:
        async with notes.unit_of_work():
            await notes.execute_at_commit("INSERT INTO notes VALUES (?)", (text,))
            assert await texts(notes) == []  # held, not written yet (nor the job's)
            if clash:
                await notes.execute_at_commit("INSERT INTO keyed VALUES (1)")  # fails: its first write goes too

    job = asyncio.create_task(holder())
    await asyncio.sleep(0.01)
    updates = [asyncio.create_task(update("a")), asyncio.create_task(update("b", clash=True)),
               asyncio.create_task(update("c"))]
    await asyncio.sleep(0.01)
    release.set()
    await job
    outcomes = await asyncio.wait_for(asyncio.gather(*updates, return_exceptions=True), 5)
    assert outcomes[0] is None and outcomes[2] is None
    assert "UNIQUE" in str(outcomes[1])
    assert await texts(notes) == ["job", "a", "c"]


async def test_a_unit_cancelled_while_waiting_to_commit_writes_nothing(notes: Database) -> None:
    release = asyncio.Event()

    async def holder() -> None:
        async with notes.transaction():
            await release.wait()

    async def update() -> None:
        async with notes.unit_of_work():
            await notes.execute_at_commit("INSERT INTO notes VALUES ('cut off')")

    job = asyncio.create_task(holder())
    await asyncio.sleep(0.01)
    task = asyncio.create_task(update())
    await asyncio.sleep(0.01)  # waiting for the writer, behind the job
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    release.set()
    await job
    await notes.execute("INSERT INTO notes VALUES ('later')")
    assert await texts(notes) == ["later"]


def _insert_then(conn: sqlite3.Connection, text: str, fail: bool) -> int:
    conn.execute("INSERT INTO notes VALUES (?)", (text,))
    if fail:
        raise ValueError("conflict")
    return 1


async def test_a_transaction_in_one_trip_is_all_or_nothing_and_a_savepoint_inside_a_unit(notes: Database) -> None:
    assert await notes.transaction_in_one_trip(_insert_then, "kept", False) == 1
    with pytest.raises(ValueError):
        await notes.transaction_in_one_trip(_insert_then, "undone", True)
    async with notes.unit_of_work():
        await notes.transaction_in_one_trip(_insert_then, "with the unit", False)
        with pytest.raises(ValueError):
            await notes.transaction_in_one_trip(_insert_then, "undone alone", True)
        assert await texts(notes) == ["kept", "with the unit"]  # the unit reads its own writes, not the undone one
    assert await texts(notes) == ["kept", "with the unit"]


async def test_reads_gathered_together_go_in_one_trip_and_fail_alone(notes: Database, monkeypatch) -> None:
    await notes.execute("INSERT INTO notes VALUES ('one')")
    trips: list[object] = []
    original = Connection.run

    async def counted(self: Connection, work: object, *args: object) -> object:
        trips.append(work)
        return await original(self, work, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(Connection, "run", counted)
    with reads_together():
        found, failed, counted_rows = await asyncio.gather(
            texts(notes), notes.fetchall("SELECT nothing FROM nowhere"), notes.fetchval("SELECT count(*) FROM notes"),
            return_exceptions=True,
        )
    assert found == ["one"] and counted_rows == 1
    assert isinstance(failed, sqlite3.OperationalError)
    assert len(trips) == 1
