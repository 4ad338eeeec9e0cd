"""Issue 3's whole journey through buttons only, once per language, plus the team view of a shared partner."""

from __future__ import annotations

import re

import pytest

from bot.keyboards.callbacks import PartnerAction, PartnerCallback
from tests.e2e.conftest import RunningBot
from tests.e2e.fake_telegram import FakeTelegram
from tests.e2e.test_assessments import SAY
from tests.e2e.vetting_steps import CASE_WORDS, add_case, add_partner, onboard

BOTH_MARKETS = {"en": "More than 3 case studies in both markets", "ru": "Больше трёх кейсов на каждом из рынков"}


@pytest.mark.parametrize("locale", ["en", "ru"])
async def test_from_new_partner_to_ready_for_a_pilot(
    telegram: FakeTelegram, running_bot: RunningBot, locale: str
) -> None:
    say, words = SAY[locale], CASE_WORDS[locale]
    manager = telegram.private_user("Manager", language_code=locale)
    await onboard(manager)
    await add_partner(manager, "Two Shores Agency", locale)

    await manager.press(words["evidence"])
    for i in range(4):
        await add_case(manager, locale, "ru", f"Бренд {i}", outcome="failure" if i == 0 else "success", months=7)
        await add_case(manager, locale, "us", f"Brand {i}")
    card = await manager.press(words["card"])
    assert f"✅ {BOTH_MARKETS[locale]}" in card.text

    await manager.press(say["gut"])
    await manager.press(say["yes"])
    await manager.press(say["yes"])
    await manager.press(say["no"])
    verdict = await manager.press(say["skip_note"])
    assert say["stage_failed"] in verdict.text  # 2/3 keeps the partner out of the pilot stage
    assert await running_bot.query("SELECT stage FROM partners") == [("gut_failed",)]

    await manager.press(say["gut"])
    for _ in range(3):
        await manager.press(say["yes"])
    verdict = await manager.press(say["skip_note"])
    assert say["stage_ready"] in verdict.text

    await manager.press(say["scorecard"])
    reaction = None
    for _ in range(9):
        reaction = await manager.press("4")
    assert reaction is not None
    assert say["ready_step"] in reaction.text
    assert await running_bot.query("SELECT stage FROM partners") == [("ready_pilot",)]
    assert await running_bot.query("SELECT COUNT(*), SUM(passed) FROM gut_checks") == [(2, 1)]


async def test_an_invited_teammate_sees_the_partner_and_an_outsider_cannot(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    owner = telegram.private_user("Owner", language_code="en")
    await onboard(owner, "Bridge Team")
    await add_partner(owner, "Shared Partner", "en")
    await owner.send("/team")
    invite = await owner.press("Create invite link")
    token = re.search(r"start=(join_[A-Za-z0-9_-]+)", invite.text)
    assert token is not None

    teammate = telegram.private_user("Teammate", language_code="ru")
    joined = await teammate.start(token.group(1))
    assert "Bridge Team" in joined.text
    listing = await teammate.send("/partners")
    assert any("Shared Partner" in text for text, _ in listing.messages[-1].buttons)
    card = await teammate.press("Shared Partner")
    assert "Shared Partner" in card.text

    outsider = telegram.private_user("Outsider", language_code="en")
    await onboard(outsider, "Elsewhere")
    partner_id = (await running_bot.query("SELECT id FROM partners"))[0][0]
    before = await running_bot.query("SELECT stage, archived, talked_failures FROM partners")
    for action in (PartnerAction.OPEN, PartnerAction.ARCHIVE, PartnerAction.SIGNALS, PartnerAction.GUT_CHECK):
        forged = PartnerCallback(action=action, partner_id=partner_id).pack()
        reaction = await outsider.press_data(forged, outsider.last_message().message_id)
        assert "Partner not found" in reaction.text
        assert "Shared Partner" not in reaction.text
    assert await running_bot.query("SELECT stage, archived, talked_failures FROM partners") == before
