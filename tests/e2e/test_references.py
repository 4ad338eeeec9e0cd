"""References end to end: links from the card, creators answering in Russian and English, guards, the card."""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from bot.backup import make_backup
from bot.clock import ManualClock
from bot.storage.respondents import RespondentKeys, legacy_key
from tests.anonymity_attack import recover_respondents
from tests.e2e.conftest import LogCapture, RunningBot
from tests.e2e.fake_telegram import BOT_USERNAME, FakeTelegram
from tests.e2e.people import PrivateUser, Reaction
from tests.e2e.test_reports import sent_files
from tests.e2e.vetting_steps import add_partner, onboard

LINK = re.compile(r"https://t\.me/(\w+)\?start=(ref_[A-Za-z0-9_-]+)")
WORKSPACE = "Acme & <Co>"
PARTNER = "Nord <Agency>"
STEP = timedelta(minutes=1)  # how long a considered answer takes between two taps

WORDS = {
    "en": {
        "greeting": "Hello! 👋 The team of Acme & <Co> is thinking about working with Nord <Agency>",
        "private": "they are not shown to Nord <Agency>",
        "months_q": "How long did you work with Nord <Agency>?",
        "durations": {"<3": "under 3 months", "3-6": "3–6 months", "6-12": "6–12 months", "12+": "12+ months"},
        "markets": {"ru": "🇷🇺 Russia", "us": "🇺🇸 USA", "both": "🇷🇺 Russia + 🇺🇸 USA"},
        "consistency": "Consistency",
        "skip": "Skip",
        "again": {"yes": "👍 Yes", "maybe": "🤔 Maybe", "no": "👎 No"},
        "summary": "Your reference about Nord <Agency>",
        "send": "✅ Send",
        "edit": "✏️ Change an answer",
        "thanks": "Thank you! 🙏 Your reference is on its way to the Acme & <Co> team.",
    },
    "ru": {
        "greeting": "Здравствуйте! 👋 Команда Acme & <Co> думает о работе с Nord <Agency>",
        "private": "Nord <Agency> их не увидит",
        "months_q": "Сколько вы работали с Nord <Agency>?",
        "durations": {"<3": "меньше 3 месяцев", "3-6": "3–6 месяцев", "6-12": "6–12 месяцев", "12+": "12+ месяцев"},
        "markets": {"ru": "🇷🇺 Россия", "us": "🇺🇸 США", "both": "🇷🇺 Россия + 🇺🇸 США"},
        "consistency": "Постоянство",
        "skip": "Пропустить",
        "again": {"yes": "👍 Да", "maybe": "🤔 Возможно", "no": "👎 Нет"},
        "summary": "Ваш отзыв: Nord <Agency>",
        "send": "✅ Отправить",
        "edit": "✏️ Изменить ответ",
        "thanks": "Спасибо! 🙏 Ваш отзыв отправлен команде Acme & <Co>.",
    },
}


async def _manager(telegram: FakeTelegram) -> PrivateUser:
    """An English-speaking manager with a workspace and one partner whose card is on screen."""
    mia = telegram.private_user("Mia", language_code="en")
    await onboard(mia, WORKSPACE)
    await add_partner(mia, PARTNER, "en")
    return mia


async def _request_link(manager: PrivateUser, label: str | None = None) -> tuple[str, Reaction]:
    """From the card on screen: 🗣 References → Request a reference → the name or Skip; the start parameter."""
    await manager.press("🗣 References")
    await manager.press("➕ Request a reference")
    reaction = await (manager.send(label) if label else manager.press("Skip"))
    match = LINK.search(reaction.text)
    assert match is not None, reaction.text
    assert match.group(1) == BOT_USERNAME
    assert len(match.group(2)) <= 64
    await manager.press("« Card")
    return match.group(2), reaction


async def _answer(
    creator: PrivateUser,
    payload: str,
    locale: str,
    *,
    clock: ManualClock | None = None,
    months: str = "6-12",
    market: str = "ru",
    ratings: tuple[int, int, int, int] = (5, 4, 5, 4),
    comments: tuple[str | None, ...] = (None, None, None, None),
    again: str = "yes",
    anything_else: str | None = None,
) -> list[str]:
    """The whole questionnaire through the buttons; returns every text the creator saw."""
    words = WORDS[locale]
    seen: list[str] = []

    async def act(step) -> Reaction:
        reaction = await step
        seen.append(reaction.text)
        if clock is not None:
            clock.advance(STEP)
        return reaction

    opened = await act(creator.start(payload))
    assert words["greeting"] in opened.text and words["private"] in opened.text
    assert words["months_q"] in opened.text
    await act(creator.press(words["durations"][months]))
    await act(creator.press(words["markets"][market]))
    for rating, comment in zip(ratings, comments, strict=True):
        await act(creator.press(str(rating)))
        await act(creator.send(comment) if comment else creator.press(words["skip"]))
    await act(creator.press(words["again"][again]))
    summary = await act(creator.send(anything_else) if anything_else else creator.press(words["skip"]))
    assert words["summary"] in summary.text
    sent = await act(creator.press(words["send"]))
    assert words["thanks"] in sent.text
    return seen


def _notifications(manager: PrivateUser) -> list[str]:
    return [m.text or "" for m in manager.messages() if "A new reference about" in (m.text or "")]


async def _answers_rows(running_bot: RunningBot) -> list[tuple]:
    return await running_bot.query("SELECT * FROM reference_answers ORDER BY id")


async def test_two_creators_answer_in_their_languages_and_the_card_sums_them_up(
    telegram: FakeTelegram, running_bot: RunningBot, clock: ManualClock
) -> None:
    mia = await _manager(telegram)
    first, created = await _request_link(mia, "Маша")
    assert "Reference link for Nord <Agency>, for Маша, valid until December 8, 2026:" in created.text
    assert "Здравствуйте! Мы в Acme & <Co> думаем о сотрудничестве с Nord <Agency>" in created.text
    assert "Hi! We at Acme & <Co> are thinking about working with Nord <Agency>" in created.text
    assert "действует до 8 декабря 2026\u202fг." in created.text and "works until December 8, 2026" in created.text
    assert created.text.count(first) == 3  # the manager's copy and both invitations
    second, _ = await _request_link(mia)
    token = first.removeprefix("ref_")
    stored = await running_bot.query("SELECT token_hash FROM reference_links ORDER BY id")
    assert len(stored) == 2 and all(token not in row[0] for row in stored)

    masha = telegram.private_user("Маша", language_code="ru")
    seen_ru = await _answer(
        masha,
        first,
        "ru",
        clock=clock,
        comments=("Бриф каждый понедельник", None, None, "Советуют форматы"),
        anything_else="Рекомендую <b>всем</b>",
    )
    joined_ru = "\n".join(seen_ru)
    assert "Вопрос 3 из 8" in joined_ru and "каждый раз понятный бриф, и вовремя" in joined_ru
    assert "Question" not in joined_ru and "Skip" not in joined_ru

    john = telegram.private_user("John", language_code="en")
    seen_en = await _answer(john, second, "en", months="<3", market="us", ratings=(3, 4, 2, 3), again="no")
    joined_en = "\n".join(seen_en)
    assert "Question 5 of 8" in joined_en and "paid on time, clear feedback, scope as agreed" in joined_en
    assert not re.search("[а-яё]", joined_en, re.I)

    notices = _notifications(mia)
    assert len(notices) == 2
    assert "A new reference about Nord <Agency> has arrived — creator 1." in notices[0]
    assert "🚩" not in notices[0] and "⚡" not in notices[0]
    assert "creator 2" in notices[1] and "🚩 Red flag" in notices[1] and "⚡ Answered implausibly fast" in notices[1]

    card = await mia.press("Open the card")
    text = card.text
    assert "2 creators answered · would work with them again: 1 of 2 (50%)" in text
    assert "Consistency 4.0 · Respect 4.0 · Reliability 3.5 · Growth 3.5" in text
    assert "🚩 Red flag: creator 2 — reliability 2 or lower" in text
    assert "⚡ Implausibly fast (under 30 s): creator 2" in text
    assert "Creator 1 · 🇷🇺 Russia · 6–12 months · 5/4/5/4 · again: yes" in text
    assert "🚩 Creator 2 · 🇺🇸 USA · under 3 months · 3/4/2/3 · again: no ⚡" in text
    assert "› Consistency: “Бриф каждый понедельник”" in text
    assert "› Anything else: “Рекомендую <b>всем</b>”" in text  # escaped: shown as typed, not as bold
    assert "Links: 2 sent · 2 opened · 2 answered · 0 expired" in text
    assert "Маша" not in text and "John" not in text  # creators are numbers on the card

    rows = await _answers_rows(running_bot)
    assert len(rows) == 2
    for creator in (masha, john):
        assert not any(str(creator.id) in str(value) for row in rows for value in row)
    locales = await running_bot.query("SELECT locale, too_fast FROM reference_answers ORDER BY id")
    assert locales == [("ru", 0), ("en", 1)]
    # A tapped range is kept as the range: "6–12" is not 6 months, and no number is made up for it.
    worked = await running_bot.query("SELECT worked_range, worked_months FROM reference_answers ORDER BY id")
    assert worked == [("6to12", None), ("lt3", None)]


async def test_bad_links_get_one_clear_message_and_nothing_else(
    telegram: FakeTelegram, running_bot: RunningBot, clock: ManualClock
) -> None:
    mia = await _manager(telegram)
    expiring, _ = await _request_link(mia, "Old")
    revoked, _ = await _request_link(mia, "Revoked one")
    used, _ = await _request_link(mia, "Used")
    second_for_same, _ = await _request_link(mia, "Again")
    taken, _ = await _request_link(mia, "Taken")

    own = await mia.start(used)
    assert "This is your own team's reference link for Nord <Agency>" in own.text and len(own.messages) == 1

    await mia.press("🗣 References")
    listing = await mia.press("🚫 Revoke: Revoked one")
    assert "🚫 Revoked: that link no longer works." in listing.text
    assert "Revoked one — revoked" in listing.text

    olga = telegram.private_user("Ольга", language_code="ru")
    await _answer(olga, used, "ru")
    refused = await olga.start(second_for_same)
    assert "Вы уже оставили отзыв о Nord <Agency>" in refused.text and len(refused.messages) == 1
    again = await olga.start(used)
    assert "Вы уже отправили отзыв по этой ссылке" in again.text

    first_opener = telegram.private_user("Ivan", language_code="en")
    assert "Hello!" in (await first_opener.start(taken)).text

    carl = telegram.private_user("Carl", language_code="en")

    async def refused(payload: str, expected: str) -> None:
        reaction = await carl.start(payload)
        assert expected in reaction.text, reaction.text
        assert len(reaction.messages) == 1 and not reaction.messages[0].buttons
        assert "Acme" not in reaction.text and "Nord" not in reaction.text

    await refused(taken, "This reference link has already been used.")  # opened by Ivan: his alone
    clock.advance(timedelta(days=15))
    await refused(expiring, "This reference link has expired.")
    await refused(revoked, "This reference link was withdrawn by whoever sent it.")
    await refused(used, "This reference link has already been used.")
    await refused("ref_" + secrets.token_urlsafe(24), "This reference link is not valid.")
    await refused("ref_x", "This reference link is not valid.")
    states = await running_bot.query("SELECT state FROM fsm_states WHERE key LIKE ?", (f"%{carl.id}%",))
    assert all(state is None for (state,) in states)
    assert len(_notifications(mia)) == 1

    await mia.send("/partners")
    card = await mia.press("Nord <Agency>")
    assert "Links: 5 sent · 2 opened · 1 answered · 3 expired" in card.text


async def test_a_restart_mid_questionnaire_resumes_it_and_edits_cancel_and_typed_answers_work(
    telegram: FakeTelegram, running_bot: RunningBot, clock: ManualClock
) -> None:
    mia = await _manager(telegram)
    payload, _ = await _request_link(mia)
    other, _ = await _request_link(mia)
    words = WORDS["en"]

    # /cancel in the middle, then the same link starts over.
    zoe = telegram.private_user("Zoe", language_code="en")
    opened = await zoe.start(other)
    question = opened.messages[-1]
    three_to_six = next(data for text, data in question.buttons if text == words["durations"]["3-6"])
    cancelled = await zoe.send("/cancel")
    assert "Cancelled — nothing was sent." in cancelled.text
    assert question.buttons == []  # /cancel takes the question's buttons off
    assert three_to_six is not None
    stale = await zoe.press_data(three_to_six, question.message_id)  # a client still showing them
    assert "This button is out of date." in stale.popup and not stale.messages and not stale.edits
    assert "Question 1 of 8" in (await zoe.start(other)).text

    kate = telegram.private_user("Kate", language_code="en")
    opened = await kate.start(payload)
    assert "Question 1 of 8" in opened.text
    switched = await kate.press("🇷🇺 Русский", opened.messages[0])
    assert "Здравствуйте!" in switched.text and "Вопрос 1 из 8" in switched.text
    assert telegram.menu_descriptions(kate.id, kate.id)["language"] == "Сменить язык"  # the menu follows, too
    back = await kate.press("🇬🇧 English", opened.messages[0])
    assert "Hello!" in back.text
    assert telegram.menu_descriptions(kate.id, kate.id)["language"] == "Switch language"
    clock.advance(STEP)
    typed = await kate.send("8")
    assert "Question 2 of 8" in typed.text
    sticker = await kate.send_sticker()
    assert "Please choose one of the buttons below." in sticker.text and "Question 2 of 8" in sticker.text
    await kate.press(words["markets"]["both"])
    wrong = await kate.send("seven")
    assert "Please rate from 1 to 5" in wrong.text
    consistency_three = next(data for text, data in wrong.messages[-1].buttons if text == "3")
    await kate.send("4")
    long = await kate.send("x" * 1500)
    assert "That is 1500 characters; the limit here is 1000." in long.text
    note = await kate.send("Briefs are <i>mostly</i> clear")
    assert "Question 4 of 8" in note.text

    await running_bot.restart()
    clock.advance(STEP)
    carried_on = await kate.send("5")  # the conversation survived the restart: the typed rating counts
    assert "Respect: 5 of 5 ✓" in carried_on.text
    resumed = await kate.start(payload)
    assert "Welcome back! Let's continue where you left off." in resumed.text
    assert "Respect: 5 of 5 ✓" in resumed.text
    mid = await kate.send("/start")
    assert "You are in the middle of the reference about Nord <Agency>" in mid.text
    back_to_rating = await kate.press("◀ Back")
    assert "✓ 5" in [text for text, _ in back_to_rating.edits[-1].buttons]
    await kate.press("5")
    await kate.press(words["skip"])
    for _step in range(2):
        await kate.press("4")
        await kate.press(words["skip"])
    await kate.press(words["again"]["maybe"])
    clock.advance(STEP)
    summary = await kate.press(words["skip"])
    assert "Consistency: 4 — Briefs are <i>mostly</i> clear" in summary.text
    assert "Worked together: 8 months · 🇷🇺 Russia + 🇺🇸 USA" in summary.text  # typed, so shown as typed

    await kate.press(words["edit"])
    await kate.press("Reliability")
    await kate.press("2")
    edited = await kate.press(words["skip"])
    assert "Reliability: 2" in edited.text and words["summary"] in edited.text
    summary_message = kate.last_message()
    assert summary_message is not None
    stale = await kate.press_data(consistency_three, summary_message.message_id)  # a rating button from long ago
    assert "This button belongs to an earlier question." in stale.popup and not stale.messages and not stale.edits
    await kate.press(words["send"])

    rows = await running_bot.query(
        "SELECT worked_months, worked_range, market, consistency, consistency_comment, respect, reliability, growth, "
        "again, too_fast, locale FROM reference_answers"
    )
    assert rows == [(8, "6to12", "both", 4, "Briefs are <i>mostly</i> clear", 5, 2, 4, "maybe", 0, "en")]
    assert len(_notifications(mia)) == 1


async def test_a_stolen_database_does_not_say_who_answered(
    telegram: FakeTelegram, running_bot: RunningBot, clock: ManualClock, bot_logs: LogCapture, tmp_path: Path
) -> None:
    """Two creators answer through the real bot, in Russian and in English, typing comments; then the database
    file (and a backup of it) is attacked as someone who took it would: nothing ties an answer to an account."""
    mia = await _manager(telegram)
    first, _ = await _request_link(mia, "Маша")
    second, _ = await _request_link(mia)
    masha = telegram.private_user("Маша", language_code="ru")
    await _answer(masha, first, "ru", clock=clock, comments=("Бриф каждый понедельник", None, None, None),
                  anything_else="Платят в срок")
    john = telegram.private_user("John", language_code="en")
    await _answer(john, second, "en", clock=clock, comments=(None, "They ask what I do best", None, None))
    creators = (masha, john)
    assert len(await _answers_rows(running_bot)) == 2
    profiles = await running_bot.query("SELECT id FROM users")
    assert masha.id not in {i for (i,) in profiles} and john.id not in {i for (i,) in profiles}  # forgotten
    assert mia.id in {i for (i,) in profiles}
    assert running_bot.app is not None
    key_file = running_bot.app.settings.respondent_key_file()
    backup = make_backup(running_bot.database_path, tmp_path / "stolen-backups", keep=1, now=clock.now())
    await running_bot.stop()

    database = running_bot.database_path
    assert key_file == database.with_suffix(".key") and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    secret = bytes.fromhex(key_file.read_text().strip())
    for stolen in (database, backup):
        broken = recover_respondents(
            stolen, extra_candidates=[c.id for c in creators], extra_secrets=[telegram.token.encode()]
        )
        assert broken == {}, f"{stolen.name}: {broken}"
        # And the raw bytes, free space included: no raw update, no conversation, no key, no token.
        raw = b"".join(p.read_bytes() for p in (stolen, Path(f"{stolen}-wal")) if p.exists())
        for creator in creators:
            assert str(creator.id).encode() not in raw, f"{stolen.name} names creator {creator.id}"
        for payload in (first, second):
            assert payload.removeprefix("ref_").encode() not in raw, "a reference token in clear"
        assert secret not in raw and secret.hex().encode() not in raw
    with sqlite3.connect(database) as conn:
        moments = conn.execute("SELECT started_at, finished_at FROM reference_answers").fetchall()
        opened = conn.execute("SELECT opened_at, answered_at FROM reference_links").fetchall()
        seen = conn.execute("SELECT first_seen, last_seen FROM users").fetchall()
    day = clock.now().date().isoformat()
    assert {m for row in moments + opened for m in row} == {day}  # days, not the second they tapped Send
    assert {m for row in seen for m in row} == {day}  # nor the second an account first wrote

    # The attack is not blind: the same rows under the old formula give both creators away.
    with sqlite3.connect(database) as conn:
        partner_id = conn.execute("SELECT DISTINCT partner_id FROM reference_answers").fetchone()[0]
        for creator in creators:
            conn.execute(
                "UPDATE reference_answers SET respondent_key = ? WHERE respondent_key = ?",
                (legacy_key(partner_id, creator.id), RespondentKeys(secret).of(partner_id, creator.id)),
            )
    assert set(recover_respondents(database, extra_candidates=[c.id for c in creators]).values()) == {
        masha.id,
        john.id,
    }

    # The questionnaire's own log lines do not say whose chat they came from.
    lines = [line for line in bot_logs.lines if "handler=references." in line]
    assert lines
    steps = [line for line in bot_logs.lines if "handler=aiogram_dialog." in line]  # the questionnaire's dialog
    assert steps
    lines += steps
    assert not [line for line in lines for c in creators if f"chat={c.id}" in line]


async def test_the_key_survives_a_restart_and_a_creator_still_finds_and_unlinks_their_answer(
    telegram: FakeTelegram, running_bot: RunningBot, clock: ManualClock
) -> None:
    """The bot can still compute a creator's own key: one answer per account after a restart, /mydata lists it,
    /deletemydata unlinks it for good."""
    mia = await _manager(telegram)
    first, _ = await _request_link(mia, "Оля")
    second, _ = await _request_link(mia, "Оля ещё раз")
    olga = telegram.private_user("Ольга", language_code="ru")
    await _answer(olga, first, "ru", clock=clock, comments=(None, None, "Платят вовремя", None))
    key_file = running_bot.database_path.with_suffix(".key")
    secret = key_file.read_bytes()

    await running_bot.restart()
    assert key_file.read_bytes() == secret  # read, not made anew
    refused = await olga.start(second)
    assert "Вы уже оставили отзыв о Nord <Agency>" in refused.text

    await olga.send("/mydata")
    [(file, _caption)] = await sent_files(telegram, "sendDocument", "document")
    data = json.loads(file.content.decode("utf-8"))
    mine = [row for row in data["your_reference_answers_and_opened_links"] if row["table"] == "reference_answers"]
    assert [row["reliability_comment"] for row in mine] == ["Платят вовремя"]
    assert "respondent_key" not in mine[0] and "opened_by_key" not in json.dumps(data)

    plan = await olga.send("/deletemydata")
    assert "ваш отзыв о партнёре (1)" in plan.text
    await olga.press("🗑 Да, удалить мои данные")
    keys = await running_bot.query("SELECT respondent_key FROM reference_answers")
    assert len(keys) == 1 and keys[0][0].startswith("erased:")
    opened = await running_bot.query("SELECT opened_by_key FROM reference_links WHERE opened_by_key IS NOT NULL")
    assert opened and all(value.startswith("erased:") for (value,) in opened)
    await mia.send("/partners")
    card = await mia.press("Nord <Agency>")
    assert "1 creator answered" in card.text  # the team keeps the answer, about nobody


LATE_RATING = {"en": "“5” looks like a rating rather than a comment", "ru": "«5» похоже на оценку, а не на комментарий"}


@pytest.mark.parametrize("locale", ["en", "ru"])
async def test_a_digit_typed_at_a_comment_step_is_not_taken_for_the_comment(
    telegram: FakeTelegram, running_bot: RunningBot, locale: str
) -> None:
    mia = await _manager(telegram)
    payload, _ = await _request_link(mia)
    words = WORDS[locale]
    eva = telegram.private_user("Eva", language_code=locale)
    await eva.start(payload)
    await eva.press(words["durations"]["6-12"])
    await eva.press(words["markets"]["ru"])
    await eva.press("4")
    late = await eva.send("5")  # meant for the next question, which is not asked yet
    assert LATE_RATING[locale] in late.text
    await eva.press(words["skip"])
    for _ in range(3):
        await eva.press("4")
        await eva.press(words["skip"])
    await eva.press(words["again"]["yes"])
    summary = await eva.press(words["skip"])
    assert words["summary"] in summary.text and "— 5" not in summary.text
    await eva.press(words["send"])
    assert await running_bot.query("SELECT consistency_comment, consistency FROM reference_answers") == [(None, 4)]


async def _link_hash(running_bot: RunningBot) -> str:
    [(token_hash,)] = await running_bot.query("SELECT token_hash FROM reference_links ORDER BY id DESC LIMIT 1")
    return token_hash


async def test_a_questionnaire_left_halfway_by_the_previous_version_resumes_in_the_dialog(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    """Before the questionnaire was a dialog it kept a state per kind of question in FSM state, the step and the
    answers in FSM data; one left halfway across the upgrade resumes at its step when the link is opened again."""
    mia = await _manager(telegram)
    payload, _ = await _request_link(mia)
    ira = telegram.private_user("Ira", language_code="en")
    await ira.start(payload)  # opened: the link is hers
    draft = {"link_hash": await _link_hash(running_bot), "partner_id": 1, "step": "r", "editing": False,
             "duration": "3to6", "months": None, "market": "ru", "ratings": {"consistency": 4},
             "comments": {"consistency": "Clear briefs"}, "again": None, "anything_else": None,
             "started_at": "2026-11-30T10:00:00+00:00", "message_id": 3}
    assert running_bot.app is not None
    await running_bot.app.db.execute("DELETE FROM fsm_states WHERE key LIKE ?", (f"fsm:{ira.id}:%",))
    await running_bot.app.db.execute(
        "INSERT INTO fsm_states (key, state, data, updated_at) VALUES (?, ?, ?, '2026-11-30T10:00:00+00:00')",
        (f"fsm:{ira.id}:{ira.id}:default", "ReferenceForm:waiting_for_rating", json.dumps({"reference": draft})),
    )
    await running_bot.restart()
    resumed = await ira.start(payload)
    assert "Welcome back! Let's continue where you left off." in resumed.text
    assert "Question 4 of 8" in resumed.text and "Respect" in resumed.text
    await ira.press("5")
    await ira.press("Skip")
    for _step in range(2):
        await ira.press("4")
        await ira.press("Skip")
    await ira.press(WORDS["en"]["again"]["yes"])
    summary = await ira.press("Skip")
    assert "Consistency: 4 — Clear briefs" in summary.text and "Worked together: 3–6 months" in summary.text
    await ira.press(WORDS["en"]["send"])
    rows = await running_bot.query("SELECT worked_range, market, consistency, respect FROM reference_answers")
    assert rows == [("3to6", "ru", 4, 5)]
    assert await running_bot.query("SELECT key FROM fsm_states WHERE key LIKE ?", (f"fsm:{ira.id}:%",)) == []


async def test_the_nightly_clean_up_deletes_a_questionnaire_nobody_finished(
    telegram: FakeTelegram, running_bot: RunningBot, clock: ManualClock
) -> None:
    """The dialog's records of a questionnaire left for four weeks go (and with them the tie between the creator's
    chat and the draft); a teammate's open form stays; the creator's old buttons are stale, the link starts over."""
    mia = await _manager(telegram)
    payload, _ = await _request_link(mia)
    await mia.send("/newpartner")  # a form of the team's own, left open
    una = telegram.private_user("Una", language_code="en")
    opened = await una.start(payload)
    await una.press(WORDS["en"]["durations"]["6-12"])
    assert running_bot.app is not None
    before = await running_bot.query("SELECT key FROM fsm_states WHERE key LIKE ?", (f"fsm:{una.id}:%",))
    assert len(before) == 2  # the dialog's context and stack
    await running_bot.app.db.execute("UPDATE fsm_states SET updated_at = '2026-10-01T00:00:00+00:00'")
    clock.advance(timedelta(days=1))
    job = running_bot.app.scheduler.get_job("prune-reference-drafts")
    assert job is not None
    await job.func()
    assert await running_bot.query("SELECT key FROM fsm_states WHERE key LIKE ?", (f"fsm:{una.id}:%",)) == []
    assert await running_bot.query("SELECT COUNT(*) FROM fsm_states WHERE key LIKE ?", (f"fsm:{mia.id}:%",)) != [(0,)]
    back = next(data for text, data in opened.messages[-1].buttons if text == "◀ Back")
    stale = await una.press_data(back, opened.messages[-1].message_id)
    assert "This button is out of date." in stale.popup and not stale.messages
    assert "Question 1 of 8" in (await una.start(payload)).text


async def test_the_name_for_a_link_refused_says_why_and_keeps_the_question(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    mia = await _manager(telegram)
    await mia.press("🗣 References")
    asked = await mia.press("➕ Request a reference")
    assert "Who is this link for?" in asked.text and len(asked.messages) == 1  # a new message, the list stays
    long = await mia.send("M" * 100)
    assert "That is 100 characters" in long.text and "Who is this link for?" in long.text
    assert "Skip ⏭" in [text for text, _data in long.messages[-1].buttons]
    sticker = await mia.send_sticker()
    assert "Who is this link for?" in sticker.text
    made = await mia.send("Masha")
    assert "for Masha" in made.text and LINK.search(made.text)
    assert await running_bot.query("SELECT label FROM reference_links") == [("Masha",)]
    assert "There is nothing to cancel." in (await mia.send("/cancel")).text  # the request is over
