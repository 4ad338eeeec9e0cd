"""Fan-out of weekly check-in prompts through the outbound lane, against the fake Bot API server.

Phase 1: N groups (default 2,000) whose prompts fall due in the same minute. The real bot
(`bot.app.build_app`, polling the fake server from tests/e2e/fake_telegram.py with Telegram's rate limits
enforced) runs `app.run_checkin_jobs()` once the ManualClock reaches that minute. Reported: messages/s
sustained against the 30/s ceiling, 429s received, prompts lost or duplicated, wall time.
Phase 2: start-up time with M schedules (default 10,000) in the database: build the app, rebuild one
CronTrigger job per schedule, start polling, finish the start-up catch-up.
Peak RSS is the whole process (the bot, the fake server and its stored messages).

    .venv/bin/python bench/fanout.py [--groups 2000] [--schedules 10000]

Exit status 0 when no prompt was lost or duplicated, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import resource
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.app import App, build_app  # noqa: E402
from bot.clock import ManualClock  # noqa: E402
from bot.config import load_settings  # noqa: E402
from bot.domain.checkins import WeeklyTime, next_occurrence  # noqa: E402
from bot.domain.partners import MarketCoverage, PartnerKind  # noqa: E402
from bot.storage.db import connect  # noqa: E402
from bot.storage.partners import NewPartner, PartnerRepo  # noqa: E402
from bot.storage.users import UserRepo  # noqa: E402
from bot.storage.workspaces import WorkspaceRepo  # noqa: E402
from tests.e2e.fake_telegram import FakeTelegram  # noqa: E402

DUE = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)  # Wednesday 10:00 in Moscow
MANAGER_ID = 1_000_001
ZONES = ("Europe/Moscow", "America/New_York", "America/Los_Angeles", "Asia/Almaty", "Europe/Berlin")


async def seed(path: Path, telegram: FakeTelegram | None, count: int, same_minute: bool) -> list[int]:
    """A manager, a partner and `count` groups with a schedule each; returns the group ids."""
    db = await connect(path)
    now = DUE - timedelta(days=1)
    await UserRepo(db).touch(MANAGER_ID, "en", now)
    workspace = await WorkspaceRepo(db).create_for_owner("Bench", MANAGER_ID, now)
    partner_id = await PartnerRepo(db).create(
        workspace.id, NewPartner("BlueWave", PartnerKind.AGENCY, MarketCoverage.BOTH, None, ()), MANAGER_ID, now
    )
    chat_ids = []
    rows = []
    for number in range(count):
        if telegram is not None:
            chat = telegram.group(f"Pilot {number}").chat
            chat.known, chat.bot_status = True, "member"
            chat_id = chat.id
        else:
            chat_id = -(4_000_000_000 + number)
        chat_ids.append(chat_id)
        when = (
            WeeklyTime(2, 10, 0, "Europe/Moscow")
            if same_minute
            else WeeklyTime(number % 7, number % 24, (number * 7) % 60, ZONES[number % len(ZONES)])
        )
        rows.append((chat_id, workspace.id, partner_id, when, next_occurrence(when, now).isoformat()))
    async with db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO chats (id, type, title, locale, active, added_at, updated_at) "
            "VALUES (?, 'group', ?, 'en', 1, ?, ?)",
            [(chat_id, f"Pilot {i}", now.isoformat(), now.isoformat()) for i, chat_id in enumerate(chat_ids)],
        )
        await tx.executemany(
            "INSERT INTO checkin_schedules (chat_id, workspace_id, partner_id, weekday, hour, minute, timezone, "
            "digest_hours, active, next_prompt_at, created_by, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 24, 1, ?, ?, ?, ?)",
            [
                (chat_id, ws, partner, w.weekday, w.hour, w.minute, w.timezone, next_at, MANAGER_ID,
                 now.isoformat(), now.isoformat())
                for chat_id, ws, partner, w, next_at in rows
            ],
        )
    await db.close()
    return chat_ids


async def start(telegram: FakeTelegram, path: Path, clock: ManualClock) -> tuple[App, asyncio.Task[None]]:
    settings = load_settings(
        bot_token=telegram.token,
        bot_api_url=telegram.base_url,
        database_path=path,
        backup_dir=path.parent / "backups",
        log_level="WARNING",
    )
    app = await build_app(settings, clock=clock)
    task = asyncio.create_task(app.run_polling(handle_signals=False))
    await telegram.wait_polling(timeout=120)
    assert app.checkin_startup is not None
    await app.checkin_startup
    return app, task


async def stop(app: App, task: asyncio.Task[None]) -> None:
    await app.stop()
    await asyncio.wait_for(task, 60)


async def fanout(groups: int) -> bool:
    async with FakeTelegram() as telegram:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "most.db"
            chat_ids = await seed(path, telegram, groups, same_minute=True)
            clock = ManualClock(DUE - timedelta(minutes=1))
            app, task = await start(telegram, path, clock)
            telegram.enforce_rate_limits = True
            clock.set(DUE)
            began = time.monotonic()
            report = await app.run_checkin_jobs()
            wall = time.monotonic() - began
            await stop(app, task)

        sends = [c for c in telegram.calls if c.method == "sendMessage" and c.chat_id in set(chat_ids)]
        delivered = [c for c in sends if c.ok]
        per_chat = Counter(c.chat_id for c in delivered)
        lost = sum(1 for chat_id in chat_ids if per_chat[chat_id] == 0)
        duplicated = sum(1 for chat_id in chat_ids if per_chat[chat_id] > 1)
        times = sorted(c.at for c in delivered)
        sustained = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
        rejected = telegram.stats.rejected_429
        print(f"fan-out: {groups} groups due in the same minute")
        print(f"  prompts sent            {report.prompts} (delivered {len(delivered)}, in {wall:.1f} s)")
        print(f"  messages/s sustained    {sustained:.1f} against the 30/s ceiling (goal >= 27)")
        print(f"  429s received           {rejected} = {100 * rejected / max(len(sends), 1):.2f}% of sends "
              "(goal <= 1%)")
        print(f"  prompts lost            {lost}")
        print(f"  prompts duplicated      {duplicated}")
        return lost == 0 and duplicated == 0


async def startup(schedules: int) -> None:
    async with FakeTelegram() as telegram:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "most.db"
            await seed(path, None, schedules, same_minute=False)
            clock = ManualClock(DUE - timedelta(days=1))
            began = time.monotonic()
            app, task = await start(telegram, path, clock)
            elapsed = time.monotonic() - began
            jobs = sum(1 for job in app.scheduler.get_jobs() if job.id.startswith("checkin-"))
            await stop(app, task)
    print(f"start-up with {schedules} schedules: {elapsed:.2f} s ({jobs} check-in jobs rebuilt)")


async def main_async(groups: int, schedules: int) -> int:
    ok = await fanout(groups)
    await startup(schedules)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS (bot + fake server, one process): {peak_mb:.0f} MB")
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groups", type=int, default=2000)
    parser.add_argument("--schedules", type=int, default=10000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    sys.exit(asyncio.run(main_async(args.groups, args.schedules)))


if __name__ == "__main__":
    main()
