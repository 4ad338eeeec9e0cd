"""One SQLite file (WAL) behind a writer and a reader connection, with numbered migrations and units of work."""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from contextvars import ContextVar
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.files import create_private, tighten_sqlite
from bot.storage.shared_lock import SharedExclusiveLock

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
_WRITE_WORDS = re.compile(r"\b(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)

Params = Sequence[Any] | dict[str, Any]
T = TypeVar("T")


class Session:
    """Statements run on the shared connection while its lock is held.

    Each statement is one trip to aiosqlite's thread (execute and fetch together): under load the trips, not
    the queries, were what the bot spent its time on.
    """

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns lastrowid (useful after INSERT)."""
        row = await self._conn.execute_insert(sql, params)
        return int(row[0]) if row is not None and row[0] is not None else 0

    async def execute_rowcount(self, sql: str, params: Params = ()) -> int:
        return await self._conn.run(_rowcount, sql, params)  # type: ignore[no-any-return]

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        await self._conn.run(_executemany, sql, list(rows))

    async def fetchone(self, sql: str, params: Params = ()) -> aiosqlite.Row | None:
        rows = await self.fetchall(sql, params)
        return next(iter(rows), None)

    async def fetchall(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        reads = _TOGETHER.get()
        if reads is not None:
            return await reads.read(self._conn, sql, params)
        return list(await self._conn.execute_fetchall(sql, params))

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    async def commit_with(self, statements: Sequence[tuple[str, Params]]) -> None:
        """The writes held for the end of a unit of work (Database.execute_at_commit) and its COMMIT, in one trip to
        the database's thread; rolled back there when one of them fails."""
        await self._conn.run(_commit_with, statements)


class _Reads:
    """Reads asked for by the tasks of one gather (reads_together): the first waits one turn of the loop for the
    others to ask for theirs, then sends them all in one trip per connection."""

    def __init__(self) -> None:
        self._waiting: dict[Connection, list[tuple[str, Params, asyncio.Future[list[Any]]]]] = {}

    async def read(self, conn: Connection, sql: str, params: Params) -> list[Any]:
        done: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        waiting = self._waiting.setdefault(conn, [])
        waiting.append((sql, params, done))
        if len(waiting) == 1:
            await self._send(conn)
        return await done

    async def _send(self, conn: Connection) -> None:
        try:
            await asyncio.sleep(0)  # the gather's other tasks take their first step meanwhile
        except BaseException:  # cut off (cancelled): so are the reads waiting on this one
            _cancel(self._waiting.pop(conn))
            raise
        batch = self._waiting.pop(conn)
        try:
            results = await conn.run(_fetch_each, [(sql, params) for sql, params, _ in batch])
        except Exception as error:
            results = [error] * len(batch)
        except BaseException:
            _cancel(batch)
            raise
        for (*_query, done), result in zip(batch, results, strict=True):
            if done.done():
                continue
            if isinstance(result, Exception):
                done.set_exception(result)
            else:
                done.set_result(result)


def _cancel(batch: list[tuple[str, Params, asyncio.Future[list[Any]]]]) -> None:
    for *_query, done in batch:
        done.cancel()


_TOGETHER: ContextVar[_Reads | None] = ContextVar("reads_together", default=None)


@contextmanager
def reads_together() -> Iterator[None]:
    """Reads of the tasks started inside (asyncio.gather) go to the database thread together, in one trip: the
    partner card's dozen reads took a trip each, each a handoff of the interpreter lock to the thread and back. The
    reads still run one after another, in the order asked; for reads only, of tasks that ask at the same time."""
    token = _TOGETHER.set(_Reads())
    try:
        yield
    finally:
        _TOGETHER.reset(token)


def _fetch_each(conn: sqlite3.Connection, reads: list[tuple[str, Params]]) -> list[list[Any] | Exception]:
    results: list[list[Any] | Exception] = []
    for sql, params in reads:
        try:
            cursor = conn.execute(sql, params)
            try:
                results.append(cursor.fetchall())
            finally:
                cursor.close()
        except Exception as error:
            results.append(error)
    return results


class Connection(aiosqlite.Connection):
    """aiosqlite's connection, and a way to run several statements in one trip to its thread."""

    begin_with_next = False  # the next trip begins a transaction first (Database._begin)

    async def run(self, work: Callable[..., Any], *args: Any) -> Any:
        """`work(sqlite3_connection, *args)` on the connection's thread, in one trip. aiosqlite has no public call
        for several statements with parameters; its own methods each run this way."""
        return await self._execute(lambda: work(self._conn, *args))

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Every trip goes through here (aiosqlite's own methods too): a BEGIN asked for goes with the trip after it,
        rather than taking one of its own while its unit of work holds the writer."""
        if self.begin_with_next:
            self.begin_with_next = False
            return await super()._execute(_begun_first, self._conn, fn, *args, **kwargs)
        return await super()._execute(fn, *args, **kwargs)


def _begun_first(conn: sqlite3.Connection, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    conn.execute("BEGIN IMMEDIATE")
    return fn(*args, **kwargs)


def _rowcount(conn: sqlite3.Connection, sql: str, params: Params) -> int:
    cursor = conn.execute(sql, params)
    try:
        return cursor.rowcount
    finally:
        # Closed on the database's thread: a cursor freed on the loop's thread resets its statement there, which
        # breaks ("API misuse") a statement of the same text running meanwhile.
        cursor.close()


def _executemany(conn: sqlite3.Connection, sql: str, rows: list[Params]) -> None:
    conn.executemany(sql, rows).close()


def _open(path: Path) -> Connection:
    return Connection(lambda: sqlite3.connect(path, isolation_level=None), iter_chunk_size=64)


def _commit_with(conn: sqlite3.Connection, statements: Sequence[tuple[str, Params]]) -> None:
    try:
        for sql, params in statements:
            conn.execute(sql, params).close()  # closed on this thread (see Session.executemany)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.rollback()
        raise


def _in_transaction(conn: sqlite3.Connection, work: Callable[..., T], args: tuple[Any, ...]) -> T:
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = work(conn, *args)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.rollback()
        raise
    return result


def _in_savepoint(conn: sqlite3.Connection, name: str, work: Callable[..., T], args: tuple[Any, ...]) -> T:
    conn.execute(f"SAVEPOINT {name}")
    try:
        result = work(conn, *args)
    except BaseException:
        conn.execute(f"ROLLBACK TO {name}")
        conn.execute(f"RELEASE {name}")
        raise
    conn.execute(f"RELEASE {name}")
    return result


def _commit_group(conn: sqlite3.Connection, units: Sequence[Sequence[tuple[str, Params]]]) -> list[Exception | None]:
    """On the database's thread: several units' writes in one transaction, each in a savepoint; what each failed
    with (None: written)."""
    failures: list[Exception | None] = []
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statements in units:
            conn.execute("SAVEPOINT unit")
            try:
                for sql, params in statements:
                    conn.execute(sql, params).close()
            except Exception as error:
                conn.execute("ROLLBACK TO unit")
                failures.append(error)
            else:
                failures.append(None)
            conn.execute("RELEASE unit")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.rollback()
        raise
    return failures


class UnitOfWork:
    """One update's writes, its conversation change and its handled mark: all committed together, or none.

    Begun lazily at the update's first write (BEGIN IMMEDIATE on the writer, held alone until the end), so an update
    that only reads never holds the writer. Tasks started inside the update see it through a context variable;
    once it is closed they fall back to their own statements."""

    def __init__(self) -> None:
        self.begun = False
        self.closed = False
        self.writer = AsyncExitStack()  # holds the writer's exclusive turn once begun
        self.beginning = asyncio.Lock()  # tasks of one update begin it once
        self.last: list[tuple[str, Params]] = []  # written with the COMMIT (Database.execute_at_commit)
        self._savepoints = itertools.count(1)

    def next_savepoint(self) -> str:
        return f"sp{next(self._savepoints)}"


class Database:
    """The process's file behind two connections: one writer and one reader (WAL lets them work side by side), and
    a third the loop reads rows by their key through (lookup).

    On the writer, single statements share it (each its own transaction); a session, a transaction or an update's
    unit of work has it alone, so nothing lands inside someone else's transaction. Reads outside a unit of work that
    has begun go to the reader, so they never wait behind an update holding the writer while it talks to Telegram.
    """

    def __init__(
        self, conn: Connection, path: Path, reader: Connection | None = None,
        looker: sqlite3.Connection | None = None,
    ) -> None:
        self._conn = conn
        self._reader = reader or conn
        self._looker = looker  # the loop's own connection, for lookups (see lookup)
        self._lock = SharedExclusiveLock()
        self._unit: ContextVar[UnitOfWork | None] = ContextVar("unit_of_work", default=None)
        self._commits: list[tuple[list[tuple[str, Params]], asyncio.Future[None]]] = []  # see _commit_together
        self._committer: asyncio.Task[None] | None = None
        self.path = path

    # units of work

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        """Every statement of this task (and of tasks it starts meanwhile) joins one transaction, committed when the
        block ends normally and rolled back when it raises or is cancelled."""
        unit = UnitOfWork()
        token = self._unit.set(unit)
        try:
            yield unit
        except BaseException:
            await self._end(unit, commit=False)
            raise
        else:
            await self._end(unit, commit=True)
        finally:
            self._unit.reset(token)

    @contextmanager
    def outside_unit_of_work(self) -> Iterator[None]:
        """For idempotent bookkeeping (user and chat rows): written at once rather than held in the update's unit,
        so an update does not take the writer just for them. Joins the unit instead when it has already begun, since
        the writer is then the unit's."""
        unit = self._unit.get()
        if unit is not None and unit.begun:
            yield
            return
        token = self._unit.set(None)
        try:
            yield
        finally:
            self._unit.reset(token)

    def _open_unit(self) -> UnitOfWork | None:
        unit = self._unit.get()
        return None if unit is None or unit.closed else unit

    async def _begin(self, unit: UnitOfWork) -> bool:
        """Begin the unit's transaction unless it has; False when the unit closed meanwhile (a task it started that
        outlived it), and the statement must then run on its own."""
        async with unit.beginning:
            if unit.begun:
                return not unit.closed
            if unit.closed:
                return False
            await unit.writer.enter_async_context(self._lock.exclusive())
            if unit.closed:  # ended while this task waited for the writer: nobody would commit what begins now
                await unit.writer.aclose()
                return False
            # With the unit's first statement, in its trip: the writer is the unit's alone from here on.
            self._conn.begin_with_next = True
            unit.begun = True
            return True

    async def _end(self, unit: UnitOfWork, commit: bool) -> None:
        unit.closed = True
        last, unit.last = unit.last, []
        if commit and last and not unit.begun:
            async with unit.beginning:  # no task of the unit is halfway through beginning it
                if not unit.begun:  # it only has writes held for the commit: they go with others' (see below)
                    await self._commit_together(last)
                    return
        if not unit.begun:
            return
        try:
            if commit:
                await Session(self._conn).commit_with(last)
            else:
                await self._conn.rollback()
        except BaseException:
            if self._conn.in_transaction:
                await self._conn.rollback()
            raise
        finally:
            await unit.writer.aclose()

    async def _commit_together(self, statements: list[tuple[str, Params]]) -> None:
        """Commit a unit whose only writes are the ones held for its commit, together with every other such unit
        ending meanwhile: one transaction and one trip to the database's thread for them all, each unit inside its
        own savepoint, so one whose statement fails is undone alone and told so, while the rest commit. A failed
        COMMIT fails them all. Each unit's writes still commit all together or not at all.

        Under load nearly every update ends like this (its conversation change and its handled mark), and one at a
        time they kept the writer busy: each took its turn and a trip of its own, and the loop in between."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiting = (statements, done)
        self._commits.append(waiting)
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_waiting(), name="group-commit")
        try:
            await done
        except asyncio.CancelledError:
            if any(entry is waiting for entry in self._commits):  # not taken yet: rolled back, as a cancelled unit is
                self._commits = [entry for entry in self._commits if entry is not waiting]
            raise

    async def _commit_waiting(self) -> None:
        while self._commits:
            async with self._lock.exclusive():
                group, self._commits = self._commits, []  # who came while the writer was busy comes along
                try:
                    failures = await self._conn.run(_commit_group, [s for s, _ in group])
                except Exception as error:
                    failures = [error] * len(group)
                except BaseException:
                    for _statements, done in group:
                        done.cancel()
                    raise
            for (_statements, done), failure in zip(group, failures, strict=True):
                if done.done():
                    continue
                if failure is None:
                    done.set_result(None)
                else:
                    done.set_exception(failure)

    async def execute_at_commit(self, sql: str, params: Params = ()) -> None:
        """A write that ends an update (its conversation change, its handled mark): inside an open unit of work it
        is held until the unit commits and goes with its COMMIT in one trip to the database's thread (with other
        units' when nothing else of it wrote: _commit_together); rolled back with the unit. Outside a unit it runs
        at once.

        Under load the trips made while holding the writer were what the other updates waited for: an update that
        only changed its conversation took four (BEGIN, the change, the mark, COMMIT), each waiting for the loop."""
        unit = self._open_unit()
        if unit is None:
            await self.execute(sql, params)
        else:
            unit.last.append((sql, params))

    # sessions and transactions

    @asynccontextmanager
    async def session(self) -> AsyncIterator[Session]:
        """Statements one at a time, with no other statement in between (inside a unit of work: the unit's)."""
        unit = self._open_unit()
        if unit is not None and await self._begin(unit):
            yield Session(self._conn)
            return
        async with self._lock.exclusive():
            yield Session(self._conn)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Session]:
        """All or nothing: commits on success, rolls back on any exception. Inside a unit of work it is a savepoint
        of the unit: undone alone when it raises, committed only with the unit."""
        unit = self._open_unit()
        if unit is not None and await self._begin(unit):
            name = unit.next_savepoint()
            await self._conn.execute(f"SAVEPOINT {name}")
            try:
                yield Session(self._conn)
            except BaseException:
                await self._conn.execute(f"ROLLBACK TO {name}")
                await self._conn.execute(f"RELEASE {name}")
                raise
            await self._conn.execute(f"RELEASE {name}")
            return
        async with self._lock.exclusive():
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield Session(self._conn)
            except BaseException:
                await self._conn.rollback()
                raise
            await self._conn.commit()

    async def transaction_in_one_trip(self, work: Callable[..., T], *args: Any) -> T:
        """All or nothing, like transaction(), for a transaction with nothing to wait for between its statements:
        `work(sqlite3_connection, *args)` runs between BEGIN IMMEDIATE and COMMIT in one trip to the writer's
        thread, so it holds the writer for that trip alone. Inside a unit of work it is a savepoint of the unit."""
        unit = self._open_unit()
        if unit is not None and await self._begin(unit):
            return await self._conn.run(_in_savepoint, unit.next_savepoint(), work, args)  # type: ignore[no-any-return]
        async with self._lock.exclusive():
            return await self._conn.run(_in_transaction, work, args)  # type: ignore[no-any-return]

    @asynccontextmanager
    async def _statement(self, sql: str) -> AsyncIterator[Session]:
        """Where one statement runs: in the open unit of work, on the reader, or queued beside other single
        statements on the writer."""
        reads = _reads_only(sql)
        unit = self._open_unit()
        if unit is not None and (unit.begun or not reads) and await self._begin(unit):
            yield Session(self._conn)
        elif reads:
            yield Session(self._reader)
        else:
            async with self._lock.shared():
                yield Session(self._conn)

    async def execute(self, sql: str, params: Params = ()) -> int:
        async with self._statement(sql) as s:
            return await s.execute(sql, params)

    async def execute_rowcount(self, sql: str, params: Params = ()) -> int:
        async with self._statement(sql) as s:
            return await s.execute_rowcount(sql, params)

    async def fetchone(self, sql: str, params: Params = ()) -> aiosqlite.Row | None:
        async with self._statement(sql) as s:
            return await s.fetchone(sql, params)

    async def fetchall(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        async with self._statement(sql) as s:
            return await s.fetchall(sql, params)

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        async with self._statement(sql) as s:
            return await s.fetchval(sql, params)

    async def lookup(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """One row found by its key (a user, a partner, a conversation), read at once on the loop's own connection:
        no trip to the reader's thread. Under load every update's first reads queued there behind each other's
        handoffs of the interpreter lock (~30 ms each, for a read that takes 0.01 ms). For key lookups only: a read
        that scans blocks the loop while it runs. Inside a unit of work that has begun it is the unit's read, on the
        writer, like any other; when the file is busy (WAL recovery, rare) it goes to the reader's thread."""
        unit = self._open_unit()
        if self._looker is None or (unit is not None and unit.begun):
            return await self.fetchone(sql, params)
        try:
            cursor = self._looker.execute(sql, params)
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) and "busy" not in str(error):
                raise
            return await self.fetchone(sql, params)
        try:
            return cursor.fetchone()  # type: ignore[no-any-return]
        finally:
            cursor.close()  # no statement left open, holding a snapshot of the file

    def holds_writer(self) -> bool:
        """Whether this task's statements go to an update's begun unit of work, which has the writer alone."""
        unit = self._open_unit()
        return unit is not None and unit.begun

    async def writer_answers(self) -> bool:
        """For /health: the writer takes a statement (reads alone would not notice an update holding it forever)."""
        async with self._lock.shared():
            rows = await self._conn.execute_fetchall("SELECT 1")
        return [tuple(row) for row in rows] == [(1,)]

    async def close(self) -> None:
        if self._looker is not None:
            self._looker.close()
            self._looker = None
        async with self._lock.exclusive():
            if self._reader is not self._conn:
                await self._reader.close()
            await self._conn.close()


def _reads_only(sql: str) -> bool:
    """A plain SELECT (a WITH … SELECT too); anything else may write (INSERT … RETURNING is fetched, but writes)."""
    head = sql.lstrip()[:6].upper()
    if head == "SELECT":
        return True
    return head.startswith("WITH") and not _WRITE_WORDS.search(sql)


async def connect(path: Path) -> Database:
    """Open (creating the folder), set the pragmas and bring the schema up to date. The file and its folder are
    private (bot/files.py): the database is created 0600 before SQLite opens it, so the -wal, -shm and -journal
    files SQLite creates beside it get the same mode; ones left 0644 by an older version are tightened."""
    path = Path(path)
    create_private(path)
    tighten_sqlite(path)
    conn = await _open(path)
    conn.row_factory = aiosqlite.Row
    await conn.execute("PRAGMA journal_mode=WAL")
    await conn.execute("PRAGMA foreign_keys=ON")
    await conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    # NORMAL is durable in WAL mode against a process crash; only an OS crash may lose the last commit.
    await conn.execute("PRAGMA synchronous=NORMAL")
    # Deleted content is overwritten with zeros, not left in free space where a copy of the file would keep it:
    # a raw update (sender id, typed text, a ref_ token) is emptied once handled, and must really be gone.
    await conn.execute("PRAGMA secure_delete=ON")
    await migrate(conn)
    reader = await _open(path)
    reader.row_factory = aiosqlite.Row
    await reader.execute("PRAGMA query_only=ON")
    await reader.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    # Opened on the loop's thread, used only there (Database.lookup); a busy file is left to the reader, not waited
    # for here, where waiting would stop the loop.
    looker = sqlite3.connect(path, isolation_level=None)
    looker.row_factory = sqlite3.Row
    looker.execute("PRAGMA query_only=ON")
    looker.execute("PRAGMA busy_timeout=0")
    return Database(conn, path, reader, looker)


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
