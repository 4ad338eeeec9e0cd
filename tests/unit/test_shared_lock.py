"""The connection lock: single statements side by side, transactions alone, turns in arrival order."""

from __future__ import annotations

import asyncio

import pytest

from bot.storage.db import Database
from bot.storage.shared_lock import SharedExclusiveLock


async def hold(lock: SharedExclusiveLock, exclusive: bool, name: str, log: list[str], release: asyncio.Event) -> None:
    async with lock.exclusive() if exclusive else lock.shared():
        log.append(f"{name} in")
        await release.wait()
        log.append(f"{name} out")


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_shared_holders_hold_together_and_an_exclusive_one_waits_for_them() -> None:
    lock, log = SharedExclusiveLock(), []
    first, second, writer = asyncio.Event(), asyncio.Event(), asyncio.Event()
    tasks = [asyncio.create_task(hold(lock, False, "a", log, first)),
             asyncio.create_task(hold(lock, False, "b", log, second))]
    await settle()
    tasks.append(asyncio.create_task(hold(lock, True, "w", log, writer)))
    await settle()
    assert log == ["a in", "b in"]
    first.set()
    await settle()
    assert log == ["a in", "b in", "a out"]  # still one shared holder
    second.set()
    await settle()
    assert log[-1] == "w in"
    writer.set()
    await asyncio.gather(*tasks)
    assert lock.idle


async def test_a_waiting_exclusive_turn_is_not_overtaken_by_later_shared_ones() -> None:
    lock, log = SharedExclusiveLock(), []
    reader, writer, late = asyncio.Event(), asyncio.Event(), asyncio.Event()
    tasks = [asyncio.create_task(hold(lock, False, "r", log, reader))]
    await settle()
    tasks.append(asyncio.create_task(hold(lock, True, "w", log, writer)))
    await settle()
    tasks.append(asyncio.create_task(hold(lock, False, "late", log, late)))
    await settle()
    assert log == ["r in"]
    reader.set()
    await settle()
    assert log == ["r in", "r out", "w in"]
    writer.set()
    late.set()
    await asyncio.gather(*tasks)
    assert log == ["r in", "r out", "w in", "w out", "late in", "late out"]
    assert lock.idle


async def test_a_waiter_cancelled_in_line_leaves_the_lock_usable() -> None:
    lock, log = SharedExclusiveLock(), []
    writer = asyncio.Event()
    holder = asyncio.create_task(hold(lock, True, "w", log, writer))
    await settle()
    waiting = asyncio.create_task(hold(lock, True, "gone", log, asyncio.Event()))
    behind = asyncio.create_task(hold(lock, False, "r", log, writer))
    await settle()
    waiting.cancel()
    writer.set()
    await asyncio.gather(holder, behind)
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert "gone in" not in log and log[-2:] == ["r in", "r out"]
    assert lock.idle


async def test_a_statement_sent_during_a_transaction_is_not_part_of_it(db: Database) -> None:
    await db.execute("CREATE TABLE notes (text TEXT)")
    in_transaction = asyncio.Event()

    async def rolled_back() -> None:
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO notes VALUES ('inside')")
            in_transaction.set()
            await asyncio.sleep(0.05)  # the other statement is sent meanwhile
            raise RuntimeError("roll back")

    transaction = asyncio.create_task(rolled_back())
    await in_transaction.wait()
    await db.execute("INSERT INTO notes VALUES ('outside')")
    with pytest.raises(RuntimeError):
        await transaction
    assert [row[0] for row in await db.fetchall("SELECT text FROM notes")] == ["outside"]
