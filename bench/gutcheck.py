"""Throughput and latency of a real multi-step flow (the gut check) against a bare aiogram echo bot.

N simulated users act at once through the fake Bot API server (tests/e2e/fake_telegram.py). Each has a workspace
and a partner seeded with SQL (no /newpartner), and a partner card in the chat; a round is five button presses:
"Gut check" (the bot sends question 1 and takes the buttons off the card), Yes, Yes, Yes (each edits the question
message in place) and "Skip the note" (the verdict replaces the question, the refreshed card follows, whose "Gut
check" starts the next round). The bot is the real one (`bot.app.build_app`, SQLite storage and FSM, polling the
fake server). Each press is answered last, after its handler (bot/plumbing/middlewares.py's LenientCallbackAnswer).

The echo bot is aiogram with one router and nothing else (no storage, no middlewares, no database): the same
five presses per round, answered with the same Bot API calls in the same order — sendMessage +
editMessageReplyMarkup / editMessageText / (editMessageText + sendMessage), then answerCallbackQuery — so the
difference between the two is what Most does per update (database, FSM, i18n, rendering), not the number of
calls. (The verdict replaces the question without buttons, so bot/plumbing/live_keyboards.py has nothing to take
off when the card follows.)

Latency of an update: from pushing it into the fake server's queue until its step is complete (the step's last
call reached the server). Throughput: updates completed / wall time from the first push to the last completion.
Each run is a fresh process (the bot, its fake server and the simulated users together), echo and Most in turn.

    .venv/bin/python bench/gutcheck.py [--users 100] [--rounds 3] [--repeat 3]

The pair is run `--repeat` times, alternating, and the goals are judged on the medians of the ratios: on a
shared two-core machine one run's ratio moved by ±0.15 from minute to minute (the echo bot alone ranged from 340 to
520 updates/s), mostly with when full garbage collections happened to fall in its short run. With other work on
the machine it is worse: on 2026-12-04 the echo bot ranged from 118 to 505 updates/s and one pair's ratio from
0.21 to 0.96, so compare two versions by alternating them, several times, in the same minutes.

Goals: Most ≥ 0.7 × the echo bot's updates/s, and Most's p99 ≤ 2 × the echo bot's p99. Exit status 0 when both
goals are met, every step completed, no Bot API rule was broken, nothing was logged as an error and the database
holds every run; 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from aiogram import Bot, Dispatcher, F, Router  # noqa: E402
from aiogram.client.session.aiohttp import AiohttpSession  # noqa: E402
from aiogram.client.telegram import TelegramAPIServer  # noqa: E402
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message  # noqa: E402

from bench.measure import CallLog, ErrorCount, Result  # noqa: E402
from bot.app import build_app  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.keyboards.callbacks import PartnerAction, PartnerCallback  # noqa: E402
from bot.plumbing.logging_setup import formatter_for  # noqa: E402
from tests.e2e.fake_telegram import FakeTelegram, StoredMessage  # noqa: E402
from tests.e2e.people import PrivateUser, button_data, push_callback  # noqa: E402

STEP_TIMEOUT = 30.0  # seconds one step may take before the run counts as failed
NOW = "2026-11-24T09:00:00+00:00"


# One round: (button text on the latest keyboard, the calls that complete the step).
GUT_ROUND = [
    ("✅ Gut check", ["sendMessage", "editMessageReplyMarkup", "answerCallbackQuery"]),
    ("✅ Yes", ["editMessageText", "answerCallbackQuery"]),
    ("✅ Yes", ["editMessageText", "answerCallbackQuery"]),
    ("✅ Yes", ["editMessageText", "answerCallbackQuery"]),
    ("Skip the note", ["editMessageText", "sendMessage", "answerCallbackQuery"]),
]
ECHO_ROUND = [
    ("start", ["sendMessage", "editMessageReplyMarkup", "answerCallbackQuery"]),
    ("next", ["editMessageText", "answerCallbackQuery"]),
    ("next", ["editMessageText", "answerCallbackQuery"]),
    ("next", ["editMessageText", "answerCallbackQuery"]),
    ("end", ["editMessageText", "sendMessage", "answerCallbackQuery"]),
]
# What the server may refuse without the step failing: both bots take it as done (bot/plumbing/telegram_retries.py).
TAKEN_AS_DONE = ("message is not modified",)


def failed(call: Any) -> bool:
    description = str((call.error or {}).get("description", ""))
    return not call.ok and not any(reason in description for reason in TAKEN_AS_DONE)


def latest_keyboard(server: FakeTelegram, chat_id: int) -> StoredMessage:
    return next(m for m in reversed(server.sent_to(chat_id)) if m.buttons)


async def journey(log: CallLog, result: Result, server: FakeTelegram, user: PrivateUser,
                  steps: list[tuple[str, list[str]]], rounds: int) -> None:
    try:
        for _ in range(rounds):
            for label, methods in steps:
                message = latest_keyboard(server, user.id)
                data = button_data(message, label)
                start = len(log.by_chat[user.id])
                pushed = time.monotonic()
                if push_callback(server, user.chat, user.user, message, data) is None:
                    raise RuntimeError("the update never reached the bot")
                calls = await log.wait_for(user.id, start, methods, STEP_TIMEOUT)
                result.latencies.append(calls[-1].at - pushed)
                result.updates += 1
                refused = [call for call in calls if failed(call)]
                if refused:
                    raise RuntimeError(f"{refused[0].method} failed: {(refused[0].error or {}).get('description')}")
    except (TimeoutError, RuntimeError, AssertionError, StopIteration) as error:
        result.problems.append(f"user {user.id}: {type(error).__name__}: {error}")


def card_message(server: FakeTelegram, user: PrivateUser, text: str, label: str, data: str) -> None:
    """A message from the bot with one button, as the chat would hold it (the partner card, the echo's start)."""
    user.chat.known, user.chat.bot_status = True, "member"
    markup = {"inline_keyboard": [[{"text": label, "callback_data": data}]]}
    server.add_message(user.chat, server.bot_user, text=text, reply_markup=markup)


async def seed(db: Any, people: list[PrivateUser]) -> dict[int, int]:
    """A workspace, a membership and a partner per user, with plain SQL; returns partner id by user id."""
    partner_ids = {}
    async with db.transaction() as tx:
        for index, person in enumerate(people, start=1):
            await tx.execute("INSERT INTO workspaces (id, name, created_at) VALUES (?, ?, ?)",
                             (index, f"Bench workspace {index}", NOW))
            await tx.execute(
                "INSERT INTO users (id, locale, telegram_language, current_workspace_id, first_seen, last_seen) "
                "VALUES (?, 'en', 'en', ?, ?, ?)", (person.id, index, NOW, NOW))
            await tx.execute("INSERT INTO memberships (workspace_id, user_id, role, joined_at) "
                             "VALUES (?, ?, 'owner', ?)", (index, person.id, NOW))
            partner_ids[person.id] = await tx.execute(
                "INSERT INTO partners (workspace_id, name, name_key, kind, markets, created_by, created_at, "
                "updated_at) VALUES (?, ?, ?, 'agency', 'both', ?, ?, ?)",
                (index, f"Partner {index}", f"partner {index}", person.id, NOW, NOW))
    return partner_ids


async def with_server(run: Callable[[FakeTelegram, CallLog], Awaitable[None]]) -> None:
    async with FakeTelegram() as server:
        log = CallLog()
        server.calls = log  # type: ignore[assignment]
        server.reaction_timeout = STEP_TIMEOUT
        for handler in logging.getLogger().handlers:
            handler.setFormatter(formatter_for(server.token))
        await run(server, log)


async def run_most(users: int, rounds: int) -> Result:
    result = Result("most", users)

    async def run(server: FakeTelegram, log: CallLog) -> None:
        with tempfile.TemporaryDirectory(prefix="most-bench-") as tmp:
            database = Path(tmp) / "most.db"
            settings = load_settings(bot_token=server.token, bot_api_url=server.base_url, database_path=database,
                                     backup_dir=Path(tmp) / "backups", log_level="WARNING")
            app = await build_app(settings)
            people = [server.private_user(f"User{i}", language_code="en") for i in range(users)]
            partner_ids = await seed(app.db, people)
            for person in people:
                data = PartnerCallback(action=PartnerAction.GUT_CHECK, partner_id=partner_ids[person.id]).pack()
                card_message(server, person, f"Partner card {partner_ids[person.id]}", "✅ Gut check", data)
            polling = asyncio.create_task(app.run_polling(handle_signals=False))
            try:
                await server.wait_polling(10)
                started = time.monotonic()
                await asyncio.gather(*(journey(log, result, server, p, GUT_ROUND, rounds) for p in people))
                result.wall = time.monotonic() - started
            finally:
                await app.stop()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(polling, 15)
            with contextlib.closing(sqlite3.connect(database)) as conn:
                runs = conn.execute("SELECT COUNT(*) FROM gut_checks WHERE passed = 1").fetchone()[0]
            if runs != users * rounds:
                result.problems.append(f"{runs} gut-check runs saved, expected {users * rounds}")
        result.problems.extend(f"Bot API rule broken: {v}" for v in server.violations)

    await with_server(run)
    return result


def echo_router() -> Router:
    """The bare echo bot: every press answered with the same calls the gut check makes, nothing stored."""
    router = Router()
    counter = {"n": 0}

    def keyboard(*labels: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=t)] for t in labels])

    @router.callback_query(F.data == "start")
    async def started(callback: CallbackQuery) -> None:
        assert isinstance(callback.message, Message)
        await callback.message.answer("echo: start", reply_markup=keyboard("next"))
        await callback.message.edit_reply_markup(reply_markup=None)
        await callback.answer()

    @router.callback_query(F.data == "next")
    async def moved(callback: CallbackQuery) -> None:
        assert isinstance(callback.message, Message)
        counter["n"] += 1
        done = (callback.message.text or "").count("next") >= 2
        await callback.message.edit_text(f"{callback.message.text} next {counter['n']}",
                                         reply_markup=keyboard("end" if done else "next"))
        await callback.answer()

    @router.callback_query(F.data == "end")
    async def ended(callback: CallbackQuery) -> None:
        assert isinstance(callback.message, Message)
        await callback.message.edit_text("echo: end")
        await callback.message.answer("echo: again?", reply_markup=keyboard("start"))
        await callback.answer()

    @router.message()
    async def echo(message: Message) -> None:
        await message.send_copy(message.chat.id)

    return router


async def run_echo(users: int, rounds: int) -> Result:
    result = Result("echo", users)

    async def run(server: FakeTelegram, log: CallLog) -> None:
        bot = Bot(server.token, session=AiohttpSession(api=TelegramAPIServer.from_base(server.base_url)))
        dp = Dispatcher()
        dp.include_router(echo_router())
        people = [server.private_user(f"User{i}", language_code="en") for i in range(users)]
        for person in people:
            card_message(server, person, "echo bot", "start", "start")
        polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=25))
        try:
            await server.wait_polling(10)
            started = time.monotonic()
            await asyncio.gather(*(journey(log, result, server, p, ECHO_ROUND, rounds) for p in people))
            result.wall = time.monotonic() - started
        finally:
            await dp.stop_polling()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(polling, 15)
        result.problems.extend(f"Bot API rule broken: {v}" for v in server.violations)

    await with_server(run)
    return result


def report(pairs: list[tuple[Result, Result]]) -> bool:
    """Print each run and the medians of the ratios; True when both goals are met by the medians."""
    print(f"{'run':>3} {'bot':<6} {'users':>6} {'updates':>8} {'wall s':>7} {'upd/s':>8} {'p50 ms':>8} "
          f"{'p95 ms':>8} {'p99 ms':>8}  Most/echo")
    rate_ratios, p99_ratios = [], []
    for number, (echo, most) in enumerate(pairs, start=1):
        for r in (echo, most):
            print(f"{number:>3} {r.name:<6} {r.users:>6} {r.updates:>8} {r.wall:>7.2f} {r.rate:>8.1f} "
                  f"{r.percentile_ms(50):>8.1f} {r.percentile_ms(95):>8.1f} {r.percentile_ms(99):>8.1f}", end="")
            if r is most and echo.rate and echo.percentile_ms(99):
                rate_ratios.append(most.rate / echo.rate)
                p99_ratios.append(most.percentile_ms(99) / echo.percentile_ms(99))
                print(f"  updates/s x{rate_ratios[-1]:.2f}, p99 x{p99_ratios[-1]:.2f}", end="")
            print()
    if not rate_ratios:
        return False
    rate_ratio, p99_ratio = statistics.median(rate_ratios), statistics.median(p99_ratios)
    print(f"Most/echo, median of {len(rate_ratios)} runs: updates/s x{rate_ratio:.2f} "
          f"(goal >= 0.70: {'ok' if rate_ratio >= 0.7 else 'MISSED'}), "
          f"p99 x{p99_ratio:.2f} (goal <= 2.00: {'ok' if p99_ratio <= 2 else 'MISSED'})")
    return rate_ratio >= 0.7 and p99_ratio <= 2


def run_in_fresh_process(bot: str, users: int, rounds: int) -> Result:
    """One bot's run in its own interpreter, so neither inherits the other's caches, garbage or settings.

    In one process the echo bot ran faster after Most had: Most keeps aiogram's reply models alive (see
    bot/plumbing/api_session.py), and a bare aiogram bot rebuilds them after every garbage collection."""
    done = subprocess.run(
        [sys.executable, __file__, "--run-one", bot, "--users", str(users), "--rounds", str(rounds)],
        capture_output=True, text=True, check=False,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        result = Result(bot, users)
        result.problems.append(f"the {bot} run failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
        return result
    fields = json.loads(lines[-1])
    result = Result(bot, users, fields["updates"], fields["wall"], fields["latencies"], fields["problems"])
    if fields["errors"]:
        result.problems.append(f"{fields['errors']} errors were logged")
    return result


async def run_one(bot: str, users: int, rounds: int) -> None:
    """The child's side: run one bot and print its result as one JSON line."""
    errors = ErrorCount()
    logging.getLogger().addHandler(errors)
    result = await (run_most if bot == "most" else run_echo)(users, rounds)
    print(json.dumps({"updates": result.updates, "wall": result.wall, "latencies": result.latencies,
                      "problems": result.problems, "errors": errors.count}))


def main_runs(users: int, rounds: int, repeat: int) -> int:
    pairs = []
    for _ in range(repeat):  # alternating, so a noisy minute on a shared machine hits both bots alike
        echo = run_in_fresh_process("echo", users, rounds)
        most = run_in_fresh_process("most", users, rounds)
        pairs.append((echo, most))
    goals_met = report(pairs)
    problems = [f"{r.name}: {problem}" for pair in pairs for r in pair for problem in r.problems]
    for problem in problems[:10]:
        print(f"ERROR: {problem}", file=sys.stderr)
    return 1 if problems or not goals_met else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100, help="simulated users (default 100)")
    parser.add_argument("--rounds", type=int, default=3, help="gut checks per user (default 3)")
    parser.add_argument("--repeat", type=int, default=3, help="echo/Most runs, alternating (default 3)")
    parser.add_argument("--run-one", choices=["echo", "most"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.users < 1 or args.rounds < 1 or args.repeat < 1:
        parser.error("--users, --rounds and --repeat must be at least 1")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("aiosqlite", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if args.run_one:
        asyncio.run(run_one(args.run_one, args.users, args.rounds))
        return
    sys.exit(main_runs(args.users, args.rounds, args.repeat))


if __name__ == "__main__":
    main()
