"""The gut check and the scorecard end to end: verdicts and stages, history, restarts, team view, forged buttons."""

from __future__ import annotations

import json

import pytest

from bot.domain.scorecard import CRITERIA, Criterion
from bot.keyboards.callbacks import PartnerAction, PartnerCallback
from tests.e2e.conftest import RunningBot
from tests.e2e.fake_telegram import FakeTelegram
from tests.e2e.people import PrivateUser, button_data
from tests.e2e.vetting_steps import add_partner, onboard

SAY = {
    "en": {
        "gut": "✅ Gut check",
        "scorecard": "📊 Scorecard",
        "yes": "✅ Yes",
        "no": "❌ No",
        "skip_note": "Skip the note",
        "back": "◀ Back",
        "passed": "is ready for a pilot",
        "not_passed": "Gut check not passed, 2/3",
        "markets_question": "Are they familiar with both markets, Russian and US?",
        "stage_ready": "Stage: ready for a pilot",
        "stage_failed": "Stage: gut check not passed",
        "history_passed": "passed 3/3",
        "history_failed": "not passed 2/3 — no to: Are they familiar with both markets",
        "run_again": "run it again",
        "stale": "out of date",
        "rate_hint": "Please rate from 1 to 5",
        "proactive": "Proactive rather than reactive with problems",
        "owns_failures": "Owns a failure rather than blaming externals",
        "earlier": "Your earlier answer here: 5.",
        "your_total": "Your weighted total: 4.0 of 5",
        "question_1": "Question 1 of 3.",
        "card_total": "Weighted total: 4.0 of 5 (raters: 1)",
        "ready_step": "Next step: Ready for a pilot",
        "mid_step": "middle of a step",
        "not_found": "not found",
    },
    "ru": {
        "gut": "✅ Быстрая проверка",
        "scorecard": "📊 Оценочная карта",
        "yes": "✅ Да",
        "no": "❌ Нет",
        "skip_note": "Без заметки",
        "back": "◀ Назад",
        "passed": "готов к пилоту",
        "not_passed": "быстрая проверка не пройдена, 2 из 3",
        "markets_question": "Знают ли они оба рынка — российский и американский?",
        "stage_ready": "Этап: готов к пилоту",
        "stage_failed": "Этап: быстрая проверка не пройдена",
        "history_passed": "пройдена, 3 из 3",
        "history_failed": "не пройдена, 2 из 3 — «нет» на: Знают ли они оба рынка",
        "run_again": "можно повторить",
        "stale": "устарела",
        "rate_hint": "Нужна оценка от 1 до 5",
        "proactive": "С проблемами работают на опережение, а не по факту",
        "owns_failures": "Признают свои ошибки, а не винят обстоятельства",
        "earlier": "Раньше вы поставили здесь 5.",
        "your_total": "Ваша взвешенная оценка: 4,0 из 5",
        "question_1": "Вопрос 1 из 3.",
        "card_total": "Взвешенная оценка: 4,0 из 5 (оценивали: 1)",
        "ready_step": "Следующий шаг: Можно запускать пилот",
        "mid_step": "середине шага",
        "not_found": "не найден",
    },
}


async def _add_cases(running_bot: RunningBot, partner_id: int) -> None:
    """Evidence in both markets (someone else's flow), so the next step can become "ready for a pilot"."""
    for market, outcome, months in (("ru", "success", 8), ("us", "failure", 2)):
        await running_bot.app.db.execute(
            "INSERT INTO case_studies (partner_id, market, brand, outcome, months, created_at) "
            "VALUES (?, ?, 'Brand', ?, ?, 'now')",
            (partner_id, market, outcome, months),
        )


async def _pass_gut_check(user: PrivateUser, say: dict[str, str]) -> None:
    await user.press(say["gut"])
    for _ in range(3):
        await user.press(say["yes"])
    await user.press(say["skip_note"])


async def _ready_for_scorecard(telegram: FakeTelegram, running_bot: RunningBot, locale: str) -> PrivateUser:
    """Anna, her workspace and the partner Nord with evidence and a passed gut check: the scorecard comes next."""
    user = telegram.private_user("Anna", language_code=locale)
    await onboard(user)
    await add_partner(user, "Nord", locale)
    partner_id = (await running_bot.query("SELECT id FROM partners"))[0][0]
    await _add_cases(running_bot, partner_id)
    await _pass_gut_check(user, SAY[locale])
    return user


async def _rate_all(user: PrivateUser, say: dict[str, str], ratings: list[int]) -> str:
    """Opens the scorecard from the latest card and presses the ratings; the text of the last reaction."""
    await user.press(say["scorecard"])
    reaction = None
    for rating in ratings:
        reaction = await user.press(str(rating))
    assert reaction is not None
    return reaction.text


@pytest.mark.parametrize("locale", ["en", "ru"])
async def test_gut_check_pass_then_fail_keeps_history(
    telegram: FakeTelegram, running_bot: RunningBot, locale: str
) -> None:
    say = SAY[locale]
    user = telegram.private_user("Anna", language_code=locale)
    await onboard(user)
    await add_partner(user, "Nord", locale)

    first = await user.press(say["gut"])
    assert say["question_1"] in first.text
    question = first.messages[-1]
    old_yes = button_data(question, say["yes"])
    await user.press(say["yes"])
    stale = await user.press_data(old_yes, question.message_id)  # the answer to question 1, pressed again
    assert say["stale"] in stale.popup and not stale.messages
    await user.press(say["yes"])
    note_prompt = await user.press(say["yes"])
    assert note_prompt.edits, "the questions are edited in place"
    sticker = await user.send_sticker()
    assert "500" in sticker.text
    passed = await user.send("Knows <both> markets")
    assert say["passed"] in passed.text
    assert "Knows <both> markets" in passed.text  # escaped on the wire, shown as typed
    assert say["stage_ready"] in passed.text and say["history_passed"] in passed.text
    assert await running_bot.query("SELECT stage FROM partners") == [("ready_pilot",)]

    await user.press(say["gut"])
    await user.press(say["yes"])
    await user.press(say["no"])
    await user.press(say["yes"])
    failed = await user.press(say["skip_note"])
    assert say["not_passed"] in failed.text and say["markets_question"] in failed.text
    assert say["run_again"] in failed.text
    assert say["stage_failed"] in failed.text
    assert say["history_failed"] in failed.text and say["history_passed"] in failed.text
    assert await running_bot.query("SELECT stage FROM partners") == [("gut_failed",)]
    assert await running_bot.query("SELECT passed, note FROM gut_checks ORDER BY id") == [
        (1, "Knows <both> markets"),
        (0, None),
    ]


@pytest.mark.parametrize("locale", ["en", "ru"])
async def test_scorecard_survives_restart_and_rejects_bad_input(
    telegram: FakeTelegram, running_bot: RunningBot, locale: str
) -> None:
    say = SAY[locale]
    user = await _ready_for_scorecard(telegram, running_bot, locale)

    start = await user.press(say["scorecard"])
    assert "1/9" in start.text
    for _ in range(3):
        await user.press("4")
    fourth = await user.press("4")
    assert "5/9" in fourth.text and say["proactive"] in fourth.text

    await running_bot.restart()
    sticker = await user.send_sticker()
    assert say["rate_hint"] in sticker.text and "5/9" in sticker.text and say["proactive"] in sticker.text
    seven = await user.send("7")
    assert say["rate_hint"] in seven.text and "5/9" in seven.text
    command = await user.send("/whatever")
    assert say["mid_step"] in command.text
    typed = await user.send("5")
    assert "6/9" in typed.text and say["owns_failures"] in typed.text
    back = await user.press(say["back"])
    assert "5/9" in back.text and say["earlier"] in back.text
    for _ in range(4):
        await user.press("4")
    done = await user.press("4")
    assert say["your_total"] in done.text
    assert say["card_total"] in done.text
    assert say["ready_step"] in done.text

    rows = await running_bot.query("SELECT rater_id, ratings, total FROM scorecards")
    assert len(rows) == 1 and rows[0][0] == user.id and rows[0][2] == pytest.approx(4.0)
    assert json.loads(rows[0][1]) == {c.value: 4 for c in Criterion}
    assert await running_bot.query("SELECT state FROM fsm_states WHERE state IS NOT NULL") == []


async def test_second_rater_sees_the_team_only_after_submitting(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    say = SAY["en"]
    anna = telegram.private_user("Anna", language_code="en")
    await onboard(anna)
    await add_partner(anna, "Nord", "en")
    first = await _rate_all(anna, say, [4] * 9)
    assert "before you" not in first
    assert "Weighted total: 4.0 of 5 (raters: 1)" in first

    boris = telegram.private_user("Boris", language_code="en")
    await boris.send("/help")  # Telegram users become known to the bot by writing to it
    workspace_id = (await running_bot.query("SELECT id FROM workspaces"))[0][0]
    await running_bot.app.db.execute(
        "INSERT INTO memberships (workspace_id, user_id, role, joined_at) VALUES (?, ?, 'member', 'now')",
        (workspace_id, boris.id),
    )
    await running_bot.app.db.execute("UPDATE users SET current_workspace_id = ? WHERE id = ?", (workspace_id, boris.id))
    await boris.send("/partners")
    card = await boris.press("Nord")
    assert "1 teammate has scored" in card.text and "Submit your own scorecard" in card.text
    assert "Weighted total" not in card.text and "4.0" not in card.text

    ratings = [4, 4, 4, 4, 4, 4, 2, 4, 4]  # "has navigated different markets" is 2 points below Anna's 4
    second = await _rate_all(boris, say, ratings)
    assert "1 teammate scored this partner before you" in second
    assert "Weighted total: 3.9 of 5 (raters: 2)" in second
    assert "Raters disagree by 2+ points on: Has navigated different markets before" in second
    assert await running_bot.query("SELECT COUNT(*) FROM scorecards") == [(2,)]


async def test_forged_buttons_for_another_workspace_store_nothing(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    owner = telegram.private_user("Owner", language_code="en")
    await onboard(owner, "Owner's team")
    await add_partner(owner, "Secret Partner", "en")
    partner_id = (await running_bot.query("SELECT id FROM partners"))[0][0]
    running = await owner.press(SAY["en"]["gut"])  # the owner's gut check stays open: its buttons are real
    owners_yes = button_data(running.messages[-1], SAY["en"]["yes"])
    stranger = telegram.private_user("Stranger", language_code="ru")
    await onboard(stranger, "Чужая команда")
    menu = stranger.last_message()
    assert menu is not None
    for starter in (PartnerAction.GUT_CHECK, PartnerAction.SCORECARD):
        data = PartnerCallback(action=starter, partner_id=partner_id).pack()
        reaction = await stranger.press_data(data, menu.message_id)
        assert SAY["ru"]["not_found"] in reaction.text
        assert "Secret Partner" not in reaction.text
    # The flows' own buttons (aiogram-dialog's data): the owner's, and made up; no flow of the stranger's takes them.
    for data in (owners_yes, "gone0001\x1dskip", "gone0001\x1drate:0.5", "gone0001\x1dgut:ugc.y"):
        reaction = await stranger.press_data(data, menu.message_id)
        assert SAY["ru"]["stale"] in reaction.popup and not reaction.messages, data
    assert await running_bot.query("SELECT COUNT(*) FROM gut_checks") == [(0,)]
    assert await running_bot.query("SELECT COUNT(*) FROM scorecards") == [(0,)]
    assert await running_bot.query("SELECT stage FROM partners") == [("candidate",)]
    assert await running_bot.query("SELECT state FROM fsm_states WHERE state IS NOT NULL") == []
    assert "Question 2 of 3" in (await owner.press(SAY["en"]["yes"])).text  # the owner's run went on untouched


AGAIN = {
    "en": {"intro": "You scored Nord on", "saved": "Your saved answer: 4 (marked ✓)",
           "kept": "Cancelled: nothing changed — your saved scorecard for this partner stays as it was.",
           "dropped": "Cancelled: this scorecard was not saved (2 of 9 answered).", "card": "« Card"},
    "ru": {"intro": "Вы оценили Nord", "saved": "Ваш сохранённый ответ: 4 (отмечен ✓)",
           "kept": "Отменено: ничего не изменилось — ваша сохранённая оценочная карта этого партнёра осталась прежней.",
           "dropped": "Отменено: оценочная карта не сохранена (отвечено 2 из 9).", "card": "« Карточка"},
}


@pytest.mark.parametrize("locale", ["en", "ru"])
async def test_scoring_again_shows_your_answers_and_cancel_says_what_was_kept(
    telegram: FakeTelegram, running_bot: RunningBot, locale: str
) -> None:
    say, again = SAY[locale], AGAIN[locale]
    user = await _ready_for_scorecard(telegram, running_bot, locale)

    await user.press(say["scorecard"])
    await user.press("4")
    await user.press("4")
    dropped = await user.send("/cancel")
    assert again["dropped"] in dropped.text
    assert await running_bot.query("SELECT COUNT(*) FROM scorecards") == [(0,)]
    assert "Nord" in (await user.press(again["card"], dropped.messages[-1])).text  # the way back to the card

    await _rate_all(user, say, [4] * 9)
    first = await user.press(say["scorecard"])
    assert again["intro"] in first.text and again["saved"] in first.text
    assert "✓ 4" in [text for text, _ in first.messages[-1].buttons]
    kept = await user.send("/cancel")
    assert again["kept"] in kept.text
    assert await running_bot.query("SELECT COUNT(*) FROM scorecards") == [(1,)]
    await user.press(again["card"], kept.messages[-1])

    await user.press(say["scorecard"])
    await user.press("2")  # the one answer changed; the others kept by tapping the marked rating
    for _ in range(8):
        await user.press("✓ 4")
    rows = await running_bot.query("SELECT ratings FROM scorecards ORDER BY id")
    assert len(rows) == 2
    assert json.loads(rows[-1][0]) == {c.value: 2 if c is CRITERIA[0] else 4 for c in Criterion}


async def test_scorecard_buttons_respelt_or_from_a_replaced_message_are_stale(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    """Each rating button names its criterion ("index.rating"): a number a modified client respells, another
    criterion's, ◀ Back on the first, or a button on a message a typed answer replaced is a pop-up, not a rating."""
    say = SAY["en"]
    user = telegram.private_user("Anna", language_code="en")
    await onboard(user)
    await add_partner(user, "Nord", "en")
    first = (await user.press(say["scorecard"])).messages[-1]
    intent, _sep, own = button_data(first, "4").partition("\x1d")
    assert own == "rate:0.4"
    for forged in ("rate:0.04", "rate:00.4", "rate:0.+4", "rate:0.٤", "rate:0.6", "rate:1.4", "rate:-0.4", "back:0"):
        reaction = await user.press_data(f"{intent}\x1d{forged}", first.message_id)
        assert say["stale"] in reaction.popup and not reaction.messages and not reaction.edits, forged
    assert "2/9" in (await user.press("4", first)).text
    typed = await user.send("5")
    assert "3/9" in typed.text
    replaced = typed.messages[-1]
    its_four = button_data(replaced, "4")  # a real button of the criterion still awaited
    again = await user.send("7")
    assert say["rate_hint"] in again.text and "3/9" in again.text  # the same criterion, in a new message
    late = await user.press_data(its_four, replaced.message_id)  # on the message the refused answer replaced
    assert say["stale"] in late.popup and not late.messages and not late.edits
    back = await user.press(say["back"])
    assert "2/9" in back.text and "Your earlier answer here: 5." in back.text
    assert await running_bot.query("SELECT COUNT(*) FROM scorecards") == [(0,)]
