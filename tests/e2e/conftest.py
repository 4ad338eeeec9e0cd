"""Fixtures that run the real bot — its real start-up path — against the fake Bot API server."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import random
import ssl
import types
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import App, build_app
from bot.clock import ManualClock
from bot.config import load_settings
from bot.plumbing.logging_setup import formatter_for
from tests.conftest import record_log_line
from tests.e2e.fake_telegram import FakeTelegram


@pytest.fixture(scope="session", autouse=True)
def _one_tls_context_for_every_bot_session() -> Iterator[None]:
    """aiogram's AiohttpSession builds a TLS context for every session, loading certifi's CA bundle (~30-80 ms);
    the suite builds well over a thousand of them, and the fake server is plain HTTP that never uses one. They all
    share one context, as any number of connections may."""
    from aiogram.client.session import aiohttp as aiogram_aiohttp

    shared = types.SimpleNamespace(create_default_context=functools.cache(ssl.create_default_context))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(aiogram_aiohttp, "ssl", shared)
        yield


def seed_from_env(variable: str, test_file: str) -> int:
    """A fresh random seed, or the one in `variable` to replay a run; printed so any failure can be reproduced."""
    seed = int(os.environ.get(variable) or random.SystemRandom().randrange(2**32))
    print(f"{variable}={seed}  (rerun: {variable}={seed} .venv/bin/pytest {test_file})")
    return seed


class LogCapture(logging.Handler):
    """Keeps every record, formatted by the same formatter `python -m bot` installs."""

    def __init__(self, token: str) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(formatter_for(token))
        self.records: list[logging.LogRecord] = []
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        line = self.format(record)
        self.records.append(record)
        self.lines.append(line)
        record_log_line(line)  # for the session-wide token check in tests/conftest.py

    def errors(self) -> list[str]:
        return [line for line, record in zip(self.lines, self.records, strict=True) if record.levelno >= logging.ERROR]


def skip_tls_grace_on_close(app: App) -> None:
    """aiogram waits 250 ms on close for TLS connections to wind down; the fake server is plain HTTP on
    127.0.0.1, and across the suite's many start/stop cycles that wait adds up to tens of seconds."""
    session = app.bot.session

    async def close() -> None:
        client = getattr(session, "_session", None)
        if client is not None and not client.closed:
            await client.close()

    session.close = close  # type: ignore[method-assign]


class RunningBot:
    """The bot as `python -m bot` builds it, polling the fake server, restartable on the same database."""

    def __init__(self, server: FakeTelegram, data_dir: Path, clock: ManualClock) -> None:
        self.server = server
        self.data_dir = data_dir
        self.clock = clock
        self.app: App | None = None
        self._task: asyncio.Task[None] | None = None
        self.allowed_errors = 0
        # ERROR lines containing one of these are expected by the test (e.g. "set aside" for poison updates) and
        # do not count against allowed_errors.
        self.allowed_error_patterns: list[str] = []

    @property
    def database_path(self) -> Path:
        return self.data_dir / "most.db"

    def settings(self):
        return load_settings(
            bot_token=self.server.token,
            bot_api_url=self.server.base_url,
            database_path=self.database_path,
            backup_dir=self.data_dir / "backups",
            log_level="DEBUG",
        )

    async def start(self) -> None:
        self.app = await build_app(self.settings(), clock=self.clock)
        skip_tls_grace_on_close(self.app)
        self._task = asyncio.create_task(self.app.run_polling(handle_signals=False))
        await self.server.wait_polling()

    async def stop(self) -> None:
        if self.app is None or self._task is None:
            return
        await self.app.stop()
        await asyncio.wait_for(self._task, 15)
        self.app, self._task = None, None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Read the bot's database directly, as an operator would."""
        assert self.app is not None
        rows = await self.app.db.fetchall(sql, params)
        return [tuple(row) for row in rows]


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server
        assert not server.violations, f"Bot API rules broken: {server.violations}"
        assert not server.deprecated_params, f"deprecated Bot API parameters sent: {server.deprecated_params[:3]}"


@pytest.fixture
async def telegram_for_crashes() -> AsyncIterator[FakeTelegram]:
    """The fake server for tests that run `python -m bot` as a process and kill it."""
    async with FakeTelegram() as server:
        server.reaction_timeout = 15  # a fresh interpreter answers its first update more slowly
        yield server
        assert not server.violations, f"Bot API rules broken: {server.violations}"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 24, 9, 0, tzinfo=UTC))


@pytest.fixture
def bot_logs(telegram: FakeTelegram) -> AsyncIterator[LogCapture]:
    capture = LogCapture(telegram.token)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    logging.getLogger("aiosqlite").setLevel(logging.WARNING)  # one line per SQL call drowns the rest
    yield capture
    root.removeHandler(capture)
    root.setLevel(previous)
    secret = telegram.token.partition(":")[2]
    leaked = [line for line in capture.lines if secret in line]
    assert not leaked, f"the bot token reached a log line: {leaked[0][:200]}"


@pytest.fixture
async def running_bot(
    telegram: FakeTelegram, tmp_path: Path, clock: ManualClock, bot_logs: LogCapture
) -> AsyncIterator[RunningBot]:
    bot = RunningBot(telegram, tmp_path, clock)
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()
    errors = [line for line in bot_logs.errors()
              if not any(pattern in line for pattern in bot.allowed_error_patterns)]
    assert len(errors) == bot.allowed_errors, "unexpected errors logged:\n" + "\n".join(errors)
