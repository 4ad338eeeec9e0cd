"""Issue 4's whole journey through buttons: pilot → reminder → debrief → rung 2 → three campaigns → rung 3."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.e2e.conftest import RunningBot
from tests.e2e.fake_telegram import FakeTelegram
from tests.e2e.people import PrivateUser
from tests.e2e.test_campaign_scope import W, ready_partner
from tests.e2e.test_campaigns import SAY

NEXT_CAMPAIGN = {"en": "🚀 Next campaign", "ru": "🚀 Следующая кампания"}


async def scope(user: PrivateUser, locale: str, button: str) -> str:
    """A 2-creator, 14-day campaign starting today, from the card's scope button."""
    w = W[locale]
    await user.press(button)
    await user.press("2")
    await user.send("2 UGC videos")
    await user.press(w["today"])
    await user.press(w["14"])
    await user.send("Both approved")
    await user.press(w["agreed"])
    await user.send("$600")
    await user.press("1")
    await user.press(w["us"])
    await user.press(w["continue"])
    await user.send("Approved first time")
    await user.send("One reshoot")
    await user.send("Brief changes")
    return (await user.press(w["save"])).text


async def due_date_passes_and_debrief(
    user: PrivateUser, telegram: FakeTelegram, running_bot: RunningBot, locale: str
) -> str:
    """Moves the clock past the due date, lets the reminder come, debriefs from it with "expand"."""
    say, w = SAY[locale], W[locale]
    running_bot.clock.advance(timedelta(days=15))
    sent_before = len(telegram.sent_to(user.id))
    assert running_bot.app is not None
    assert await running_bot.app.run_due_reminders() == 1
    reminders = telegram.sent_to(user.id)[sent_before:]
    assert len(reminders) == 1
    await user.press(w["debrief_now"], reminders[0])
    await user.send("Creators were on brief")
    await user.send("Nothing")
    await user.press(say["none"])
    recommendation = await user.press("5")
    assert say["rec_expand"] in recommendation.text
    return (await user.press(say["expand"])).text


@pytest.mark.parametrize("locale", ["en", "ru"])
async def test_pilot_to_rung_three_by_buttons_with_reminders(
    telegram: FakeTelegram, running_bot: RunningBot, locale: str
) -> None:
    say = SAY[locale]
    manager = telegram.private_user("Manager", language_code=locale)
    partner_id = await ready_partner(manager, running_bot, locale)

    saved = await scope(manager, locale, W[locale]["pilot"])
    assert W[locale]["saved"] in saved
    await manager.press(say["log_button"])
    await manager.press(say["at_scope"])
    await manager.press(say["done"])
    outcome = await due_date_passes_and_debrief(manager, telegram, running_bot, locale)
    assert say["rung2_open"] in outcome

    stages = []
    for _ in range(3):
        await manager.send("/partners")
        await manager.press("Bridge")
        await scope(manager, locale, NEXT_CAMPAIGN[locale])
        await due_date_passes_and_debrief(manager, telegram, running_bot, locale)
        stages.append((await running_bot.query("SELECT stage FROM partners WHERE id = ?", (partner_id,)))[0][0])
    assert stages == ["rung2", "rung2", "rung3"]
    assert await running_bot.query("SELECT rung, COUNT(*) FROM campaigns GROUP BY rung") == [(1, 1), (2, 3)]
    assert await running_bot.query("SELECT COUNT(*) FROM campaigns WHERE reminder_sent_at IS NOT NULL") == [(4,)]

    await running_bot.restart()  # start-up runs the reminders again: nothing is due twice
    assert running_bot.app is not None
    assert await running_bot.app.run_due_reminders() == 0
