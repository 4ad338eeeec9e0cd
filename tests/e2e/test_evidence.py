"""Evidence on the card: case studies per market, testimonials, community, deleting, and conversation signals."""

from __future__ import annotations

import pytest

from bot.keyboards.callbacks import EvidenceAction, EvidenceCallback
from tests.e2e.conftest import RunningBot
from tests.e2e.fake_telegram import FakeTelegram
from tests.e2e.vetting_steps import CASE_WORDS, add_case, add_partner, onboard

BOTH_MARKETS = {"en": "More than 3 case studies in both markets", "ru": "Больше трёх кейсов на каждом из рынков"}


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
