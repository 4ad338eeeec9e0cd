"""`python -m bot` as a real process: a missing token, SIGKILL mid-conversation, SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.e2e.fake_telegram import FakeTelegram

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
    def __init__(self, server: FakeTelegram, tmp_path: Path) -> None:
        self.server = server
        self.tmp_path = tmp_path
        self.process: asyncio.subprocess.Process | None = None
        self.stderr = b""

    async def start(self) -> None:
        env = bot_env(
            self.tmp_path,
            BOT_TOKEN=self.server.token,
            BOT_API_URL=self.server.base_url,
            DATABASE_PATH=str(self.tmp_path / "most.db"),
        )
        started_before = len(self.server.calls_of("getMe"))
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=self.tmp_path,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
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
