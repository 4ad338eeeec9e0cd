"""Pilot scope (Phase 2) through the card, and the debrief reminder on the due date, in both languages."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.methods import SendMessage

from bot.clock import ManualClock
from bot.i18n import create_i18n
from bot.keyboards.callbacks import PartnerAction, PartnerCallback
from bot.plumbing.outbound import Outbound
from bot.reminders import send_due_reminders
from bot.storage.campaigns import DueReminder
from bot.storage.users import UserRecord
from tests.e2e.conftest import RunningBot
from tests.e2e.fake_telegram import FakeTelegram
from tests.e2e.people import PrivateUser
from tests.e2e.vetting_steps import add_partner, onboard

W = {
    "en": {
        "pilot": "🚀 Pilot",
        "bigger": "Yes, a bigger pilot",
        "us": "🇺🇸 USA",
        "contract": "Written contract",
        "continue": "Continue",
        "not_agreed": "No, not yet",
        "agreed": "Yes, agreed",
        "14": "14 days",
        "today": "Today",
        "save": "✅ Save",
        "edit": "✏️ Edit",
        "timeline": "Timeline",
        "gut": "Run the gut check",
        "debrief_now": "🏁 Debrief now",
        "debrief_step1": "Step 1 of 5",
        # what the bot says
        "creators_q": "How many creators",
        "creators_hint": "whole number of creators",
        "bigger_q": "3 creators are more than the 1–2",
        "text_hint": "I need a short text here",
        "deliverable_q": "one deliverable",
        "start_q": "When does it start?",
        "date_hint": "could not read that as a date",
        "start_note": "Start: Dec 1, 2026",
        "days_q": "How many days",
        "days_hint": "whole number of days",
        "long": "21 days is longer than the method's two-week pilot",
        "metrics_q": "success metrics",
        "red_flag": "🚩 Red flag: metrics not agreed",
        "payment_q": "payment terms",
        "market_q": "Which market are the creators in?",
        "checklist_q": "Checklist for creators in 🇺🇸 USA",
        "success_q": "What does success look like?",
        "failure_q": "what failure is acceptable?",
        "renegotiate_q": "when do we renegotiate?",
        "summary": "Pilot scope: Bridge",
        "w_creators": "⚠️ More than 1–2 creators",
        "w_timeline": "⚠️ Longer than the two-week timeline",
        "w_red": "🚩 Red flag: the metrics were not agreed",
        "due_22": "21 days · due Dec 22, 2026",
        "due_15": "14 days · due Dec 15, 2026",
        "saved": "Saved. The pilot with Bridge is running",
        "running": "Running: 2 UGC videos",
        "no_gut": "has not had the gut check yet",
        "gut_q": "Do they understand UGC?",
        "restart_next": "2/12",
        "reminder": "The campaign with Bridge was due on Dec 8, 2026",
        "stale": "belongs to an earlier step",
    },
    "ru": {
        "pilot": "🚀 Пилот",
        "bigger": "Да, пилот побольше",
        "us": "🇺🇸 США",
        "contract": "Письменный договор",
        "continue": "Дальше",
        "not_agreed": "Нет, ещё нет",
        "agreed": "Да, согласованы",
        "14": "14 дней",
        "today": "Сегодня",
        "save": "✅ Сохранить",
        "edit": "✏️ Изменить",
        "timeline": "Срок",
        "gut": "Провести быструю проверку",
        "debrief_now": "🏁 Подвести итоги",
        "debrief_step1": "Шаг 1 из 5",
        "creators_q": "Сколько креаторов",
        "creators_hint": "целое число креаторов",
        "bigger_q": "3 креатора — больше, чем 1–2",
        "text_hint": "Здесь нужен короткий текст",
        "deliverable_q": "Какой результат сдаёт партнёр?",
        "start_q": "Когда старт?",
        "date_hint": "Не получилось прочитать дату",
        "start_note": "Старт: 1 дек. 2026 г.",
        "days_q": "Сколько дней",
        "days_hint": "целое число дней",
        "long": "21 день — дольше двухнедельного пилота",
        "metrics_q": "метрики успеха",
        "red_flag": "🚩 Красный флаг: метрики не согласованы",
        "payment_q": "условия оплаты",
        "market_q": "На каком рынке креаторы?",
        "checklist_q": "Чек-лист для креаторов: 🇺🇸 США",
        "success_q": "Как выглядит успех?",
        "failure_q": "какая неудача допустима?",
        "renegotiate_q": "когда пересматриваем договорённости?",
        "summary": "Рамки пилота: Bridge",
        "w_creators": "⚠️ Больше 1–2 креаторов",
        "w_timeline": "⚠️ Дольше двух недель",
        "w_red": "🚩 Красный флаг: метрики не согласованы с партнёром",
        "due_22": "21 день · до 22 дек. 2026 г.",
        "due_15": "14 дней · до 15 дек. 2026 г.",
        "saved": "Сохранено. Пилот с партнёром Bridge запущен",
        "running": "Идёт: 2 UGC videos",
        "no_gut": "ещё не прошёл быструю проверку",
        "gut_q": "Понимают ли они UGC?",
        "restart_next": "2/12",
        "reminder": "Кампания с партнёром Bridge должна была завершиться 8 дек. 2026 г.",
        "stale": "относится к одному из прошлых шагов",
    },
}


def plain(text: str | None) -> str:
    """Babel puts no-break spaces into dates ("1 дек. 2026\u202fг."); compare with plain ones."""
    return (text or "").replace("\u202f", " ").replace("\xa0", " ")


async def ready_partner(user: PrivateUser, running_bot: RunningBot, locale: str, name: str = "Bridge") -> int:
    """A partner past the gut check (set in SQL: the gut check UI is tested elsewhere); its card on screen."""
    await onboard(user)
    await add_partner(user, name, locale)
    assert running_bot.app is not None
    await running_bot.app.db.execute("UPDATE partners SET stage = 'ready_pilot' WHERE name = ?", (name,))
    return (await running_bot.query("SELECT id FROM partners WHERE name = ?", (name,)))[0][0]


async def quick_pilot(user: PrivateUser, locale: str) -> None:
    """From the card: a 2-creator, 14-day pilot starting today, all by buttons where there are buttons."""
    w = W[locale]
    await user.press(w["pilot"])
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
    await user.press(w["save"])


@pytest.mark.parametrize("locale", ["en", "ru"])
async def test_scope_a_pilot_with_bad_inputs_flags_an_edit_and_save(
    telegram: FakeTelegram, running_bot: RunningBot, locale: str
) -> None:
    w = W[locale]
    user = telegram.private_user("Anna", language_code=locale)
    await ready_partner(user, running_bot, locale)

    asked = await user.press(w["pilot"])
    assert w["creators_q"] in asked.text
    assert w["creators_hint"] in (await user.send("abc")).text
    bigger = await user.send("3")
    assert w["bigger_q"] in bigger.text
    assert w["deliverable_q"] in (await user.press(w["bigger"])).text
    assert w["text_hint"] in (await user.send_sticker()).text
    assert w["start_q"] in (await user.send("2 UGC videos <vertical>, 30 s")).text
    bad_date = await user.send("31.02.2026")
    assert w["date_hint"] in bad_date.text and w["start_q"] in bad_date.text
    started = await user.send("01.12.2026")
    assert w["start_note"] in plain(started.text) and w["days_q"] in started.text
    assert w["days_hint"] in (await user.send("abc")).text
    long = await user.send("21")
    assert w["long"] in long.text and w["metrics_q"] in long.text
    await user.send("Both videos approved, CTR ≥ 1.5%")
    flagged = await user.press(w["not_agreed"])
    assert w["red_flag"] in flagged.text and w["payment_q"] in flagged.text
    await user.send("$600: half upfront")
    assert w["market_q"] in (await user.press("2")).text
    checklist = await user.press(w["us"])
    assert w["checklist_q"] in checklist.text
    toggled = await user.press(w["contract"])
    assert any(text.startswith("✅ " + w["contract"]) for text, _data in toggled.edits[-1].buttons)
    assert w["success_q"] in (await user.press(w["continue"])).text
    assert w["failure_q"] in (await user.send("Both videos approved first time")).text
    assert w["renegotiate_q"] in (await user.send("One reshoot")).text
    summary = await user.send("If the brief changes")

    assert w["summary"] in summary.text
    assert "2 UGC videos <vertical>, 30 s" in summary.text  # escaped, shown literally
    for key in ("w_creators", "w_timeline", "w_red", "due_22"):
        assert w[key] in plain(summary.text), key

    await user.press(w["edit"])
    await user.press(w["timeline"])
    edited = await user.send("14")
    assert w["due_15"] in plain(edited.text) and w["w_timeline"] not in edited.text and w["w_red"] in edited.text

    saved = await user.press(w["save"])
    assert w["saved"] in saved.text and w["running"] in saved.text
    rows = await running_bot.query(
        "SELECT rung, creators, bigger_confirmed, start_date, days, due_date, metrics_agreed, revision_limit, "
        "creators_market, checklist, warnings, manager_id FROM campaigns"
    )
    assert len(rows) == 1
    rung, creators, bigger, start, days, due, agreed, revisions, market, checklist_json, warnings, manager = rows[0]
    assert (rung, creators, bigger, start, days, due) == (1, 3, 1, "2026-12-01", 14, "2026-12-15")
    assert (agreed, revisions, market, manager) == (0, 2, "us", user.id)
    assert json.loads(checklist_json) == ["contract"]
    assert json.loads(warnings) == ["creators", "not_agreed"]
    assert await running_bot.query("SELECT stage FROM partners") == [("pilot",)]


@pytest.mark.parametrize("locale", ["en", "ru"])
async def test_a_candidate_is_sent_to_the_gut_check_first(
    telegram: FakeTelegram, running_bot: RunningBot, locale: str
) -> None:
    w = W[locale]
    user = telegram.private_user("Oleg", language_code=locale)
    await onboard(user)
    await add_partner(user, "Bridge", locale)
    refused = await user.press(w["pilot"])
    assert w["no_gut"] in refused.text
    gut = await user.press(w["gut"])
    assert w["gut_q"] in gut.text
    assert await running_bot.query("SELECT COUNT(*) FROM campaigns") == [(0,)]


async def test_a_forged_scope_button_for_another_workspace_finds_nothing(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    owner = telegram.private_user("Owner", language_code="en")
    partner_id = await ready_partner(owner, running_bot, "en")
    intruder = telegram.private_user("Intruder", language_code="en")
    await onboard(intruder, "Other team")
    forged = PartnerCallback(action=PartnerAction.SCOPE, partner_id=partner_id).pack()
    reaction = await intruder.press_data(forged, intruder.last_message().message_id)
    assert "Partner not found" in reaction.text
    assert await running_bot.query("SELECT COUNT(*) FROM campaigns") == [(0,)]


async def test_a_restart_between_questions_resumes_at_the_same_question(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    w = W["ru"]
    user = telegram.private_user("Vera", language_code="ru")
    await ready_partner(user, running_bot, "ru")
    await user.press(w["pilot"])
    await running_bot.restart()
    resumed = await user.send("2")
    assert w["restart_next"] in resumed.text and w["deliverable_q"] in resumed.text
    creators_question = next(m for m in user.messages() if m.buttons and m.buttons[0][0] == "1")
    stale = await user.press("1", creators_question)  # typed "2" already answered it
    assert w["stale"] in stale.popup and not stale.messages, "a tap on an answered question is a pop-up notice"
    await user.send("2 UGC videos")
    await running_bot.restart()
    assert w["days_q"] in (await user.press(w["today"])).text
    await running_bot.restart()
    assert w["metrics_q"] in (await user.press(w["14"])).text


@pytest.mark.parametrize("locale", ["en", "ru"])
async def test_the_due_date_reminds_the_manager_once(
    telegram: FakeTelegram, running_bot: RunningBot, clock: ManualClock, locale: str
) -> None:
    w = W[locale]
    user = telegram.private_user("Mila", language_code=locale)
    await ready_partner(user, running_bot, locale)
    await quick_pilot(user, locale)
    assert await running_bot.query("SELECT due_date FROM campaigns") == [("2026-12-08",)]
    assert running_bot.app is not None

    def sent_to_manager() -> int:
        return sum(1 for call in telegram.calls_of("sendMessage") if call.chat_id == user.id)

    before = sent_to_manager()
    assert await running_bot.app.run_due_reminders() == 0  # not due yet
    clock.advance(timedelta(days=14, hours=1))
    assert await running_bot.app.run_due_reminders() == 1
    assert sent_to_manager() == before + 1
    reminder = user.last_message()
    assert reminder is not None and w["reminder"] in plain(reminder.text)
    assert any(text == w["debrief_now"] for text, _data in reminder.buttons)

    assert await running_bot.app.run_due_reminders() == 0
    await running_bot.restart()
    assert await running_bot.app.run_due_reminders() == 0
    assert sent_to_manager() == before + 1

    # "Debrief now" starts the debrief; the reminder has done its job and keeps its text without the button.
    started = await user.press(w["debrief_now"], reminder)
    assert w["debrief_step1"] in started.text
    assert reminder.buttons == [] and w["reminder"] in plain(reminder.text)
    again = await user.press_data(PartnerCallback(action=PartnerAction.DEBRIEF, partner_id=1).pack(), reminder)
    assert w["debrief_step1"] in again.text and again.answer is not None  # the open debrief, resumed


async def test_a_restart_across_the_due_date_reminds_once_at_start_up(
    telegram: FakeTelegram, running_bot: RunningBot, clock: ManualClock
) -> None:
    user = telegram.private_user("Ivan", language_code="ru")
    await ready_partner(user, running_bot, "ru")
    await quick_pilot(user, "ru")
    await running_bot.stop()
    clock.advance(timedelta(days=20))
    before = len([c for c in telegram.calls_of("sendMessage") if c.chat_id == user.id])
    await running_bot.start()
    after = [c for c in telegram.calls_of("sendMessage") if c.chat_id == user.id]
    assert len(after) == before + 1
    reminder = user.last_message()
    assert reminder is not None and W["ru"]["reminder"] in plain(reminder.text)
    await running_bot.restart()
    assert len([c for c in telegram.calls_of("sendMessage") if c.chat_id == user.id]) == before + 1


class StubCampaigns:
    """Three due campaigns: managers 1 (blocked the bot), 2 (a bad request) and 3 (reachable)."""

    def __init__(self) -> None:
        self.claimed: list[int] = []

    async def due_reminders(self, today: date) -> list[DueReminder]:
        return [DueReminder(i, 1, 10 + i, f"P{i}", i, date(2026, 12, 8)) for i in (1, 2, 3)]

    async def claim_reminder(self, campaign_id: int, now: datetime) -> bool:
        self.claimed.append(campaign_id)
        return True


class StubUsers:
    async def get(self, user_id: int) -> UserRecord | None:
        return UserRecord(user_id, None, "ru" if user_id == 3 else None, None)


class StubBot:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send_message(self, chat_id: int, text: str, **kwargs: Any) -> SimpleNamespace:
        method = SendMessage(chat_id=chat_id, text=text)
        if chat_id == 1:
            raise TelegramForbiddenError(method, "Forbidden: bot was blocked by the user")
        if chat_id == 2:
            raise TelegramBadRequest(method, "Bad Request: chat not found")
        self.sent.append({"chat_id": chat_id, "text": text, **kwargs})
        return SimpleNamespace(message_id=len(self.sent))


async def test_a_blocked_or_failing_manager_does_not_stop_the_other_reminders() -> None:
    bot, campaigns = StubBot(), StubCampaigns()
    clock = ManualClock(datetime(2026, 12, 8, 9, 0, tzinfo=UTC))
    lane = Outbound(bot)
    sent = await send_due_reminders(lane, campaigns, StubUsers(), create_i18n("en"), clock)  # type: ignore[arg-type]
    await lane.close()
    assert sent == 1 and campaigns.claimed == [1, 2, 3]
    assert [m["chat_id"] for m in bot.sent] == [3]
    assert "Кампания с партнёром <b>P3</b>" in bot.sent[0]["text"]  # Telegram's language, no saved choice
