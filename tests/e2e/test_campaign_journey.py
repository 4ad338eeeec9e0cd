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
LADDER = {
    "en": {
        "rerun": "🔁 Fix and re-run",
        "counted_0": "Ladder: rung 2, 0 of 3 campaigns counted so far; this one counts unless you decide",
        "rerun_saved": "A re-run takes the same place in the plan, so it is not counted: 0 of 3 counted.",
        "needs_2": "Rung 2: 1 of 3 counted. It needs 2 more campaigns before the next rung opens",
        "rung3_open": "Rung 3 is open",
        "card_counted": "Rung 2 of 3: 1 of 3 campaigns counted",
        "card_left_out": "Re-run or paused, not counted: 2",
    },
    "ru": {
        "rerun": "🔁 Исправить и повторить",
        "counted_0": "Лестница: ступень 2, пока засчитано 0 из 3 кампаний. Эта тоже засчитается, если вы не решите",
        "rerun_saved": "Повтор занимает то же место в плане, поэтому не засчитывается: засчитано 0 из 3.",
        "needs_2": "Ступень 2: засчитано 1 из 3. Нужны ещё 2 кампании, прежде чем откроется следующая ступень",
        "rung3_open": "Открыта ступень 3",
        "card_counted": "Ступень 2 из 3: засчитано 1 из 3 кампаний",
        "card_left_out": "Не засчитано (повторы и паузы): 2",
    },
}


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
    recommendation = await due_date_passes_and_recommend(user, telegram, running_bot, locale)
    assert SAY[locale]["rec_expand"] in recommendation
    return (await user.press(SAY[locale]["expand"])).text


async def due_date_passes_and_recommend(
    user: PrivateUser, telegram: FakeTelegram, running_bot: RunningBot, locale: str
) -> str:
    """Moves the clock past the due date, lets the reminder come, debriefs from it up to the recommendation."""
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
    return (await user.press("5")).text


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


async def open_card(user: PrivateUser) -> str:
    await user.send("/partners")
    return (await user.press("Bridge")).text


@pytest.mark.parametrize("locale", ["en", "ru"])
async def test_two_re_runs_and_an_expand_on_rung_2_stay_on_rung_2(
    telegram: FakeTelegram, running_bot: RunningBot, locale: str
) -> None:
    """Issue 15: on rung 2, two re-runs and one expand opened rung 3 after a single success."""
    say, ladder = SAY[locale], LADDER[locale]
    manager = telegram.private_user("Manager", language_code=locale)
    partner_id = await ready_partner(manager, running_bot, locale)
    await scope(manager, locale, W[locale]["pilot"])
    assert say["rung2_open"] in await due_date_passes_and_debrief(manager, telegram, running_bot, locale)

    for _ in range(2):  # rung 2: fix and re-run, twice; each time the card still lets the next one be scoped
        await open_card(manager)
        await scope(manager, locale, NEXT_CAMPAIGN[locale])
        assert await running_bot.query("SELECT rung FROM campaigns WHERE status = 'running'") == [(2,)]
        recommendation = await due_date_passes_and_recommend(manager, telegram, running_bot, locale)
        assert ladder["counted_0"] in recommendation
        await manager.press(ladder["rerun"])  # not what was recommended: the bot asks why
        saved = await manager.send("Drafts need one more pass")
        assert ladder["rerun_saved"] in saved.text

    await open_card(manager)
    await scope(manager, locale, NEXT_CAMPAIGN[locale])
    recommendation = await due_date_passes_and_recommend(manager, telegram, running_bot, locale)
    assert ladder["counted_0"] in recommendation  # the two re-runs took no place in the plan
    outcome = await manager.press(say["expand"])
    assert ladder["needs_2"] in outcome.text and ladder["rung3_open"] not in outcome.text

    card = await open_card(manager)
    assert ladder["card_counted"] in card and ladder["card_left_out"] in card
    assert await running_bot.query("SELECT stage FROM partners WHERE id = ?", (partner_id,)) == [("rung2",)]
    assert await running_bot.query("SELECT rung, decision FROM campaigns c JOIN debriefs d ON d.campaign_id = c.id "
                                   "ORDER BY c.id") == [(1, "expand"), (2, "rerun"), (2, "rerun"), (2, "expand")]
