"""`python -m tests.e2e.forked`: a fork server for the crash tests, which start the bot over and over.

A fresh interpreter spends seconds of CPU importing aiogram (pydantic builds its ~450 type models), and a crash
test starts the bot up to 30 times. This server imports the bot once and runs none of its code; then, for each
JSON line on stdin (`{"cwd", "env", "stderr", "kill_after_write"}`), it forks one life: the child takes that
environment and working folder, writes its stderr to that file (stdin and stdout are /dev/null, as the tests'
`python -m bot` has them) and runs `bot.__main__.main` from its start — armed first by tests/e2e/kill_after_write.py
when asked — exiting as a Python process does (SystemExit unwinds to the interpreter's own shutdown: non-daemon
threads joined, atexit) or dying of the signal it is sent. The server answers `pid <pid>`, then `exit <code>` when
the life is over (negative for a signal, as asyncio reports it), one life at a time; it ends when stdin closes.

`ForkServer` is the test side; its lives look like the `asyncio.subprocess.Process` a test would otherwise get
(`pid`, `returncode`, `send_signal`, `communicate`).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any, NoReturn

ROOT = Path(__file__).resolve().parents[2]


def _serve() -> None:
    import bot.__main__
    import bot.startup  # noqa: F401 - what `main` imports lazily: each life finds it imported
    from tests.e2e import kill_after_write  # noqa: F401

    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _live(request)
        print(f"pid {pid}", flush=True)
        _, status = os.waitpid(pid, 0)
        print(f"exit {os.waitstatus_to_exitcode(status)}", flush=True)


def _live(request: dict[str, Any]) -> NoReturn:
    """In the forked child: become the bot process the request describes."""
    from bot.__main__ import main
    from tests.e2e.kill_after_write import _arm

    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    stderr = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.dup2(stderr, 2)
    os.close(stderr)
    os.close(devnull)
    if request["kill_after_write"]:
        _arm()
    sys.exit(main([]))


class Life:
    """One forked bot process."""

    def __init__(self, pid: int, stderr_path: Path, exited: asyncio.Task[int]) -> None:
        self.pid = pid
        self.stderr_path = stderr_path
        self._exited = exited
        self._stderr: bytes | None = None

    @property
    def returncode(self) -> int | None:
        return self._exited.result() if self._exited.done() else None

    def send_signal(self, signum: int) -> None:
        if not self._exited.done():
            os.kill(self.pid, signum)

    async def wait(self) -> int:
        return await self._exited

    async def communicate(self) -> tuple[bytes, bytes]:
        """(b"", stderr) once the life is over; its stderr also goes to the session-wide token check."""
        from tests.conftest import PROCESS_OUTPUT

        await self._exited
        if self._stderr is None:
            self._stderr = self.stderr_path.read_bytes()
            PROCESS_OUTPUT.append(self._stderr.decode("utf-8", errors="replace"))
        return b"", self._stderr


class ForkServer:
    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.tmp_path = tmp_path
        self.env = env
        self.process: asyncio.subprocess.Process | None = None
        self.lives = 0
        self.life: Life | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.e2e.forked", cwd=self.tmp_path, env=self.env,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )

    async def fork(self, env: dict[str, str], *, kill_after_write: bool = False) -> Life:
        assert self.process is not None and self.process.stdin is not None and self.process.stdout is not None
        self.lives += 1
        stderr_path = self.tmp_path / f"life-{self.lives}.stderr"
        request = {"cwd": str(self.tmp_path), "env": env, "stderr": str(stderr_path),
                   "kill_after_write": kill_after_write}
        self.process.stdin.write(json.dumps(request).encode() + b"\n")
        await self.process.stdin.drain()
        answer = await asyncio.wait_for(self.process.stdout.readline(), 60)
        if not answer.startswith(b"pid "):
            _, stderr = await self.process.communicate()
            raise AssertionError(f"the fork server did not start a life: {answer!r}\n{stderr.decode()[-2000:]}")

        async def exited() -> int:
            assert self.process is not None and self.process.stdout is not None
            line = await self.process.stdout.readline()
            assert line.startswith(b"exit "), line
            return int(line.split()[1])

        self.life = Life(int(answer.split()[1]), stderr_path, asyncio.create_task(exited()))
        return self.life

    async def close(self) -> None:
        """The server ends cleanly once its last life is over (one a failed test left running is killed)."""
        assert self.process is not None and self.process.stdin is not None
        if self.life is not None and self.life.returncode is None:
            self.life.send_signal(signal.SIGKILL)
            await asyncio.wait_for(self.life.communicate(), 30)
        self.process.stdin.close()
        _, stderr = await asyncio.wait_for(self.process.communicate(), 30)
        assert self.process.returncode == 0, stderr.decode()[-2000:]


if __name__ == "__main__":
    _serve()
