"""`python -m bot` as a real process: a missing or rejected token, an unreachable Bot API and other failed starts
(each ends the process), SIGKILL mid-conversation, SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import stat
import sys
import threading
from pathlib import Path

import pytest
from aiogram.exceptions import TelegramBadRequest

from bot.app import build_app
from bot.config import load_settings
from bot.startup import serve
from tests.e2e.fake_telegram import FakeTelegram, make_token
from tests.e2e.forked import ForkServer, Life

ROOT = Path(__file__).resolve().parents[2]


def bot_env(tmp_path: Path, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "BOT_API_URL", "DATABASE_PATH"}}
    env["PYTHONPATH"] = str(ROOT)
    env.update(values)
    return env


async def test_missing_token_exits_2_with_one_line(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=tmp_path,
        env=bot_env(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    lines = stderr.decode().strip().splitlines()
    assert len(lines) == 1, lines
    assert "BOT_TOKEN is missing" in lines[0] and "@BotFather" in lines[0]
    assert "Traceback" not in stderr.decode() + stdout.decode()


class BotProcess:
    """`python -m bot`; with `forks`, each start is forked by that server instead (tests/e2e/forked.py): the same
    `main` in a process of its own, without the seconds a fresh interpreter spends importing aiogram."""

    def __init__(self, server: FakeTelegram, tmp_path: Path, umask: int = -1, forks: ForkServer | None = None,
                 **env: str) -> None:
        assert forks is None or umask == -1, "a forked life keeps the test runner's umask"
        self.server = server
        self.tmp_path = tmp_path
        self.umask = umask  # -1: the test runner's
        self.forks = forks
        self.env = env
        self.process: asyncio.subprocess.Process | Life | None = None
        self.stderr = b""

    async def start(self) -> None:
        env = bot_env(
            self.tmp_path,
            BOT_TOKEN=self.server.token,
            BOT_API_URL=self.server.base_url,
            **{"DATABASE_PATH": str(self.tmp_path / "most.db"), **self.env},
        )
        started_before = len(self.server.calls_of("getMe"))
        if self.forks is not None:
            self.process = await self.forks.fork(env)
        else:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                cwd=self.tmp_path,
                env=env,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                umask=self.umask,
            )
        # getMe opens every polling run; the long poll that follows may supersede a killed one's.
        ok = await self.server.wait_until(
            lambda: len(self.server.calls_of("getMe")) > started_before and self.server.open_polls > 0, 30
        )
        assert ok, "the bot process did not start polling"

    async def signal(self, signum: int) -> int:
        assert self.process is not None
        self.process.send_signal(signum)
        _, stderr = await asyncio.wait_for(self.process.communicate(), 30)
        self.stderr += stderr
        return self.process.returncode or 0


@pytest.fixture
async def telegram_for_process() -> FakeTelegram:
    async with FakeTelegram() as server:
        server.reaction_timeout = 15  # a fresh interpreter answers its first update more slowly
        yield server


async def test_onboarding_survives_sigkill_and_sigterm_is_clean(
    telegram_for_process: FakeTelegram, tmp_path: Path
) -> None:
    telegram = telegram_for_process
    bot = BotProcess(telegram, tmp_path)
    await bot.start()
    user = telegram.private_user("Anna", language_code="ru")
    reaction = await user.start()
    assert "Как назовём?" in reaction.text

    assert await bot.signal(signal.SIGKILL) == -signal.SIGKILL
    await bot.start()
    reaction = await user.send("Агентство Север")
    assert "Рабочее пространство: Агентство Север" in reaction.text

    assert await bot.signal(signal.SIGTERM) == 0
    log = bot.stderr.decode()
    assert "Most stopped" in log
    assert "Traceback" not in log
    assert telegram.token.partition(":")[2] not in log
    assert not telegram.violations


def modes_under(folder: Path) -> dict[str, str]:
    """Every file and folder below `folder` and its permission bits, e.g. {"data/most.db": "0o600"}."""
    return {str(p.relative_to(folder)): oct(stat.S_IMODE(p.stat().st_mode)) for p in sorted(folder.rglob("*"))}


async def test_files_are_private_under_a_loose_umask(telegram_for_process: FakeTelegram, tmp_path: Path) -> None:
    """Started under umask 022 (new files 0644), the bot still writes 0600 files in 0700 folders, and tightens
    the files an older version left 0644; a folder it did not create is left as it is, with a warning."""
    telegram = telegram_for_process
    backups = tmp_path / "backups"
    backups.mkdir()
    os.chmod(backups, 0o755)  # the operator's (or an older version's) folder
    old_backup = backups / "most-20250101-033000.db"
    old_backup.write_bytes(b"")
    os.chmod(old_backup, 0o644)
    bot = BotProcess(
        telegram, tmp_path, umask=0o022, DATABASE_PATH=str(tmp_path / "data" / "db" / "most.db"),
        BACKUP_DIR=str(backups),
    )
    await bot.start()
    user = telegram.private_user("Anna", language_code="en")
    await user.start()
    await user.send("Private Agency")
    assert await bot.signal(signal.SIGTERM) == 0
    modes = modes_under(tmp_path)
    assert {name: bits for name, bits in modes.items() if name.startswith("data")} == {
        "data": "0o700", "data/db": "0o700", "data/db/most.db": "0o600", "data/db/most.key": "0o600",
    }, modes  # -wal and -shm were removed by the clean shutdown; while it ran they were 0600 (tests/unit)
    assert modes["backups"] == "0o755" and modes["backups/most-20250101-033000.db"] == "0o600"
    log = bot.stderr.decode()
    assert f"folder {backups} is 0o755" in log and "Traceback" not in log


async def test_wal_and_shm_are_private_while_the_bot_runs(telegram_for_process: FakeTelegram, tmp_path: Path) -> None:
    telegram = telegram_for_process
    bot = BotProcess(telegram, tmp_path, umask=0o000, DATABASE_PATH=str(tmp_path / "data" / "most.db"))
    await bot.start()
    user = telegram.private_user("Anna", language_code="ru")
    await user.start()
    modes = modes_under(tmp_path / "data")
    assert modes == {"most.db": "0o600", "most.db-shm": "0o600", "most.db-wal": "0o600", "most.key": "0o600"}, modes
    assert oct(stat.S_IMODE((tmp_path / "data").stat().st_mode)) == "0o700"
    assert await bot.signal(signal.SIGTERM) == 0


# Start-up failures end the process: systemd's Restart=on-failure only acts on a process that exits.
HANG_GUARD_SECONDS = 60  # a hang fails the test instead of stalling the suite; not a timing assertion
THREAD_END_GUARD_SECONDS = 10


async def run_to_exit(tmp_path: Path, **values: str) -> tuple[int, str]:
    """Run `python -m bot` until it exits on its own; its exit status and everything it wrote."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=tmp_path,
        env=bot_env(tmp_path, **values),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), HANG_GUARD_SECONDS)
    except TimeoutError:
        process.kill()
        output, _ = await process.communicate()
        raise AssertionError(f"python -m bot did not exit; it wrote:\n{output.decode()}") from None
    assert process.returncode is not None
    return process.returncode, output.decode()


def closed_port() -> int:
    """A port nothing listens on: bound, then released."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_rejected_token_exits_2_with_one_line_before_anything_starts(
    telegram_for_process: FakeTelegram, tmp_path: Path
) -> None:
    telegram = telegram_for_process
    wrong_token = make_token()
    status, output = await run_to_exit(
        tmp_path, BOT_TOKEN=wrong_token, BOT_API_URL=telegram.base_url, DATABASE_PATH=str(tmp_path / "most.db")
    )
    assert status == 2, output
    lines = output.strip().splitlines()
    assert len(lines) == 1, lines
    assert "Telegram rejected BOT_TOKEN (401 Unauthorized)" in lines[0] and "@BotFather" in lines[0]
    assert wrong_token.partition(":")[2] not in output
    assert [call.method for call in telegram.calls] == ["getMe"]  # no retry, no setMyCommands, no polling
    assert telegram.take_violations() == ["getMe: Unauthorized"]
    assert not (tmp_path / "most.db").exists()  # checked before the database is opened


async def test_unreachable_bot_api_is_retried_then_exits_1(tmp_path: Path) -> None:
    token = make_token()
    port = closed_port()
    status, output = await run_to_exit(
        tmp_path,
        BOT_TOKEN=token,
        BOT_API_URL=f"http://127.0.0.1:{port}",
        DATABASE_PATH=str(tmp_path / "most.db"),
        STARTUP_TIMEOUT_SECONDS="3",
    )
    assert status == 1, output
    lines = output.strip().splitlines()
    retries = [line for line in lines if "not reachable (attempt" in line]
    assert len(retries) >= 2, lines
    for number, line in enumerate(retries, start=1):
        assert f"(attempt {number})" in line and "next attempt in" in line, line
    assert lines[-1] not in retries and f"127.0.0.1:{port} not reachable" in lines[-1], lines
    assert len(lines) == len(retries) + 1, lines  # a line per retry and the verdict, nothing else
    assert "Traceback" not in output
    assert token.partition(":")[2] not in output
    assert not (tmp_path / "most.db").exists()


async def test_bot_api_failing_at_first_is_waited_for(telegram_for_process: FakeTelegram, tmp_path: Path) -> None:
    telegram = telegram_for_process
    telegram.fail_next(None, 502, "Bad Gateway")
    telegram.fail_next(None, 429, "Too Many Requests: retry after 1", retry_after=1)
    bot = BotProcess(telegram, tmp_path)
    await bot.start()
    user = telegram.private_user("Anna", language_code="en")
    reaction = await user.start()
    assert "What should I call it?" in reaction.text

    assert await bot.signal(signal.SIGTERM) == 0
    log = bot.stderr.decode()
    assert "(attempt 1): server error: Bad Gateway" in log
    assert "(attempt 2): 429 Too Many Requests, retry after 1 s; next attempt in 1.0 s" in log
    assert "(attempt 3)" not in log
    assert "Traceback" not in log
    assert not telegram.violations


async def test_unusable_database_path_exits_1_with_one_line(
    telegram_for_process: FakeTelegram, tmp_path: Path
) -> None:
    telegram = telegram_for_process
    (tmp_path / "not-a-folder").write_text("a file where the database's folder should be")
    status, output = await run_to_exit(
        tmp_path,
        BOT_TOKEN=telegram.token,
        BOT_API_URL=telegram.base_url,
        DATABASE_PATH=str(tmp_path / "not-a-folder" / "most.db"),
    )
    assert status == 1, output
    lines = output.strip().splitlines()
    assert len(lines) == 1, lines
    assert "FileExistsError" in lines[0] and "not-a-folder" in lines[0]
    assert "Traceback" not in output
    assert not telegram.violations


async def test_a_key_file_that_holds_no_key_exits_2_and_is_left_alone(
    telegram_for_process: FakeTelegram, tmp_path: Path
) -> None:
    telegram = telegram_for_process
    key = tmp_path / "most.key"
    key.write_text("restored from the wrong place\n")
    status, output = await run_to_exit(
        tmp_path, BOT_TOKEN=telegram.token, BOT_API_URL=telegram.base_url, DATABASE_PATH=str(tmp_path / "most.db")
    )
    assert status == 2, output
    lines = [line for line in output.strip().splitlines() if "applying migration" not in line]  # a new database
    assert len(lines) == 1 and "RESPONDENT_KEY_PATH" in lines[0] and "not a readable key file" in lines[0], lines
    assert "Traceback" not in output
    assert key.read_text() == "restored from the wrong place\n"  # never overwritten
    assert not telegram.violations


def nothing_keeps_the_process_alive(threads_before: set[threading.Thread]) -> list[str]:
    """The threads started since that would keep a finished process alive (not daemons, e.g. aiosqlite's, one per
    open connection); empty when all is closed."""
    left = [thread for thread in set(threading.enumerate()) - threads_before if not thread.daemon]
    for thread in left:
        thread.join(THREAD_END_GUARD_SECONDS)
    return [thread.name for thread in left if thread.is_alive()]


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_failing_start_up_hook_leaves_nothing_that_keeps_the_process_alive(
    telegram: FakeTelegram, tmp_path: Path, mode: str
) -> None:
    before = set(threading.enumerate())
    webhook = {"webhook_url": "https://bot.example.com", "webhook_port": 0} if mode == "webhook" else {}
    settings = load_settings(
        bot_token=telegram.token,
        bot_api_url=telegram.base_url,
        database_path=tmp_path / "most.db",
        backup_dir=tmp_path / "backups",
        **webhook,
    )
    app = await build_app(settings)
    telegram.fail_next(None, 400, "Bad Request: BOT_COMMANDS_TOO_MUCH")  # the first request: setMyCommands
    with pytest.raises(TelegramBadRequest):
        await asyncio.wait_for(serve(app, handle_signals=False), HANG_GUARD_SECONDS)
    assert [call.method for call in telegram.calls] == ["setMyCommands"]
    assert not app.scheduler.running
    assert nothing_keeps_the_process_alive(before) == []
