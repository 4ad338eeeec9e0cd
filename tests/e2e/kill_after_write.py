"""`python -m tests.e2e.kill_after_write`: `python -m bot`, which SIGKILLs itself inside a handler, right after a
write of its update's unit of work (test only; nothing of this is in the bot).

Each life of the process picks at random the how-manieth such write kills it (1 to KILL_AFTER_WRITES_MAX, from
KILL_SEED), so over many restarts kills land after the first write of an update, in the middle of its writes and
right before its commit. A write counts when it runs on the writer inside an update's task (`update-<id>`) while
the writer is in a transaction: the update's own, not the bookkeeping written beside it.

`python -m tests.e2e.kill_after_write --fork-server` is the same, started once: it imports the bot (aiogram's
types alone cost seconds of CPU to build, and the test needs 20 and more lives) and nothing else, runs no bot code,
then for each JSON line on stdin (`{"cwd", "env", "stderr"}`) forks one life: the child takes that environment and
working folder, writes its stderr to that file and runs `main` as above, exiting as a Python process does (SIGKILL,
or SIGTERM then the interpreter's shutdown). The server answers `pid <pid>`, then `exit <code>` when the life is
over (`-9` for SIGKILL), one life at a time; it ends when stdin closes.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sys
from typing import Any, NoReturn

import bot.startup  # noqa: F401 - everything `main` imports lazily, so that each forked life finds it imported
from bot.__main__ import main
from bot.storage import db

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def _arm() -> None:
    rng = random.Random(os.environ.get("KILL_SEED"))
    most = int(os.environ.get("KILL_AFTER_WRITES_MAX", "3"))
    left = [rng.randint(1, most)]
    print(f"kill_after_write: this life ends after write {left[0]}", file=sys.stderr, flush=True)

    def count(session: db.Session, sql: str) -> None:
        task = asyncio.current_task()
        inside_an_update = task is not None and task.get_name().startswith("update-")
        if inside_an_update and session._conn.in_transaction and sql.lstrip().upper().startswith(WRITES):
            left[0] -= 1
            if left[0] <= 0:
                os.kill(os.getpid(), signal.SIGKILL)

    def wrap(name: str) -> None:
        original = getattr(db.Session, name)

        async def counted(self: db.Session, sql: str, *args: Any, **kwargs: Any) -> Any:
            result = await original(self, sql, *args, **kwargs)
            count(self, sql)
            return result

        setattr(db.Session, name, counted)

    for name in ("execute", "execute_rowcount", "executemany", "fetchone", "fetchall"):  # fetchval uses fetchone
        wrap(name)


def _serve_forks() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _live(request)
        print(f"pid {pid}", flush=True)
        _, status = os.waitpid(pid, 0)
        print(f"exit {os.waitstatus_to_exitcode(status)}", flush=True)


def _live(request: dict[str, Any]) -> NoReturn:
    """In the forked child: become `python -m tests.e2e.kill_after_write` in the request's folder and environment.
    SystemExit unwinds through the server loop to the interpreter's own exit (non-daemon threads joined, atexit)."""
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
    _arm()
    sys.exit(main([]))


if __name__ == "__main__":
    if sys.argv[1:] == ["--fork-server"]:
        _serve_forks()
        sys.exit(0)
    _arm()
    sys.exit(main(sys.argv[1:]))
