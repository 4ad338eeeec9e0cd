"""SIGKILL inside handlers, right after one of their writes: after every restart, nothing duplicated, nothing lost.

`python -m tests.e2e.kill_after_write` is `python -m bot` that kills itself after a random write of an update's
unit of work (see that module); its lives are forked by one server that imported the bot once
(tests/e2e/forked.py), each a process of its own that runs the bot's `main` from its start and dies of a real
SIGKILL. A manager walks the method — workspace, partner, case study, gut check, scorecard, campaign log — by
messages and buttons only; whenever the process dies it is started again and the person just waits, as they would,
for the answer. Flows are repeated with new partners until at least MIN_KILLS kills happened. Then every table
holds exactly one row per thing done: a replay started clean.
"""

from __future__ import annotations

import asyncio
import random
import signal
import sqlite3
from collections.abc import Awaitable, Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.e2e.conftest import seed_from_env
from tests.e2e.fake_telegram import FakeTelegram, StoredMessage
from tests.e2e.forked import ForkServer, Life
from tests.e2e.people import PrivateUser, Reaction, Watch
from tests.e2e.test_process import bot_env

MIN_KILLS = 20
UNHANDLED = "SELECT count(*) FROM received_updates WHERE handled_at IS NULL"
MAX_ROUNDS = 4  # rounds of the flows over new partners, until MIN_KILLS kills happened
KILL_AFTER_WRITES_MAX = 12  # a life ends after 1..12 writes of updates' units of work
ANSWER_TIMEOUT = 60.0


class SelfKillingBot:
    """`python -m tests.e2e.kill_after_write`, life after life, each forked by tests/e2e/forked.py."""

    def __init__(self, server: FakeTelegram, tmp_path: Path, rng: random.Random) -> None:
        self.server = server
        self.tmp_path = tmp_path
        self.rng = rng
        self.forks = ForkServer(tmp_path, bot_env(tmp_path))
        self.process: Life | None = None
        self.kills = 0
        self.stderr = b""

    @property
    def database(self) -> Path:
        return self.tmp_path / "most.db"

    async def start(self) -> None:
        if self.forks.process is None:
            await self.forks.start()
        env = bot_env(self.tmp_path, BOT_TOKEN=self.server.token, BOT_API_URL=self.server.base_url,
                      DATABASE_PATH=str(self.database), KILL_SEED=str(self.rng.randrange(2**32)),
                      KILL_AFTER_WRITES_MAX=str(KILL_AFTER_WRITES_MAX))
        self.process = await self.forks.fork(env, kill_after_write=True)

    async def restart_if_dead(self) -> bool:
        assert self.process is not None
        if self.process.returncode is None:
            return False
        _, stderr = await self.process.communicate()
        self.stderr += stderr
        assert self.process.returncode == -signal.SIGKILL, stderr.decode()[-2000:]
        self.kills += 1
        await self.start()
        return True

    async def finish_replays(self) -> None:
        """Whatever a last kill cut off is handled after one more start (which may itself be killed)."""
        for _ in range(int(ANSWER_TIMEOUT / 0.25)):
            if not await self.restart_if_dead() and not count(self.database, UNHANDLED):
                return
            await asyncio.sleep(0.25)
        raise AssertionError("updates still unhandled after every restart")

    async def stop(self) -> int:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(self.process.communicate(), 30)
        self.stderr += stderr
        await self.forks.close()
        return self.process.returncode or 0


STALE = "This button is out of date"
PRESSES_AGAIN = 3  # out-of-date answers to one step a person taps through before the test gives up


@dataclass(frozen=True)
class Step:
    act: Callable[[PrivateUser, int | None], Awaitable[Reaction]]  # (user, the message the last answer was in)
    expect: str
    pressed: bool = False


def say(text: str, expect: str) -> Step:
    return Step(lambda user, _screen: user.send(text, wait=False), expect)


def press(label: str, expect: str) -> Step:
    """On the screen that showed the last answer, as a person would. A replay sends its messages again (they are
    at-least-once), so that may not be the newest message; when it no longer has the button, the newest that does."""

    def act(user: PrivateUser, screen: int | None) -> Awaitable[Reaction]:
        shown_on = user.server.message(user.id, screen) if screen else None
        if shown_on is None or shown_on.deleted or not has_button(shown_on, label):
            shown_on = next((m for m in reversed(user.server.sent_to(user.id)) if has_button(m, label)), None)
        return user.press(label, shown_on, wait=False)

    return Step(act, expect, pressed=True)


def has_button(message: StoredMessage, label: str) -> bool:
    return any(label in text for text, _ in message.buttons)


def answer_screen(watch: Watch, expect: str) -> int | None:
    """The message the step's answer was shown in (sent or edited), the latest if several."""
    ids = [call.result.get("message_id") for call in watch.calls()
           if call.ok and isinstance(call.result, dict) and expect in (call.result.get("text") or "")]
    return ids[-1] if ids else None


def shown(watch: Watch) -> str:
    results = [call.result for call in watch.calls() if call.ok and isinstance(call.result, dict)]
    return "\n".join(r.get("text") or r.get("caption") or "" for r in results)


def out_of_date(watch: Watch) -> int:
    return sum(call.method == "answerCallbackQuery" and STALE in (call.params.get("text") or "")
               for call in watch.calls())


async def play(telegram: FakeTelegram, bot: SelfKillingBot, user: PrivateUser, steps: list[Step]) -> None:
    """Each step once; whatever dies on the way is restarted, and the step's answer must still come.

    A flow started by a press (aiogram-dialog) names its records in its buttons: when the start is cut off after its
    message went out, the replay sends the step again with new records, and the first copy's buttons are out of
    date. Pressed there, the answer is the out-of-date pop-up, and the person taps the same button on the newest
    message that has it, as they would."""
    screen: int | None = None
    for step in steps:
        watch = Watch(telegram, {user.id})
        await step.act(user, screen)
        waited, pressed_again = 0.0, 0
        while step.expect not in shown(watch):
            if step.pressed and out_of_date(watch) > pressed_again:
                pressed_again += 1
                assert pressed_again <= PRESSES_AGAIN, f"{step.expect!r}: out of date {pressed_again} times"
                await step.act(user, None)
                continue
            if not await bot.restart_if_dead():
                await telegram.wait_until(lambda: step.expect in shown(watch), 0.25)  # noqa: B023
                waited += 0.25
            assert waited < ANSWER_TIMEOUT, f"no {step.expect!r} after {waited:.0f} s; shown: {shown(watch)[-300:]!r}"
        screen = answer_screen(watch, step.expect)
        await watch.settle()
        await bot.restart_if_dead()


def vetting(partner: str) -> list[Step]:
    ratings = [press("4", f"· {n}/9") for n in range(2, 10)] + [press("4", "Your weighted total")]
    return [
        say("/newpartner", "partner's name"),
        say(partner, "What kind of partner"),
        press("Agency", "Which markets"),
        press("Russia + 🇺🇸 USA", "A contact for them"),
        press("Skip", "Links to their work"),
        press("Skip", f"Partner saved: {partner}"),
        press("📚 Evidence", f"Evidence: {partner}"),
        press("➕ Case study", "Which market was it in"),
        press("🇷🇺 Russia", "Which brand"),
        say(f"Brand of {partner}", "How did it end"),
        press("success", "How many months"),
        say("8", "A link to the case"),
        press("Skip", "Case study added"),
        press("« Card", "Stage: candidate"),
        press("✅ Gut check", "Question 1 of 3"),
        press("✅ Yes", "Question 2 of 3"),
        press("✅ Yes", "Question 3 of 3"),
        press("✅ Yes", "Send a short note"),
        press("Skip the note", "ready for a pilot"),
        press("📊 Scorecard", "· 1/9"),
        *ratings,
    ]


def campaign_log(partner: str) -> list[Step]:
    return [
        say("/partners", "Tap a partner"),
        press(partner, "Stage: ready for a pilot"),
        press("Log event", "Campaign log"),
        press("Deadline met", "Logged for"),
        press("Done, no note", "Stage: ready for a pilot"),
    ]


def start_campaign(database: Path, partner: str) -> None:
    """Scoping a pilot has its own tests; here the running campaign is put in place as an operator would."""
    start = date(2026, 11, 20)
    with closing(sqlite3.connect(database)) as conn, conn:
        conn.execute(
            "INSERT INTO campaigns (partner_id, rung, creators, deliverable, start_date, days, due_date, metrics, "
            "metrics_agreed, payment_terms, revision_limit, creators_market, charter_success, charter_failure, "
            "charter_renegotiate, created_at) SELECT id, 1, 1, '3 UGC videos', ?, 14, ?, 'views', 1, '50/50', 1, "
            "'both', 'ok', 'late', 'week 2', ? FROM partners WHERE name = ?",
            (start.isoformat(), (start + timedelta(days=14)).isoformat(), start.isoformat(), partner),
        )


def count(database: Path, sql: str) -> int:
    with closing(sqlite3.connect(database)) as conn:
        return int(conn.execute(sql).fetchone()[0])


@pytest.mark.long
async def test_sigkill_after_writes_inside_handlers_duplicates_nothing_and_loses_nothing(
    telegram_for_crashes: FakeTelegram, tmp_path: Path
) -> None:
    telegram = telegram_for_crashes
    seed = seed_from_env("KILL_SEED", "tests/e2e/test_kill_after_write.py")
    bot = SelfKillingBot(telegram, tmp_path, random.Random(seed))
    await bot.start()
    await telegram.wait_polling(30)
    user = telegram.private_user("Kira", language_code="en")
    rounds = 0
    try:
        await play(telegram, bot, user, [Step(lambda u, _screen: u.start(wait=False), "a name for your workspace"),
                                         say("Kill Lab", "Vet a partner")])
        while rounds < MAX_ROUNDS and (rounds == 0 or bot.kills < MIN_KILLS):
            rounds += 1
            partner = f"Agency {rounds}"
            await play(telegram, bot, user, vetting(partner))
            start_campaign(bot.database, partner)
            await play(telegram, bot, user, campaign_log(partner))
        await bot.finish_replays()
    finally:
        returncode = await bot.stop()
    print(f"seed={seed}: {bot.kills} kills over {rounds} rounds")

    assert bot.kills >= MIN_KILLS, f"seed={seed}: only {bot.kills} kills; the test did not test much"
    db = bot.database
    assert count(db, "SELECT count(*) FROM workspaces") == 1
    assert count(db, "SELECT count(*) FROM partners") == rounds
    assert count(db, "SELECT count(*) FROM case_studies") == rounds
    assert count(db, "SELECT count(*) FROM gut_checks") == rounds
    assert count(db, "SELECT count(*) FROM gut_checks WHERE passed = 1") == rounds
    assert count(db, "SELECT count(*) FROM scorecards") == rounds
    assert count(db, "SELECT count(*) FROM campaign_events") == rounds
    assert count(db, UNHANDLED) == 0
    assert count(db, "SELECT count(*) FROM fsm_states WHERE state IS NOT NULL") == 0
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert returncode == 0
    log = bot.stderr.decode()
    trouble = max(log.find("Traceback"), log.find(" ERROR "))
    assert trouble < 0, log[max(trouble - 1500, 0) : trouble + 1500]
    assert telegram.token.partition(":")[2] not in log
