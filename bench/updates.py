"""Throughput and latency of the real bot: SQLite FSM storage against aiogram's MemoryStorage.

N simulated private users act at once through the fake Bot API server (tests/e2e/fake_telegram.py). Each
one sends /start, answers the onboarding question with a workspace name, sends /language and presses the
other language's button: four updates per user. The bot is the real one (`bot.app.build_app`, polling the
fake server) on a fresh SQLite database per run. The same scenario runs twice in one process: once with
the bot's own SQLite FSM storage and once with `MemoryStorage` swapped into `dispatcher.fsm.storage` (users,
workspaces and everything else stay in SQLite).

Latency of an update: from pushing it into the fake server's queue to the bot's first call in that chat
(`Call.at`, the moment the request reached the server). Throughput: updates answered / wall time from the
first push to the last reaction.

Run from the repository root (either works; the script puts the root on sys.path itself):

    .venv/bin/python -m bench.updates [--users 200]
    .venv/bin/python bench/updates.py [--users 200]

Exit status 0 when every user ended up with their workspace and nothing failed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sqlite3
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from aiogram.fsm.storage.memory import MemoryStorage  # noqa: E402

from bench.measure import CallLog, ErrorCount, Result  # noqa: E402
from bot.app import build_app  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.plumbing.logging_setup import formatter_for  # noqa: E402
from tests.e2e.fake_telegram import Call, FakeTelegram  # noqa: E402
from tests.e2e.people import PrivateUser  # noqa: E402

STEP_TIMEOUT = 30.0  # seconds one update may wait for its reaction before the run counts as failed
# The language button each user presses, by the language their client reports.
SWITCH_TO = {"ru": "English", "en": "Русский"}


async def step(log: CallLog, result: Result, user: PrivateUser, push, awaited: str) -> Call:
    """Push one update, wait for the bot's `awaited` call in the chat, record the latency; returns that call."""
    start = len(log.by_chat[user.id])
    pushed = time.monotonic()
    reaction = await push()
    if reaction.update_id is None:
        raise RuntimeError("the update never reached the bot")
    calls = await log.wait_for(user.id, start, [awaited], STEP_TIMEOUT)
    result.latencies.append(calls[-1].at - pushed)
    result.updates += 1
    failed = [call for call in calls if not call.ok]
    if failed:
        raise RuntimeError(f"{failed[0].method} failed: {(failed[0].error or {}).get('description')}")
    return calls[-1]


async def journey(log: CallLog, result: Result, user: PrivateUser, workspace: str) -> None:
    """/start, the workspace name, /language, the other language's button."""
    try:
        await step(log, result, user, lambda: user.start(wait=False), "sendMessage")
        await step(log, result, user, lambda: user.send(workspace, wait=False), "sendMessage")
        prompt = await step(log, result, user, lambda: user.send("/language", wait=False), "sendMessage")
        label = SWITCH_TO[user.user["language_code"]]
        message_id = prompt.result["message_id"]
        await step(log, result, user, lambda: user.press(label, message_id, wait=False), "editMessageText")
    except (TimeoutError, RuntimeError, AssertionError) as error:
        result.problems.append(f"user {user.id}: {type(error).__name__}: {error}")


async def run(storage_name: str, users: int) -> Result:
    result = Result(storage_name, users)
    with tempfile.TemporaryDirectory(prefix="most-bench-") as tmp:
        data = Path(tmp)
        database = data / "most.db"
        async with FakeTelegram() as server:
            log = CallLog()
            server.calls = log
            server.quiet_period = 0.02
            server.reaction_timeout = STEP_TIMEOUT
            for handler in logging.getLogger().handlers:
                handler.setFormatter(formatter_for(server.token))
            settings = load_settings(bot_token=server.token, bot_api_url=server.base_url, database_path=database,
                                     backup_dir=data / "backups", log_level="WARNING")
            app = await build_app(settings)
            if storage_name == "memory":
                app.dispatcher.fsm.storage = MemoryStorage()
            polling = asyncio.create_task(app.run_polling(handle_signals=False))
            try:
                await server.wait_polling(10)
                people = [server.private_user(f"User{i}", language_code="ru" if i % 2 else "en")
                          for i in range(users)]
                names = {person.id: f"Bench workspace {i}" for i, person in enumerate(people)}
                started = time.monotonic()
                await asyncio.gather(*(journey(log, result, person, names[person.id]) for person in people))
                result.wall = time.monotonic() - started
            finally:
                await app.stop()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(polling, 15)
            result.problems.extend(f"Bot API rule broken: {v}" for v in server.violations)
        result.problems.extend(check_workspaces(database, names))
        result.problems.extend(check_fsm_rows(database, storage_name, users))
    return result


def check_fsm_rows(database: Path, storage_name: str, users: int) -> list[str]:
    """The storage under test really held the conversations: SQLite rows only when SQLite was used."""
    with contextlib.closing(sqlite3.connect(database)) as conn:
        rows = conn.execute("SELECT COUNT(*) FROM fsm_states").fetchone()[0]
    if storage_name == "memory" and rows:
        return [f"{rows} FSM rows in SQLite although MemoryStorage was swapped in"]
    if storage_name == "sqlite" and rows < users:
        return [f"only {rows} FSM rows in SQLite for {users} users"]
    return []


def check_workspaces(database: Path, names: dict[int, str]) -> list[str]:
    """Every user owns exactly the workspace they named; read from the database file as an operator would."""
    with contextlib.closing(sqlite3.connect(database)) as conn:
        rows = conn.execute(
            "SELECT m.user_id, w.name FROM workspaces w JOIN memberships m ON m.workspace_id = w.id "
            "WHERE m.role = 'owner'"
        ).fetchall()
    owned: dict[int, list[str]] = defaultdict(list)
    for user_id, name in rows:
        owned[user_id].append(name)
    wrong = [user_id for user_id, name in names.items() if owned.get(user_id) != [name]]
    if not wrong:
        return []
    return [f"{len(wrong)} of {len(names)} users lack their workspace, e.g. user {wrong[0]}: "
            f"{owned.get(wrong[0], [])}"]


def report(results: list[Result]) -> None:
    header = f"{'storage':<8} {'users':>6} {'updates':>8} {'wall s':>7} {'upd/s':>8} {'p50 ms':>8} " \
             f"{'p95 ms':>8} {'p99 ms':>8}"
    print(header)
    for r in results:
        print(f"{r.name:<8} {r.users:>6} {r.updates:>8} {r.wall:>7.2f} {r.rate:>8.1f} "
              f"{r.percentile_ms(50):>8.1f} {r.percentile_ms(95):>8.1f} {r.percentile_ms(99):>8.1f}")
    sqlite_run, memory_run = results
    if memory_run.rate and memory_run.percentile_ms(99):
        print(f"SQLite/Memory: updates/s x{sqlite_run.rate / memory_run.rate:.2f}, "
              f"p99 x{sqlite_run.percentile_ms(99) / memory_run.percentile_ms(99):.2f}")


async def main_async(users: int) -> int:
    errors = ErrorCount()
    logging.getLogger().addHandler(errors)
    results = [await run("sqlite", users), await run("memory", users)]
    report(results)
    problems = [f"{r.name}: {problem}" for r in results for problem in r.problems]
    if errors.count:
        problems.append(f"the bot logged {errors.count} errors")
    for problem in problems[:10]:
        print(f"ERROR: {problem}", file=sys.stderr)
    if len(problems) > 10:
        print(f"ERROR: ... and {len(problems) - 10} more", file=sys.stderr)
    return 1 if problems else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200, help="simulated users (default 200)")
    args = parser.parse_args()
    if args.users < 1:
        parser.error("--users must be at least 1")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("aiosqlite", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    sys.exit(asyncio.run(main_async(args.users)))


if __name__ == "__main__":
    main()
