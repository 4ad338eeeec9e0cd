"""`python -m tests.e2e.kill_after_write`: `python -m bot`, which SIGKILLs itself inside a handler, right after a
write of its update's unit of work (test only; nothing of this is in the bot).

Each life of the process picks at random the how-manieth such write kills it (1 to KILL_AFTER_WRITES_MAX, from
KILL_SEED), so over many restarts kills land after the first write of an update, in the middle of its writes and
right before its commit. A write counts when it runs on the writer inside an update's task (`update-<id>`) while
the writer is in a transaction: the update's own, not the bookkeeping written beside it; and so does one held for
the unit's commit (its conversation change and its handled mark, Database.execute_at_commit).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from typing import Any

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

    held = db.Database.execute_at_commit

    async def held_counted(self: db.Database, sql: str, *args: Any, **kwargs: Any) -> Any:
        """The conversation change and the handled mark, held for the unit's commit: a kill here is one right
        before the commit."""
        opened = self._open_unit() is not None
        result = await held(self, sql, *args, **kwargs)
        task = asyncio.current_task()
        if opened and task is not None and task.get_name().startswith("update-"):
            left[0] -= 1
            if left[0] <= 0:
                os.kill(os.getpid(), signal.SIGKILL)
        return result

    db.Database.execute_at_commit = held_counted  # type: ignore[method-assign]


if __name__ == "__main__":
    _arm()
    sys.exit(main(sys.argv[1:]))
