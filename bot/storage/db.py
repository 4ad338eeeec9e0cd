"""One SQLite file (WAL) behind one aiosqlite connection, with numbered migrations."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from bot.storage.shared_lock import SharedExclusiveLock

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")

Params = Sequence[Any] | dict[str, Any]


class Session:
    """Statements run on the shared connection while its lock is held.

    Each statement is one trip to aiosqlite's thread (execute and fetch together): under load the trips, not
    the queries, were what the bot spent its time on.
    """

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns lastrowid (useful after INSERT)."""
        row = await self._conn.execute_insert(sql, params)
        return int(row[0]) if row is not None and row[0] is not None else 0

    async def execute_rowcount(self, sql: str, params: Params = ()) -> int:
        cursor = await self._conn.execute(sql, params)
        count = cursor.rowcount
        await cursor.close()
        return count

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        cursor = await self._conn.executemany(sql, rows)
        # Closed on the database's thread: a cursor freed on the loop's thread resets its statement there, which
        # breaks ("API misuse") a statement of the same text running meanwhile.
        await cursor.close()

    async def fetchone(self, sql: str, params: Params = ()) -> aiosqlite.Row | None:
        rows = await self._conn.execute_fetchall(sql, params)
        return next(iter(rows), None)

    async def fetchall(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        return list(await self._conn.execute_fetchall(sql, params))

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]


class Database:
    """The process's single connection. Single statements share it (each is its own transaction); a session or
    a transaction has it alone, so nothing lands inside someone else's transaction."""

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self._conn = conn
        self._lock = SharedExclusiveLock()
        self.path = path

    @asynccontextmanager
    async def session(self) -> AsyncIterator[Session]:
        """Autocommit statements, one at a time, with no other statement in between."""
        async with self._lock.exclusive():
            yield Session(self._conn)

    @asynccontextmanager
    async def _statement(self) -> AsyncIterator[Session]:
        """For one autocommit statement, queued beside other single statements."""
        async with self._lock.shared():
            yield Session(self._conn)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Session]:
        """All or nothing: commits on success, rolls back on any exception."""
        async with self._lock.exclusive():
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield Session(self._conn)
            except BaseException:
                await self._conn.rollback()
                raise
            await self._conn.commit()

    async def execute(self, sql: str, params: Params = ()) -> int:
        async with self._statement() as s:
            return await s.execute(sql, params)

    async def execute_rowcount(self, sql: str, params: Params = ()) -> int:
        async with self._statement() as s:
            return await s.execute_rowcount(sql, params)

    async def fetchone(self, sql: str, params: Params = ()) -> aiosqlite.Row | None:
        async with self._statement() as s:
            return await s.fetchone(sql, params)

    async def fetchall(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        async with self._statement() as s:
            return await s.fetchall(sql, params)

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        async with self._statement() as s:
            return await s.fetchval(sql, params)

    async def close(self) -> None:
        async with self._lock.exclusive():
            await self._conn.close()


async def connect(path: Path) -> Database:
    """Open (creating the folder), set the pragmas and bring the schema up to date."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = await aiosqlite.connect(path, isolation_level=None)
    conn.row_factory = aiosqlite.Row
    await conn.execute("PRAGMA journal_mode=WAL")
    await conn.execute("PRAGMA foreign_keys=ON")
    await conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    # NORMAL is durable in WAL mode against a process crash; only an OS crash may lose the last commit.
    await conn.execute("PRAGMA synchronous=NORMAL")
    await migrate(conn)
    return Database(conn, path)


def available_migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every file in storage/migrations, in order."""
    found = []
    for entry in resources.files("bot.storage.migrations").iterdir():
        match = MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if versions != list(range(1, len(versions) + 1)):
        raise RuntimeError(f"migrations must be numbered 001, 002, … without gaps; found {versions}")
    return found


async def migrate(conn: aiosqlite.Connection) -> None:
    """Apply each pending migration in its own transaction, recording it in PRAGMA user_version."""
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    current = int(row[0]) if row else 0
    for version, name, sql in available_migrations():
        if version <= current:
            continue
        log.info("applying migration %s", name)
        try:
            await conn.executescript(f"BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = {version};\nCOMMIT;")
        except Exception:
            if conn.in_transaction:
                await conn.rollback()
            raise
