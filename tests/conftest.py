"""Session-wide: the bot token never appears in a log, whichever test wrote it.

Every token a FakeTelegram server hands out is remembered, and so is every log line the in-process bots wrote
(through `LogCapture` in tests/e2e/conftest.py, formatted exactly as `python -m bot` formats them) and everything a
`python -m bot` subprocess printed (its stdout and stderr, read through `communicate()`). At the end of the session
no token, nor its secret half, may appear in any of them; otherwise the run fails.
"""

from __future__ import annotations

import asyncio.subprocess
import re
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

ISSUED_TOKENS: set[str] = set()
LOG_LINES: list[str] = []  # formatted lines of in-process bots
PROCESS_OUTPUT: list[str] = []  # stdout/stderr of subprocesses


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `long` first (a stable sort keeps the rest in order): xdist hands tests out in this order, so a
    long one started last would keep one worker busy while the other sits idle."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


def record_log_line(line: str) -> None:
    LOG_LINES.append(line)


def _text(data: Any) -> str:
    if isinstance(data, bytes):
        return data.decode("utf-8", errors="replace")
    return data if isinstance(data, str) else ""


@pytest.fixture(scope="session", autouse=True)
def _remember_tokens_and_process_output() -> Iterator[None]:
    from tests.e2e import fake_telegram

    original_make_token = fake_telegram.make_token
    original_async_communicate = asyncio.subprocess.Process.communicate
    original_communicate = subprocess.Popen.communicate

    def make_token() -> str:
        token = original_make_token()
        ISSUED_TOKENS.add(token)
        return token

    async def async_communicate(self: asyncio.subprocess.Process, input: bytes | None = None) -> tuple[Any, Any]:
        stdout, stderr = await original_async_communicate(self, input)
        PROCESS_OUTPUT.extend(_text(stream) for stream in (stdout, stderr) if stream)
        return stdout, stderr

    def communicate(self: subprocess.Popen[Any], *args: Any, **kwargs: Any) -> tuple[Any, Any]:
        stdout, stderr = original_communicate(self, *args, **kwargs)
        PROCESS_OUTPUT.extend(_text(stream) for stream in (stdout, stderr) if stream)
        return stdout, stderr

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fake_telegram, "make_token", make_token)
        patch.setattr(asyncio.subprocess.Process, "communicate", async_communicate)
        patch.setattr(subprocess.Popen, "communicate", communicate)
        yield


@pytest.fixture(autouse=True)
def _no_token_in_this_tests_output() -> Iterator[None]:
    """The same check after every test, so it also holds when the suite is split across xdist workers."""
    logs_before, outputs_before = len(LOG_LINES), len(PROCESS_OUTPUT)
    yield
    leaks = token_leaks(LOG_LINES[logs_before:], PROCESS_OUTPUT[outputs_before:])
    assert not leaks, f"the bot token reached a {leaks[0]}"


def token_leaks(log_lines: list[str] | None = None, outputs: list[str] | None = None) -> list[str]:
    """`<where>: <excerpt>` for every log line or process output that shows a token or its secret half."""
    secrets = {part for token in ISSUED_TOKENS for part in (token, token.partition(":")[2]) if part}
    if not secrets:
        return []
    pattern = re.compile("|".join(re.escape(secret) for secret in sorted(secrets, key=len, reverse=True)))
    leaks = []
    log_lines = LOG_LINES if log_lines is None else log_lines
    outputs = PROCESS_OUTPUT if outputs is None else outputs
    for where, texts in (("log line", log_lines), ("process output", outputs)):
        for text in texts:
            if found := pattern.search(text):
                leaks.append(f"{where}: …{text[max(found.start() - 80, 0):found.start()]!r} + <the token>")
    return leaks


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    leaks = token_leaks()
    session.config.stash[_LEAKS] = leaks
    if leaks:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not ISSUED_TOKENS:
        return
    leaks = config.stash.get(_LEAKS, [])
    terminalreporter.write_line(
        f"bot token check: {len(ISSUED_TOKENS)} tokens, {len(LOG_LINES)} log lines, "
        f"{len(PROCESS_OUTPUT)} process outputs: " + ("FAILED" if leaks else "no token found"),
        red=bool(leaks),
    )
    for leak in leaks[:20]:
        terminalreporter.write_line(f"  the bot token reached a {leak}", red=True)


_LEAKS = pytest.StashKey[list[str]]()
