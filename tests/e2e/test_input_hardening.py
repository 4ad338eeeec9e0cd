"""Input the parsers used to let through (issue 14), at every numeric prompt and in every button that carries a
number, in both languages; zero-width names refused, bidi overrides never shown.

Numbers: "²".isdigit() is true while int("²") raises (it crashed /away, a typed reference rating and a forged rq1
press); int() silently reads "１２" and "٣"; pydantic's lax int fields took "+5", " 5", "5_000", "-0" and ids past
SQLite's 64 bits. Each must get the step's localized hint naming its range (or the stale-button answer for a press),
with no traceback (the `running_bot` fixture fails on any ERROR line), no update set aside, and the step kept.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.filters.callback_data import CallbackData

from bot.domain.evidence import ConversationSignal
from bot.keyboards.callbacks import EvidenceAction, EvidenceCallback, PartnerAction, PartnerCallback, SignalCallback
from bot.keyboards.checkin_callbacks import AwayCallback
from bot.keyboards.reference_callbacks import ReferenceAction, ReferenceCallback
from bot.keyboards.report_callbacks import PersonalDataAction, PersonalDataCallback
from bot.storage.invites import InviteRepo
from tests.e2e.conftest import RunningBot
from tests.e2e.fake_telegram import FakeTelegram
from tests.e2e.people import Group, PrivateUser, Reaction, act, keyboard_message, push_callback
from tests.e2e.test_campaign_scope import W as SCOPE_WORDS
from tests.e2e.test_campaign_scope import ready_partner
from tests.e2e.test_campaigns import SAY as CAMPAIGN_WORDS
from tests.e2e.test_campaigns import open_card, partner_with_pilot
from tests.e2e.test_checkins import partnership
from tests.e2e.vetting_steps import CASE_WORDS, WORDS, add_partner, onboard

# The numbers of issue 14: superscript, Arabic-Indic, full-width, negative zero, exponent, past 64 bits.
BAD_NUMBERS = ("²", "٣", "１２", "-0", "1e3", "99999999999999999999")
# And what pydantic's lax int mode took in callback data.
BAD_IN_CALLBACKS = (*BAD_NUMBERS, "+5", " 5", "5_000", "5.0", "-1", "9223372036854775808")
# A time button carries "0930"; forged ones of the same length.
FOUR_DIGIT_TRICKS = ("１２３０", "²²²²", "٠٩٣٠", "+930", " 930", "-930", "9_30", "1e03")
RLO = "\u202e"

HINTS = {
    "en": {
        "creators": "whole number of creators from 1 to 50",
        "date": "could not read that as a date",
        "days": "whole number of days from 1 to 365",
        "revisions": "whole number of revision rounds from 0 to 20",
        "market_q": "Which market are the creators in?",
        "case_months": "whole number of months from 0 to 600",
        "link_q": "A link to the case",
        "rating": "Please rate from 1 to 5",
        "reference_months": "whole number of months from 0 to 600",
        "reference_rating": "Please rate from 1 to 5",
        "time": "I need a time like 09:30",
        "hours": "whole number of hours from 1 to 144",
        "away": "number of weeks from 1 to 12",
        "stale": "This button is out of date",
        "text": "I need a short text here",
        "partner_q": "which partnership is it for?",
        "day": "Wednesday",
        "zone": "New York",
        "hours_q": "Step 5 of 6",
        "doc_q": "Step 6 of 6",
        "evidence": "Evidence",
        "scorecard": "📊 Scorecard",
        "gut": "✅ Gut check",
        "yes": "✅ Yes",
        "skip_note": "Skip the note",
    },
    "ru": {
        "creators": "целое число креаторов от 1 до 50",
        "date": "Не получилось прочитать дату",
        "days": "целое число дней от 1 до 365",
        "revisions": "целое число кругов правок от 0 до 20",
        "market_q": "На каком рынке креаторы?",
        "case_months": "целое число месяцев от 0 до 600",
        "link_q": "Ссылка на кейс",
        "rating": "Нужна оценка от 1 до 5",
        "reference_months": "целое число месяцев от 0 до 600",
        "reference_rating": "Поставьте оценку от 1 до 5",
        "time": "Нужно время в 24-часовом формате",
        "hours": "целое число часов от 1 до 144",
        "away": "число недель от 1 до 12",
        "stale": "Эта кнопка устарела",
        "text": "Здесь нужен короткий текст",
        "partner_q": "для какого партнёрства?",
        "day": "Среда",
        "zone": "Нью-Йорк",
        "hours_q": "Шаг 5 из 6",
        "doc_q": "Шаг 6 из 6",
        "evidence": "Кейсы и отзывы",
        "scorecard": "📊 Оценочная карта",
        "gut": "✅ Быстрая проверка",
        "yes": "✅ Да",
        "skip_note": "Без заметки",
    },
}


async def nothing_set_aside(running_bot: RunningBot) -> None:
    assert await running_bot.query("SELECT count(*) FROM received_updates WHERE set_aside_at IS NOT NULL") == [(0,)]


async def group_press_data(telegram: FakeTelegram, group: Group, user: PrivateUser, data: str,
                           message_id: int) -> Reaction:
    """A press in a group with arbitrary data, as a modified client could send."""
    target = keyboard_message(telegram, group.id, message_id)
    return await act(telegram, {group.id}, lambda: push_callback(telegram, group.chat, user.user, target, data),
                     f"forged {data!r}")


async def each_refused(say: Any, hint: str, inputs: tuple[str, ...] = BAD_NUMBERS) -> None:
    """Every input gets an answer naming the accepted range."""
    for text in inputs:
        reaction: Reaction = await say(text)
        assert hint in reaction.text, f"{text!r}: {reaction.text!r}"
        assert not reaction.errors, f"{text!r}: {reaction.errors}"


@pytest.mark.parametrize("locale", ["en", "ru"])
async def test_tricky_numbers_in_the_pilot_scope_get_the_range_and_keep_the_step(
    telegram: FakeTelegram, running_bot: RunningBot, locale: str
) -> None:
    w, h = SCOPE_WORDS[locale], HINTS[locale]
    user = telegram.private_user("Anna", language_code=locale)
    await ready_partner(user, running_bot, locale)
    await user.press(w["pilot"])
    await each_refused(user.send, h["creators"])
    assert w["deliverable_q"] in (await user.press("2")).text
    assert w["start_q"] in (await user.send("2 UGC videos")).text
    await each_refused(user.send, h["date"], (*BAD_NUMBERS, "１.１２.２０２６", "٣.٣.٢٠٢٦", "2026-1２-01"))
    assert w["days_q"] in (await user.press(w["today"])).text
    await each_refused(user.send, h["days"])
    assert w["metrics_q"] in (await user.press(w["14"])).text
    await user.send("Both approved")
    assert w["payment_q"] in (await user.press(w["agreed"])).text
    await user.send("$600")
    await each_refused(user.send, h["revisions"])
    assert h["market_q"] in (await user.send("0")).text  # the step was kept: a plain number still moves on
    await nothing_set_aside(running_bot)


@pytest.mark.parametrize("locale", ["en", "ru"])
async def test_tricky_numbers_for_case_months_and_scorecard_ratings(
    telegram: FakeTelegram, running_bot: RunningBot, locale: str
) -> None:
    h, words, case = HINTS[locale], WORDS[locale], CASE_WORDS[locale]
    user = telegram.private_user("Kate", language_code=locale)
    await onboard(user)
    await add_partner(user, "Bridge", locale)
    await user.press(h["evidence"])
    await user.press("➕ " + case["case"])
    await user.press(words["us"])
    await user.send("Glossier")
    await user.press(case["success"])
    await each_refused(user.send, h["case_months"])
    assert h["link_q"] in (await user.send("08")).text
    assert await running_bot.query("SELECT 1 FROM partners") == [(1,)]

    await user.send("/partners")
    await user.press("Bridge")
    await user.press(h["gut"])
    for _ in range(3):
        await user.press(h["yes"])
    await user.press(h["skip_note"])
    assert "1/9" in (await user.press(h["scorecard"])).text
    await each_refused(user.send, h["rating"])
    assert "2/9" in (await user.send("4")).text
    await nothing_set_aside(running_bot)


@pytest.mark.parametrize("locale", ["en", "ru"])
async def test_tricky_numbers_for_the_debrief_quality(telegram: FakeTelegram, running_bot: RunningBot,
                                                     locale: str) -> None:
    say, h = CAMPAIGN_WORDS[locale], HINTS[locale]
    user = telegram.private_user("Anna", language_code=locale)
    await partner_with_pilot(user, running_bot, locale)
    await open_card(user, "Bridge Media")
    await user.press(say["debrief_button"])
    await user.send("Creators were on brief")
    await user.send("Drafts came late")
    assert say["step4"] in (await user.press(say["none"])).text
    await each_refused(user.send, h["rating"])
    assert say["rec_expand"] in (await user.send("4")).text
    await nothing_set_aside(running_bot)


@pytest.mark.parametrize("locale", ["en", "ru"])
async def test_tricky_numbers_typed_and_forged_in_the_reference_questionnaire(
    telegram: FakeTelegram, running_bot: RunningBot, locale: str
) -> None:
    h = HINTS[locale]
    mia = telegram.private_user("Mia", language_code="en")
    await onboard(mia, "Acme")
    await add_partner(mia, "Nord", "en")
    await mia.press("🗣 References")
    await mia.press("➕ Request a reference")
    link = await mia.press("Skip")
    payload = link.text.split("?start=")[1].split()[0]

    creator = telegram.private_user("Zoe", language_code=locale)
    opened = await creator.start(payload)
    await each_refused(creator.send, h["reference_months"])
    assert ("Question 2 of 8" if locale == "en" else "Вопрос 2 из 8") in (await creator.send("8")).text
    await creator.press("🇷🇺 " + ("Russia" if locale == "en" else "Россия"))
    await each_refused(creator.send, h["reference_rating"])
    live = creator.last_message()
    assert live is not None and opened.messages
    four = next(data for text, data in live.buttons if text == "4")
    for value in BAD_IN_CALLBACKS:  # the rating button's data with another value (an rq1 press crashed on "²")
        forged = await creator.press_data(four.rpartition(":")[0] + ":" + value, live.message_id)
        assert forged.answer is not None and not forged.errors, value
    assert await running_bot.query("SELECT count(*) FROM reference_answers") == [(0,)]
    assert ("Consistency: 4 of 5 ✓" if locale == "en" else "Постоянство: 4 из 5 ✓") in (await creator.send("4")).text
    await nothing_set_aside(running_bot)


@pytest.mark.parametrize("locale", ["en", "ru"])
async def test_tricky_numbers_in_the_check_in_set_up_and_away(telegram: FakeTelegram, running_bot: RunningBot,
                                                             locale: str) -> None:
    h = HINTS[locale]
    anna, group = await partnership(telegram, locale)
    await group.add_bot(by=anna)
    # The set-up runs in private (the group never sees the partner list); a forged press at each step gets the
    # stale-button answer and the step stays where it was.
    assert h["partner_q"] in (await anna.send("/checkin")).text

    async def forge_at_this_step(widget: str) -> None:
        """The step's choices with data a modified client could send: the dialog's own format (its intent id, the
        widget, the item), taken from a real button of the step."""
        screen = anna.last_message()
        intent = next(data for _text, data in screen.buttons if data).partition("\x1d")[0]
        state = await running_bot.query("SELECT key, state, data FROM fsm_states WHERE key LIKE ?", (f"%:{anna.id}:%",))
        values = FOUR_DIGIT_TRICKS if widget == "time" else BAD_IN_CALLBACKS
        for value in values:
            forged = await anna.press_data(f"{intent}\x1d{widget}:{value}", screen.message_id)
            assert h["stale"] in forged.popup and not forged.messages and not forged.edits and not forged.errors, (
                widget, value)
        assert state and await running_bot.query(
            "SELECT key, state, data FROM fsm_states WHERE key LIKE ?", (f"%:{anna.id}:%",)) == state, widget

    await forge_at_this_step("page")
    await forge_at_this_step("partner")
    for value in BAD_IN_CALLBACKS:  # the partner card's button, forged
        forged = await anna.press_data(f"cw1:{value}", anna.last_message().message_id)
        assert h["stale"] in forged.popup and not forged.messages and not forged.errors, value
    await anna.press("BlueWave")
    await forge_at_this_step("day")
    await anna.press(h["day"])
    await forge_at_this_step("time")
    await each_refused(anna.send, h["time"], (*BAD_NUMBERS, "１２:３０", "٠٩:٣٠", "1２:30"))
    await anna.send("09:30")
    await forge_at_this_step("zone")
    assert h["hours_q"] in (await anna.press(h["zone"])).text
    await forge_at_this_step("hours")
    await each_refused(anna.send, h["hours"])
    assert h["doc_q"] in (await anna.send("24")).text

    await each_refused(lambda text: group.send(anna, f"/away {text}"), h["away"], (*BAD_NUMBERS, "-1", "+2"))
    away = await group.send(anna, "/away")
    for value in BAD_IN_CALLBACKS:
        forged = await group_press_data(telegram, group, anna, f"aw1:{value}", away.messages[0].message_id)
        assert h["stale"] in forged.popup and not forged.messages and not forged.errors, value
    assert await running_bot.query("SELECT count(*) FROM checkin_people WHERE away_until IS NOT NULL") == [(0,)]
    await nothing_set_aside(running_bot)


def number_fields(factory: CallbackData) -> list[int]:
    """Positions (after the prefix) of the factory's int fields."""
    names = list(type(factory).model_fields)
    return [i + 1 for i, name in enumerate(names) if isinstance(getattr(factory, name), int)
            and not isinstance(getattr(factory, name), bool)]


def every_number_factory(partner_id: int, campaign_id: int, user_id: int) -> list[CallbackData]:
    """One real-looking button of every CallbackData factory whose fields carry a number."""
    return [
        PartnerCallback(action=PartnerAction.OPEN, partner_id=partner_id, page=1),
        EvidenceCallback(action=next(iter(EvidenceAction)), partner_id=partner_id, kind="case", item_id=1),
        SignalCallback(partner_id=partner_id, signal=next(iter(ConversationSignal))),
        ReferenceCallback(action=next(iter(ReferenceAction)), partner_id=partner_id, link_id=1),
        PersonalDataCallback(action=next(iter(PersonalDataAction)), issued=1),
        AwayCallback(weeks=2),
    ]


@pytest.mark.long
@pytest.mark.parametrize("locale", ["en", "ru"])
async def test_every_number_in_callback_data_respelt_gets_the_stale_answer(
    telegram: FakeTelegram, running_bot: RunningBot, locale: str
) -> None:
    h = HINTS[locale]
    user = telegram.private_user("Anna", language_code=locale)
    partner_id, campaign_id = await partner_with_pilot(user, running_bot, locale)
    await open_card(user, "Bridge Media")
    card = user.last_message()
    assert card is not None
    before = await running_bot.query("SELECT (SELECT count(*) FROM campaign_events), (SELECT count(*) FROM partners)")
    pressed = 0
    for factory in every_number_factory(partner_id, campaign_id, user.id):
        real = factory.pack().split(":")
        for position in number_fields(factory):
            for value in BAD_IN_CALLBACKS:
                data = ":".join([*real[:position], value, *real[position + 1:]])
                forged = await user.press_data(data, card.message_id)
                assert forged.answer is not None, data
                assert h["stale"] in forged.popup and not forged.messages and not forged.errors, (data, forged.text)
                pressed += 1
    assert pressed >= 9 * len(BAD_IN_CALLBACKS)  # every number of the factories above (dialogs carry none), respelt
    assert await running_bot.query(
        "SELECT (SELECT count(*) FROM campaign_events), (SELECT count(*) FROM partners)") == before
    # The real press still works: the data above was refused for its spelling, not for the button.
    listed = await user.press_data(PartnerCallback(action=PartnerAction.LIST).pack(), card.message_id)
    assert any("Bridge Media" in text for text, _data in (listed.edits or listed.messages)[-1].buttons)
    await nothing_set_aside(running_bot)


@pytest.mark.parametrize("locale", ["en", "ru"])
async def test_invisible_names_are_refused_and_bidi_overrides_never_shown(
    telegram: FakeTelegram, running_bot: RunningBot, locale: str
) -> None:
    h, words = HINTS[locale], WORDS[locale]
    owner = telegram.private_user("Anna", language_code=locale)
    assert "\u200b" not in (await owner.start()).text
    assert h["text"] in (await owner.send("\u200b\u2060")).text  # the workspace name
    await owner.send(f"Acme{RLO}oC")
    assert await running_bot.query("SELECT name FROM workspaces") == [("AcmeoC",)]

    await owner.send("/newpartner")
    for invisible in ("\u200b", "\u200d", "\u3164", "\ufeff\u00ad", "\u2060\u180e", "\ufe0f", "\u00a0\u3000"):
        refused = await owner.send(invisible)
        assert h["text"] in refused.text, repr(invisible)
    await owner.send(f"Evil{RLO}gpj.exe 👩\u200d💻")
    await owner.press(words["agency"])
    await owner.press(words["both"])
    assert h["text"] in (await owner.send("\u200b")).text  # the contact, likewise
    await owner.press(words["skip"])
    card = await owner.press(words["skip"])
    assert "Evilgpj.exe 👩\u200d💻" in card.text and RLO not in card.text
    assert await running_bot.query("SELECT name FROM partners") == [("Evilgpj.exe 👩\u200d💻",)]
    # A name stored before this check still carries the override: it is shown without it.
    await running_bot.query("UPDATE partners SET name = ?", (f"Old{RLO}Name",))
    partner_id = (await running_bot.query("SELECT id FROM partners"))[0][0]

    teammate = telegram.private_user(f"Bob{RLO}evil", language_code=locale)
    assert running_bot.app is not None
    token, _expires = await InviteRepo(running_bot.app.db).create(
        (await running_bot.query("SELECT id FROM workspaces"))[0][0], owner.id, running_bot.clock.now())
    joined = await teammate.start(f"join_{token}")
    assert "AcmeoC" in joined.text and RLO not in joined.text
    told = [m.text or "" for m in owner.messages() if "Bob" in (m.text or "")]
    assert told and all(RLO not in text for text in told) and any("Bobevil" in text for text in told)
    listed = await teammate.send("/partners")
    assert all(RLO not in text for text, _data in listed.messages[-1].buttons)
    assert any("OldName" in text for text, _data in listed.messages[-1].buttons)
    opened = await teammate.press_data(PartnerCallback(action=PartnerAction.OPEN, partner_id=partner_id).pack(),
                                       listed.messages[-1].message_id)
    assert "OldName" in opened.text and RLO not in opened.text
    team = await owner.send("/team")
    assert "Bobevil" in team.text and RLO not in team.text

    await owner.send("/partners")
    await owner.press("OldName")
    await owner.press("🗣 References" if locale == "en" else "🗣 Отзывы")
    await owner.press("➕ Request a reference" if locale == "en" else "➕ Запросить отзыв")
    link = await owner.press(words["skip"])
    assert RLO not in link.text
    payload = link.text.split("?start=")[1].split()[0]
    creator = telegram.private_user("Zoe", language_code=locale)
    greeting = await creator.start(payload)
    assert "OldName" in greeting.text and "AcmeoC" in greeting.text and RLO not in greeting.text
    await nothing_set_aside(running_bot)


@pytest.mark.parametrize("locale", ["en", "ru"])
async def test_group_names_and_answers_lose_bidi_overrides(telegram: FakeTelegram, running_bot: RunningBot,
                                                          locale: str) -> None:
    h = HINTS[locale]
    anna, group = await partnership(telegram, locale)
    spoof = telegram.private_user(f"Eve{RLO}nimda", language_code=locale)
    blank = telegram.private_user("\u200b", language_code=locale)
    group.add_member(spoof, "member")
    group.add_member(blank, "member")
    await group.add_bot(by=anna)
    away = await group.send(spoof, "/away 2")
    assert "Evenimda" in away.text and RLO not in away.text
    away = await group.send(blank, "/away 2")
    assert not away.errors and "\u200b" not in away.text
    names = [name for (name,) in await running_bot.query("SELECT name FROM checkin_people")]
    assert "Evenimda" in names and all(RLO not in name and name.strip("\u200b") for name in names)
    assert h["away"] not in away.text
    await nothing_set_aside(running_bot)
