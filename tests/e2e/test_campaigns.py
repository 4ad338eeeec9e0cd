"""The campaign log, debriefs with recommendations, the 1 → 3 → 5 ladder and /stats, end to end.

Campaigns are put straight into the database here (scoping them has its own tests).
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from bot.domain.campaigns import EventKind, ProblemKind
from bot.keyboards.callbacks import PartnerAction, PartnerCallback
from tests.e2e.conftest import RunningBot
from tests.e2e.fake_telegram import FakeTelegram
from tests.e2e.people import PrivateUser
from tests.e2e.vetting_steps import add_partner, onboard

STAGE_OF_RUNG = {1: "pilot", 2: "rung2", 3: "rung3"}
NOW = "2026-11-24T09:00:00+00:00"

SAY = {
    "en": {
        "no_running": "No campaign is running",
        "log_button": "Log event",
        "debrief_button": "Debrief",
        "met": "Deadline met",
        "notice": "Missed, with notice",
        "silent": "Missed, no notice",
        "at_scope": "Deliverable at scope",
        "revision": "Revision round",
        "used_0": "used 0 of 1",
        "used_1": "used 1 of 1",
        "over": "Over the agreed revision limit: 2 rounds used, 1 agreed",
        "logged": "Logged for",
        "add_note": "Add a note?",
        "note_saved": "Note saved",
        "done": "Done, no note",
        "another": "Log another",
        "timeline_met": "deadline met — Brief approved on day 2",
        "on_time_100": "On time: 100%",
        "on_time_50": "On time: 50%",
        "step1": "Step 1 of 5",
        "resume": "continue the debrief where you left off",
        "step2": "Step 2 of 5",
        "step3": "Step 3 of 5",
        "step4": "Step 4 of 5",
        "none": "no problem",
        "rec_walk": "My recommendation: walk away",
        "rec_expand": "My recommendation: expand to the next rung",
        "reason_silent": "a deadline was missed without notice",
        "walk_flag": "🚩 The last debrief recommended walking away: a deadline was missed without notice",
        "walk_next": "Next step: Consider walking away — the last debrief recommended walking away",
        "scope_next": "Scope the next campaign",
        "reason_on_scope": "they delivered on scope",
        "expand": "Expand",
        "why": "Why?",
        "text_hint": "I need a short text here",
        "saved": "Debrief saved",
        "rung2_open": "Rung 2 is open: 3 campaigns",
        "rung3_open": "Rung 3 is open: 5 campaigns",
        "needs_2": "Rung 2: 1 of 3 counted. It needs 2 more campaigns",
        "needs_1": "Rung 2: 2 of 3 counted. It needs 1 more campaign",
        "stage_rung2": "Stage: 3 campaigns",
        "stale": "This button is out of date",
        "earlier_step": "That button belongs to an earlier step",
        "not_found": "Partner not found",
        "not_enough": "Not enough data yet",
        "gain": "Yours: +50%, from 3 partnerships.",
        "notes_gain": "+28%",
        "one_done": "Yours, from 3 partnerships: expectations — 2, execution — fixable — 1",
        "same": "Most often: expectations — the same as in the field notes.",
        "notes_expect": "expectations, not competence",
    },
    "ru": {
        "no_running": "не идёт ни одной кампании",
        "log_button": "Отметить событие",
        "debrief_button": "Подвести итоги",
        "met": "Дедлайн соблюдён",
        "notice": "Сорван, предупредили",
        "silent": "Сорван молча",
        "at_scope": "Результат как договорились",
        "revision": "Круг правок",
        "used_0": "использовано 0 из 1",
        "used_1": "использовано 1 из 1",
        "over": "Лимит правок превышен: использовано кругов — 2, договаривались о 1",
        "logged": "Отмечено для партнёра",
        "add_note": "Добавить заметку?",
        "note_saved": "Заметка сохранена",
        "done": "Готово, без заметки",
        "another": "Отметить ещё",
        "timeline_met": "дедлайн соблюдён — Brief approved on day 2",
        "on_time_100": "В срок: 100%",
        "on_time_50": "В срок: 50%",
        "step1": "Шаг 1 из 5",
        "resume": "Продолжим подводить итоги",
        "step2": "Шаг 2 из 5",
        "step3": "Шаг 3 из 5",
        "step4": "Шаг 4 из 5",
        "none": "проблем не было",
        "rec_walk": "Мой совет: расстаться",
        "rec_expand": "Мой совет: расти на следующую ступень",
        "reason_silent": "дедлайн сорван без предупреждения",
        "walk_flag": "🚩 По итогам прошлой кампании рекомендовано расстаться: дедлайн сорван без предупреждения",
        "walk_next": "Следующий шаг: Подумайте о том, чтобы не продолжать — по итогам прошлой кампании рекомендовано",
        "scope_next": "Опишите следующую кампанию",
        "reason_on_scope": "результат сдан в оговорённых рамках",
        "expand": "Расти дальше",
        "why": "Почему?",
        "text_hint": "Здесь нужен короткий текст",
        "saved": "Итоги по партнёру",
        "rung2_open": "Открыта ступень 2: 3 кампании",
        "rung3_open": "Открыта ступень 3: 5 кампаний",
        "needs_2": "Ступень 2: засчитано 1 из 3. Нужны ещё 2 кампании",
        "needs_1": "Ступень 2: засчитано 2 из 3. Нужна ещё 1 кампания",
        "stage_rung2": "3 кампании",
        "stale": "Эта кнопка устарела",
        "earlier_step": "Эта кнопка относится к одному из прошлых шагов",
        "not_found": "Партнёр не найден",
        "not_enough": "Пока мало данных",
        "gain": "У вас: +50%, по данным: 3 партнёрства.",
        "notes_gain": "+28%",
        "one_done": "У вас (3 партнёрства): ожидания — 2, исполнение — можно исправить — 1",
        "same": "Чаще всего: ожидания — как и в заметках практиков.",
        "notes_expect": "в ожиданиях, а не в компетенции",
    },
}


async def seed_campaign(
    bot: RunningBot, partner_id: int, manager_id: int | None, rung: int = 1, revision_limit: int = 2
) -> int:
    """A running campaign on `rung`, started four days ago, and the partner on that rung's stage."""
    assert bot.app is not None
    start = date(2026, 11, 20)
    campaign_id = await bot.app.db.execute(
        "INSERT INTO campaigns (partner_id, rung, creators, deliverable, start_date, days, due_date, metrics, "
        "metrics_agreed, payment_terms, revision_limit, creators_market, charter_success, charter_failure, "
        "charter_renegotiate, manager_id, created_at) VALUES (?, ?, 1, ?, ?, 14, ?, ?, 1, ?, ?, 'both', ?, ?, ?, ?, ?)",
        (
            partner_id,
            rung,
            "3 UGC videos",
            start.isoformat(),
            (start + timedelta(days=14)).isoformat(),
            "CTR 2%",
            "50% upfront",
            revision_limit,
            "on-brief videos",
            "one late draft",
            "scope grows",
            manager_id,
            NOW,
        ),
    )
    await bot.app.db.execute("UPDATE partners SET stage = ? WHERE id = ?", (STAGE_OF_RUNG[rung], partner_id))
    return campaign_id


async def partner_with_pilot(
    user: PrivateUser, bot: RunningBot, locale: str, name: str = "Bridge Media", revision_limit: int = 2
) -> tuple[int, int]:
    await onboard(user)
    await add_partner(user, name, locale)
    partner_id = (await bot.query("SELECT id FROM partners WHERE name = ?", (name,)))[0][0]
    return partner_id, await seed_campaign(bot, partner_id, user.id, revision_limit=revision_limit)


async def open_card(user: PrivateUser, name: str) -> None:
    await user.send("/partners")
    await user.press(name)


async def debrief(user: PrivateUser, say: dict[str, str], partner_id: int | None = None) -> str:
    """The first four steps, from the card's button (or, given partner_id, the reminder's); the recommendation."""
    if partner_id is None:
        await user.press(say["debrief_button"])
    else:
        button = PartnerCallback(action=PartnerAction.DEBRIEF, partner_id=partner_id).pack()
        await user.press_data(button, user.last_message().message_id)
    await user.send("Creators were on brief")
    await user.send("Drafts came late")
    await user.press(say["none"])
    return (await user.press("4")).text


@pytest.mark.parametrize("locale", ["en", "ru"])
async def test_logged_events_and_notes_show_on_the_card(
    telegram: FakeTelegram, running_bot: RunningBot, locale: str
) -> None:
    say = SAY[locale]
    user = telegram.private_user("Anna", language_code=locale)
    await onboard(user)
    assert say["no_running"] in (await user.send("/log")).text
    await add_partner(user, "Bridge Media", locale)
    partner_id = (await running_bot.query("SELECT id FROM partners"))[0][0]
    await seed_campaign(running_bot, partner_id, user.id, revision_limit=1)

    await user.send("/log")
    menu = await user.press("Bridge Media")
    assert "3 UGC videos" in menu.text
    logged = await user.press(say["met"])
    assert say["logged"] in logged.text and say["add_note"] in logged.text
    assert say["add_note"] in (await user.send_sticker()).text
    noted = await user.send("Brief approved on day 2")
    assert say["note_saved"] in noted.text
    assert say["timeline_met"] in noted.text and say["on_time_100"] in noted.text

    await user.press(say["log_button"])
    await user.press(say["notice"])
    card = await user.press(say["done"])
    assert say["on_time_50"] in card.text

    menu = await user.press(say["log_button"])
    assert any(say["used_0"] in text for text, _data in menu.edits[-1].buttons)
    await user.press(say["revision"])
    again = await user.press(say["another"])
    assert any(say["used_1"] in text for text, _data in again.edits[-1].buttons)
    over = await user.press(say["revision"])
    assert say["over"] in over.text
    assert await running_bot.query("SELECT kind, note, logged_by FROM campaign_events ORDER BY id") == [
        (EventKind.DEADLINE_MET.value, "Brief approved on day 2", user.id),
        (EventKind.DEADLINE_MISSED_NOTICE.value, None, user.id),
        (EventKind.REVISION_USED.value, None, user.id),
        (EventKind.REVISION_USED.value, None, user.id),
    ]


@pytest.mark.parametrize("locale", ["en", "ru"])
async def test_silent_miss_recommends_walk_and_an_override_needs_a_reason_across_restarts(
    telegram: FakeTelegram, running_bot: RunningBot, locale: str
) -> None:
    say = SAY[locale]
    user = telegram.private_user("Oleg", language_code=locale)
    partner_id, campaign_id = await partner_with_pilot(user, running_bot, locale)
    await open_card(user, "Bridge Media")
    await user.press(say["log_button"])
    await user.press(say["silent"])
    await user.press(say["done"])

    assert say["step1"] in (await user.press(say["debrief_button"])).text
    assert say["step2"] in (await user.send("Creators were on brief")).text
    await running_bot.restart()
    assert say["step2"] in (await user.send_sticker()).text
    resumed = await user.press(say["debrief_button"])  # the card's button again: same debrief, same step
    assert say["resume"] in resumed.text and say["step2"] in resumed.text
    problem = await user.send("Drafts came late, nobody warned us")
    assert say["step3"] in problem.text
    none = next(data for text, data in problem.messages[-1].buttons if say["none"] in text)
    await user.press(say["none"])
    # The step's button pressed again (a client that kept it): the step has moved on.
    stale = await user.press_data(none, problem.messages[-1].message_id)
    assert say["earlier_step"] in stale.popup and not stale.messages and not stale.edits
    await running_bot.restart()
    shown = await user.press("4")
    assert say["rec_walk"] in shown.text and say["reason_silent"] in shown.text

    why = await user.press(say["expand"])
    assert say["why"] in why.text
    assert say["text_hint"] in (await user.send_sticker()).text
    await running_bot.restart()
    saved = await user.send("They owned it and fixed the process")
    assert say["saved"] in saved.text and "They owned it" in saved.text
    # The card after the override keeps the walk advice and its reason instead of moving on to the next scope.
    card = saved.messages[-1].text or ""
    assert say["walk_flag"] in card and say["walk_next"] in card and say["scope_next"] not in card
    rows = await running_bot.query(
        "SELECT problem, quality, recommendation, reasons, decision, override_reason, decided_by FROM debriefs"
    )
    assert len(rows) == 1
    problem_kind, quality, recommendation, reasons, decision, override, decided_by = rows[0]
    assert (problem_kind, quality, recommendation, decision) == (ProblemKind.NONE.value, 4, "walk", "expand")
    assert "dl_silent" in json.loads(reasons)
    assert (override, decided_by) == ("They owned it and fixed the process", user.id)
    assert await running_bot.query("SELECT status FROM campaigns WHERE id = ?", (campaign_id,)) == [("debriefed",)]
    assert await running_bot.query("SELECT stage FROM partners WHERE id = ?", (partner_id,)) == [("rung2",)]


@pytest.mark.parametrize("locale", ["en", "ru"])
async def test_the_ladder_opens_rung_2_after_the_pilot_and_rung_3_only_after_three_campaigns(
    telegram: FakeTelegram, running_bot: RunningBot, locale: str
) -> None:
    say = SAY[locale]
    user = telegram.private_user("Kate", language_code=locale)
    partner_id, _pilot = await partner_with_pilot(user, running_bot, locale)
    await open_card(user, "Bridge Media")
    await user.press(say["log_button"])
    await user.press(say["at_scope"])
    await user.press(say["done"])
    shown = await debrief(user, say)
    assert say["rec_expand"] in shown
    assert say["reason_on_scope"] in shown
    opened = await user.press(say["expand"])
    assert say["rung2_open"] in opened.text and say["stage_rung2"] in opened.text

    expected = (("rung2", say["needs_2"]), ("rung2", say["needs_1"]), ("rung3", say["rung3_open"]))
    for stage, message in expected:
        await seed_campaign(running_bot, partner_id, user.id, rung=2)
        await debrief(user, say, partner_id)  # the debrief button of the due-date reminder
        outcome = await user.press(say["expand"])
        assert message in outcome.text
        assert await running_bot.query("SELECT stage FROM partners WHERE id = ?", (partner_id,)) == [(stage,)]
    assert await running_bot.query("SELECT COUNT(*), SUM(decision = 'expand') FROM debriefs") == [(4, 4)]


async def seed_outcome(
    bot: RunningBot, workspace_id: int, name: str, qualities: list[int], problems: list[str], stage: str
) -> None:
    """A partner with debriefed campaigns straight in the database."""
    assert bot.app is not None
    db = bot.app.db
    partner_id = await db.execute(
        "INSERT INTO partners (workspace_id, name, name_key, kind, markets, stage, created_at, updated_at) "
        "VALUES (?, ?, ?, 'agency', 'both', ?, ?, ?)",
        (workspace_id, name, name.lower(), stage, NOW, NOW),
    )
    for quality, problem in zip(qualities, problems, strict=True):
        campaign_id = await seed_campaign(bot, partner_id, None, rung=1)
        await db.execute("UPDATE campaigns SET status = 'debriefed' WHERE id = ?", (campaign_id,))
        await db.execute(
            "INSERT INTO debriefs (campaign_id, what_worked, what_didnt, problem, quality, recommendation, reasons, "
            "decision, created_at) VALUES (?, 'a', 'b', ?, ?, 'expand', '[]', 'expand', ?)",
            (campaign_id, problem, quality, NOW),
        )
    await db.execute("UPDATE partners SET stage = ? WHERE id = ?", (stage, partner_id))


@pytest.mark.parametrize("locale", ["en", "ru"])
async def test_stats_say_not_enough_data_then_show_the_workspace_figures(
    telegram: FakeTelegram, running_bot: RunningBot, locale: str
) -> None:
    say = SAY[locale]
    user = telegram.private_user("Ivan", language_code=locale)
    await onboard(user)
    empty = await user.send("/stats")
    assert empty.text.count(say["not_enough"]) == 2
    assert say["notes_gain"] in empty.text and say["notes_expect"] in empty.text

    workspace_id = (await running_bot.query("SELECT current_workspace_id FROM users WHERE id = ?", (user.id,)))[0][0]
    for name, qualities in (("Long A", [3, 3, 4, 4]), ("Long B", [2, 3, 3, 3]), ("Long C", [3, 4, 4, 5])):
        await seed_outcome(running_bot, workspace_id, name, qualities, ["none"] * 4, "rung3")
    await seed_outcome(running_bot, workspace_id, "Short", [3, 3, 3], ["none"] * 3, "rung2")  # not past 3
    for name, problem in (("Gone A", "expectations"), ("Gone B", "expectations"), ("Gone C", "execution")):
        await seed_outcome(running_bot, workspace_id, name, [2], [problem], "walked")
    await seed_outcome(running_bot, workspace_id, "Paused", [2], ["comm"], "paused")  # not ended

    stats = await user.send("/stats")
    assert say["not_enough"] not in stats.text
    assert say["gain"] in stats.text  # first 2.67 → latest 4.0 average
    assert say["one_done"] in stats.text and say["same"] in stats.text

    other = telegram.private_user("Other", language_code=locale)
    await onboard(other, "Other team")
    assert (await other.send("/stats")).text.count(say["not_enough"]) == 2


async def test_forged_log_and_debrief_buttons_for_another_workspace_store_nothing(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    owner = telegram.private_user("Owner", language_code="en")
    partner_id, _campaign_id = await partner_with_pilot(owner, running_bot, "en", name="Target")
    intruder = telegram.private_user("Intruder", language_code="en")
    await onboard(intruder, "Other team")
    anchor = intruder.last_message().message_id
    forged = (
        PartnerCallback(action=PartnerAction.LOG, partner_id=partner_id),
        PartnerCallback(action=PartnerAction.DEBRIEF, partner_id=partner_id),
    )
    for data in forged:
        reaction = await intruder.press_data(data.pack(), anchor)
        assert "Partner not found" in reaction.text
    # The log's own buttons belong to the owner's open log: pressed by anyone else they are a stale pop-up.
    await owner.send("/log")
    menu = await owner.press("Target")
    met = next(data for text, data in menu.edits[-1].buttons if "Deadline met" in text)
    reaction = await intruder.press_data(met, anchor)
    assert reaction.popup and not reaction.messages and not reaction.edits
    # The owner's debrief, open at its problem step: its buttons are the owner's dialog, not the intruder's.
    await open_card(owner, "Target")
    await owner.press(SAY["en"]["debrief_button"])
    await owner.send("On brief")
    step = await owner.send("Late drafts")
    owners = next(data for text, data in step.messages[-1].buttons if SAY["en"]["none"] in text)
    taken = await intruder.press_data(owners, anchor)
    assert "out of date" in taken.popup and not taken.messages and not taken.edits
    assert "No campaign is running" in (await intruder.send("/log")).text
    assert await running_bot.query("SELECT COUNT(*) FROM campaign_events") == [(0,)]
    assert await running_bot.query("SELECT COUNT(*) FROM debriefs") == [(0,)]
    assert await running_bot.query("SELECT stage FROM partners WHERE id = ?", (partner_id,)) == [("pilot",)]


@pytest.mark.parametrize("locale", ["en", "ru"])
async def test_a_debrief_left_halfway_by_the_previous_version_resumes_in_the_new_one(
    telegram: FakeTelegram, running_bot: RunningBot, locale: str
) -> None:
    """Before the debrief was a dialog it kept its step in FSM state and its draft in FSM data; one left halfway
    across the upgrade resumes at its step with what was entered."""
    say = SAY[locale]
    user = telegram.private_user("Vera", language_code=locale)
    partner_id, campaign_id = await partner_with_pilot(user, running_bot, locale)
    draft = {"partner_id": partner_id, "campaign_id": campaign_id, "what_worked": "Creators were on brief",
             "what_didnt": "", "problem": "", "quality": 0, "recommendation": "", "reasons": [], "decision": "",
             "message_id": 7}
    assert running_bot.app is not None
    await running_bot.app.db.execute(
        "INSERT OR REPLACE INTO fsm_states (key, state, data, updated_at) VALUES (?, ?, ?, '2026-01-01T00:00:00')",
        (f"fsm:{user.id}:{user.id}:default", "DebriefForm:waiting_for_what_didnt", json.dumps({"debrief": draft})),
    )
    await running_bot.restart()
    await open_card(user, "Bridge Media")
    resumed = await user.press(say["debrief_button"])
    assert say["resume"] in resumed.text and say["step2"] in resumed.text
    problem = await user.send("Drafts came late")
    assert say["step3"] in problem.text and "Creators were on brief" in problem.text
    await user.press(say["none"])
    assert "4" in [text for text, _data in user.last_message().buttons]
    assert await running_bot.query("SELECT state FROM fsm_states WHERE state LIKE 'DebriefForm%'") == []


async def test_the_log_keeps_one_message_and_cancel_says_what_was_kept(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    """The log runs as an aiogram-dialog Dialog: presses edit the card's message in place (each answered once),
    typed text at the buttons gets a hint, a refused note keeps the step, and /cancel says what stays logged."""
    user = telegram.private_user("Anna", language_code="en")
    partner_id, _campaign_id = await partner_with_pilot(user, running_bot, "en")
    await open_card(user, "Bridge Media")
    card = user.last_message()
    assert card is not None
    steps = {}
    for button, expect in (("Log event", "Tap what happened"), ("Deadline met", "Add a note?"),
                           ("Log another", "Events logged so far: 1")):
        pressed = await user.press(button)
        assert expect in pressed.text and not pressed.messages and pressed.edits, button
        assert pressed.edits[-1].message_id == card.message_id, button
        assert pressed.answer is not None and not pressed.errors, button
        steps[button] = pressed.edits[-1].buttons
    done_of_the_note_step = next(data for text, data in steps["Deadline met"] if "Done, no note" in text)
    earlier = await user.press_data(done_of_the_note_step, card.message_id)  # the log now shows the event buttons
    assert "earlier step" in earlier.popup and not earlier.messages and not earlier.edits
    hint = await user.send("deadline met")
    assert "buttons above" in hint.text and not hint.messages[-1].buttons  # the buttons stay on the log above
    cancelled = await user.send("/cancel")
    assert cancelled.messages[-1].text == "Cancelled: the event you logged stays logged."
    assert cancelled.messages[-1].buttons == [("« Card", PartnerCallback(action=PartnerAction.OPEN,
                                                                          partner_id=partner_id).pack())]
    assert await running_bot.query("SELECT key FROM fsm_states") == [], "a closed log leaves no record"

    await user.press("« Card")
    await user.press("Log event")
    noted = await user.press("Missed, with notice")
    done = next(data for text, data in noted.edits[-1].buttons if "Done, no note" in text)
    refused = await user.send("x" * 501)
    assert "501 characters" in refused.text and "Add a note?" in refused.text
    assert any("Done, no note" in text for text, _ in refused.messages[-1].buttons)
    assert (await user.send("/cancel")).messages[-1].text == "Cancelled: the event stays logged, without a note."
    stale = await user.press_data(done, card.message_id)
    assert "out of date" in stale.popup and not stale.messages and not stale.errors
    assert await running_bot.query("SELECT kind, note FROM campaign_events ORDER BY id") == [
        (EventKind.DEADLINE_MET.value, None),
        (EventKind.DEADLINE_MISSED_NOTICE.value, None),
    ]
    await user.press("« Card")
    await user.press("Log event")
    assert (await user.send("/cancel")).messages[-1].text == "Cancelled: nothing was logged."


async def test_a_note_typed_after_a_restart_goes_to_the_event_logged_before_it(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    user = telegram.private_user("Анна", language_code="ru")
    await partner_with_pilot(user, running_bot, "ru")
    await open_card(user, "Bridge Media")
    await user.press(SAY["ru"]["log_button"])
    await user.press(SAY["ru"]["at_scope"])
    await running_bot.restart()
    noted = await user.send("Всё по брифу")
    assert SAY["ru"]["note_saved"] in noted.text and "Всё по брифу" in noted.text
    assert await running_bot.query("SELECT kind, note FROM campaign_events") == [
        (EventKind.DELIV_AT_SCOPE.value, "Всё по брифу")
    ]
    assert await running_bot.query("SELECT key FROM fsm_states") == []
    await user.press(SAY["ru"]["log_button"])
    for _ in range(2):
        await user.press(SAY["ru"]["met"])
        await user.press(SAY["ru"]["another"])
    cancelled = await user.send("/cancel")
    assert cancelled.messages[-1].text == "Отменено: отмеченные события (2) остаются в журнале."
    assert await running_bot.query("SELECT COUNT(*) FROM campaign_events") == [(3,)]
