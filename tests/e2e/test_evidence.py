"""Evidence on the card: case studies per market, testimonials, community, deleting, and conversation signals."""

from __future__ import annotations

import asyncio

import pytest

from bot.keyboards.callbacks import EvidenceAction, EvidenceCallback
from tests.e2e.conftest import RunningBot
from tests.e2e.fake_telegram import FakeTelegram
from tests.e2e.vetting_steps import CASE_WORDS, add_case, add_partner, onboard

BOTH_MARKETS = {"en": "More than 3 case studies in both markets", "ru": "Больше трёх кейсов на каждом из рынков"}


async def conversation_records(running_bot: RunningBot) -> list[tuple]:
    """The FSM storage's rows once every update is handled: the bot commits after its last reply, so a query made
    as soon as the reply is seen could still read the rows of before."""
    for _ in range(200):
        if await running_bot.query("SELECT count(*) FROM received_updates WHERE handled_at IS NULL") == [(0,)]:
            break
        await asyncio.sleep(0.05)
    return await running_bot.query("SELECT key FROM fsm_states")


@pytest.mark.parametrize("locale", ["en", "ru"])
async def test_case_studies_turn_on_the_both_markets_signal_only_past_three_each(
    telegram: FakeTelegram, running_bot: RunningBot, locale: str
) -> None:
    user = telegram.private_user("Anna", language_code=locale)
    await onboard(user)
    await add_partner(user, "Bridge Media", locale)
    await user.press(CASE_WORDS[locale]["evidence"])
    for i in range(4):
        await add_case(user, locale, "ru", f"Бренд {i}", months=3)
    for i in range(3):
        await add_case(user, locale, "us", f"Brand {i}", outcome="failure" if i == 0 else "success", months=9)
    card = await user.press(CASE_WORDS[locale]["card"])
    assert f"▫️ {BOTH_MARKETS[locale]}" in card.text  # 4 RU, 3 US: not yet
    await user.press(CASE_WORDS[locale]["evidence"])
    await add_case(user, locale, "us", "Brand 3", link="https://brand3.example.com/case")
    card = await user.press(CASE_WORDS[locale]["card"])
    assert f"✅ {BOTH_MARKETS[locale]}" in card.text
    assert await running_bot.query("SELECT market, COUNT(*) FROM case_studies GROUP BY market ORDER BY market") == [
        ("ru", 4), ("us", 4)
    ]


async def test_bad_input_in_the_case_form_gets_hints(telegram: FakeTelegram, running_bot: RunningBot) -> None:
    user = telegram.private_user("Kate", language_code="en")
    await onboard(user)
    await add_partner(user, "Bridge", "en")
    await user.press("Evidence")
    await user.press("➕ Case study")
    hint = await user.send("Russia")
    assert "choose the market" in hint.text
    await user.press("🇺🇸 USA")
    assert "Please type" in (await user.send_sticker()).text
    await user.send("Glossier")
    await user.press("failure")
    for bad in ("eight", "-3", "999"):
        assert "whole number of months" in (await user.send(bad)).text
    await user.send("14")
    assert "does not look like a link" in (await user.send("javascript:alert(1)")).text
    saved = await user.send("glossier.com/case")
    assert "Case study added: Glossier" in saved.text
    assert await running_bot.query("SELECT market, brand, outcome, months, link FROM case_studies") == [
        ("us", "Glossier", "failure", 14, "https://glossier.com/case")
    ]


async def test_testimonial_community_delete_and_signals(telegram: FakeTelegram, running_bot: RunningBot) -> None:
    user = telegram.private_user("Oleg", language_code="ru")
    await onboard(user)
    await add_partner(user, "Мост Медиа", "ru")
    await user.press("Кейсы и отзывы")
    await user.press("➕ Отзыв")
    await user.send("Сдали всё вовремя и <b>без</b> сюрпризов")
    saved = await user.send("Мария, бренд-менеджер")
    assert "Сдали всё вовремя и <b>без</b> сюрпризов" in saved.text  # shown literally, not as markup
    await user.press("➕ Сообщество")
    await user.send("Ведут открытый чат UGC-креаторов")
    await user.press("Пропустить")
    shown = await user.press("🗑 Удалить")
    assert "Нажмите на пункт" in shown.text
    after = await user.press("🗑 Сдали")
    assert "Отзывы клиентов (0)" in after.text
    assert await running_bot.query("SELECT COUNT(*) FROM testimonials") == [(0,)]
    await user.press("Готово")
    await user.press("« Карточка")
    signals = await user.press("💬 Сигналы")
    assert "▫️ Рассказывали о своих провалах" in signals.text or any(
        "▫️ Рассказывали" in t for t, _ in signals.edits[-1].buttons
    )
    toggled = await user.press("Рассказывали о своих провалах")
    assert any(t.startswith("✅ Рассказывали") for t, _ in toggled.edits[-1].buttons)
    card = await user.press("« Карточка")
    assert "✅ Рассказывали о своих провалах" in card.text
    assert await running_bot.query("SELECT talked_failures FROM partners") == [(1,)]


async def test_forged_delete_from_another_workspace_deletes_nothing(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    owner = telegram.private_user("Owner", language_code="en")
    await onboard(owner)
    await add_partner(owner, "Target", "en")
    await owner.press("Evidence")
    await add_case(owner, "en", "ru", "Brand")
    intruder = telegram.private_user("Intruder", language_code="en")
    await onboard(intruder, "Other team")
    partner_id, case_id = (await running_bot.query("SELECT partner_id, id FROM case_studies"))[0]
    forged = EvidenceCallback(action=EvidenceAction.DELETE, partner_id=partner_id, kind="case", item_id=case_id)
    reaction = await intruder.press_data(forged.pack(), intruder.last_message().message_id)
    assert "Partner not found" in reaction.text
    assert await running_bot.query("SELECT COUNT(*) FROM case_studies") == [(1,)]


async def test_the_case_form_keeps_one_message_and_its_old_buttons_are_a_pop_up(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    """The case form runs as an aiogram-dialog Dialog: presses edit its message (answered once, nothing refused), a
    button of an earlier step or a forged choice is a pop-up that changes nothing, a finished form leaves no record
    and its buttons are a pop-up too."""
    user = telegram.private_user("Anna", language_code="en")
    await onboard(user)
    await add_partner(user, "Bridge", "en")
    await user.press("Evidence")
    started = await user.press("➕ Case study")
    [step] = started.messages
    usa = next(data for text, data in step.buttons if text == "🇺🇸 USA")
    pressed = await user.press("🇺🇸 USA")
    assert "Market: 🇺🇸 USA" in pressed.text and "Which brand" in pressed.text
    assert not pressed.messages and [m.message_id for m in pressed.edits] == [step.message_id]
    outcomes = await user.send("Glossier")
    [outcome_step] = outcomes.messages
    success = next(data for text, data in outcome_step.buttons if text == "success")
    for data, notice in ((usa, "earlier step"), (success.rsplit(":", 1)[0] + ":bogus", "out of date")):
        stale = await user.press_data(data, outcome_step.message_id)
        assert notice in stale.popup and not stale.messages and not stale.edits and not stale.errors, data
    assert "Outcome: success" in (await user.press("success")).text
    await user.send("8")
    saved = await user.press("Skip")
    assert "Case study added: Glossier" in saved.text and not saved.messages and not saved.errors
    assert await conversation_records(running_bot) == [], "a finished form leaves no record"
    again = await user.press_data(success, outcome_step.message_id)
    assert "out of date" in again.popup and not again.messages
    assert await running_bot.query("SELECT brand, months, link FROM case_studies") == [("Glossier", 8, None)]


@pytest.mark.parametrize("form", ["➕ Case study", "➕ Testimonial", "➕ Community"])
async def test_cancel_mid_form_says_nothing_was_added_and_leads_back_to_the_card(
    telegram: FakeTelegram, running_bot: RunningBot, form: str
) -> None:
    user = telegram.private_user("Oleg", language_code="en")
    await onboard(user)
    await add_partner(user, "Bridge", "en")
    await user.press("Evidence")
    await user.press(form)
    if form == "➕ Case study":
        await user.press("🇷🇺 Russia")
    await user.send("Acme")
    cancelled = await user.send("/cancel")
    note = cancelled.messages[-1]
    assert note.text == "Cancelled: nothing was added to the evidence."
    assert [text for text, _ in note.buttons] == ["« Card"]
    assert await conversation_records(running_bot) == [], "a closed form leaves no record"
    card = await user.press("« Card")
    assert "Bridge" in card.text
    counts = "SELECT (SELECT COUNT(*) FROM case_studies) + (SELECT COUNT(*) FROM testimonials)"
    assert await running_bot.query(counts + " + (SELECT COUNT(*) FROM community_activities)") == [(0,)]


async def test_a_restart_mid_form_keeps_the_step_and_the_draft(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    user = telegram.private_user("Kate", language_code="ru")
    await onboard(user)
    await add_partner(user, "Мост", "ru")
    await user.press("Кейсы и отзывы")
    await user.press("➕ Сообщество")
    await user.send("Ведут открытый чат креаторов")
    await running_bot.restart()
    saved = await user.send("https://t.me/ugc_chat")
    assert "Ведут открытый чат креаторов · https://t.me/ugc_chat" in saved.text
    assert await running_bot.query("SELECT text, link FROM community_activities") == [
        ("Ведут открытый чат креаторов", "https://t.me/ugc_chat")
    ]
