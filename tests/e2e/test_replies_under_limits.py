"""Handler replies go through the same retries as pushes: 429s waited out, 5xx retried, a step never advancing
past a prompt that did not arrive."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.plumbing.telegram_retries import MAX_ATTEMPTS
from tests.e2e.conftest import RunningBot
from tests.e2e.fake_telegram import FakeTelegram, RateLimits
from tests.e2e.people import Watch
from tests.e2e.vetting_steps import onboard

SPEED = 20.0  # the server's clock and the bot's retry waits run this much faster than the wall clock


def speed_up(telegram: FakeTelegram, running_bot: RunningBot) -> None:
    assert running_bot.app is not None
    start = time.monotonic()
    telegram.now = lambda: 1_800_000_000 + (time.monotonic() - start) * SPEED  # type: ignore[method-assign]

    async def fast_sleep(seconds: float) -> None:
        await asyncio.sleep(seconds / SPEED)

    running_bot.app.retries.sleep = fast_sleep


async def test_ten_quick_helps_under_the_private_chat_limit_get_ten_replies(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    speed_up(telegram, running_bot)
    telegram.throttle(RateLimits())  # Telegram's own: about one message a second in one chat
    user = telegram.private_user("Quick", language_code="en")
    await user.start()
    watch = Watch(telegram, {user.id})
    for _ in range(10):
        await user.send("/help", wait=False)

    def helps() -> list[str]:
        return [c.params["text"] for c in watch.calls() if c.method == "sendMessage" and c.ok
                and "What I can do" in c.params["text"]]

    assert await telegram.wait_until(lambda: len(helps()) >= 10, 60), f"{len(helps())} of 10 replies arrived"
    await watch.settle()
    assert len(helps()) == 10
    refused = [c for c in watch.calls() if c.method == "sendMessage" and not c.ok]
    assert refused and all(c.error and c.error["error_code"] == 429 for c in refused), "the chat was not throttled"


async def test_a_5xx_on_a_prompt_is_retried_and_the_prompt_arrives(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    speed_up(telegram, running_bot)
    user = telegram.private_user("Retry", language_code="en")
    await onboard(user)
    await user.send("/newpartner")
    telegram.fail_next(user.id, 502, "Bad Gateway", times=2)
    reaction = await user.send("Flaky Agency")
    assert "What kind of partner" in reaction.text
    assert (await user.press("Agency")).text.startswith("Kind: Agency")


async def test_a_prompt_that_never_arrives_leaves_the_step_where_it_was(
    telegram: FakeTelegram, running_bot: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    speed_up(telegram, running_bot)
    monkeypatch.setattr("bot.plumbing.intake.RETRY_DELAYS_SECONDS", (0.02,))
    user = telegram.private_user("Down", language_code="ru")
    await onboard(user)
    await user.send("/newpartner")
    # Every attempt of the update fails: the session's retries, then the intake's, then it is set aside.
    telegram.fail_next(user.id, 502, "Bad Gateway", times=MAX_ATTEMPTS * 3 + 1)
    lost = await user.send("Агентство Тень", wait=False)
    assert lost.update_id is not None
    rows: list[tuple] = []
    for _ in range(200):
        rows = await running_bot.query(
            "SELECT set_aside_at FROM received_updates WHERE update_id = ?", (lost.update_id,))
        if rows and rows[0][0]:
            break
        await asyncio.sleep(0.05)
    assert rows and rows[0][0], "the update was never set aside"
    running_bot.allowed_errors = 2  # the failure on the last attempt, and "set aside"
    await Watch(telegram, {user.id}).settle()
    # The conversation did not move on without its prompt: the same answer, sent again, gets it.
    again = await user.send("Агентство Тень")
    assert running_bot.app is not None
    assert running_bot.app.i18n.gettext("What kind of partner is it?", locale="ru") in again.text
    assert await running_bot.query("SELECT count(*) FROM partners") == [(0,)]
