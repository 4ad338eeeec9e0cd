"""Guessing deep links costs something: failures counted per person, a lock-out after five, one WARNING."""

from __future__ import annotations

import logging
import re
import secrets
from datetime import timedelta

from bot.clock import ManualClock
from tests.e2e.conftest import LogCapture, RunningBot
from tests.e2e.fake_telegram import FakeTelegram
from tests.e2e.people import PrivateUser

LINK = re.compile(r"\?start=(join_[A-Za-z0-9_-]+)")
LOCKED_EN = "Too many invalid links. Try again in {} minutes."
INVALID_EN = {
    "join_": "This invite link is not valid.",
    "ref_": "This reference link is not valid.",
    "ci_": "This check-in link is not valid.",
    "": "This link is not valid or has expired.",
}


def _wrong(count: int) -> list[tuple[str, str]]:
    """(prefix, payload): invite, reference, check-in and no known kind at all, in turn."""
    prefixes = ["join_", "ref_", "ci_", ""]
    made = []
    for i in range(count):
        prefix = prefixes[i % len(prefixes)]
        made.append((prefix, prefix + (secrets.token_urlsafe(24) if prefix else "x" + secrets.token_hex(16))))
    return made


def _wrong_payloads(count: int) -> list[str]:
    return [payload for _prefix, payload in _wrong(count)]


async def _owner_link(telegram: FakeTelegram) -> tuple[PrivateUser, str]:
    emma = telegram.private_user("Emma", language_code="en")
    await emma.start()
    await emma.send("Acme")
    await emma.send("/team")
    reaction = await emma.press("➕ Create invite link")
    match = LINK.search(reaction.text)
    assert match is not None, reaction.text
    return emma, match.group(1)


def _warnings(logs: LogCapture) -> list[str]:
    return [
        line
        for line, record in zip(logs.lines, logs.records, strict=True)
        if record.levelno == logging.WARNING and record.name == "bot.deep_links"
    ]


async def test_twenty_wrong_links_lock_the_guesser_out_once_and_a_valid_link_works_after(
    telegram: FakeTelegram, running_bot: RunningBot, clock: ManualClock, bot_logs: LogCapture
) -> None:
    emma, valid = await _owner_link(telegram)
    carl = telegram.private_user("Carl", language_code="en")
    wrong = _wrong(20)
    payloads = [payload for _prefix, payload in wrong]
    answers = []
    for payload in payloads:
        reaction = await carl.start(payload)
        assert reaction.text, "every attempt gets an answer"
        answers.append(reaction.text)
    for (prefix, _payload), answer in zip(wrong[:5], answers[:5], strict=True):
        assert INVALID_EN[prefix] in answer
    assert answers[5:] == [LOCKED_EN.format(30)] * 15

    warnings = _warnings(bot_logs)
    assert len(warnings) == 1, warnings
    assert f"user {carl.id}" in warnings[0] and "for 30 minutes" in warnings[0]
    assert warnings[0].rstrip().split(" update=")[0].endswith("the last: join")  # the fifth was an invite link
    rows = await running_bot.query("SELECT user_id, failures, locked_until FROM deep_link_attempts")
    assert rows == [(carl.id, 5, (clock.now() + timedelta(minutes=30)).isoformat())]

    # Even a valid link is refused meanwhile (or guessing would still tell which token exists), and the count
    # survives a restart.
    await running_bot.restart()
    clock.advance(timedelta(minutes=20))
    refused = await carl.start(valid)
    assert refused.text == LOCKED_EN.format(10)
    assert await running_bot.query("SELECT COUNT(*) FROM memberships WHERE user_id = ?", (carl.id,)) == [(0,)]

    # Someone else is not affected: a mistake and then the valid link, as usual.
    dana = telegram.private_user("Dana", language_code="en")
    assert INVALID_EN["join_"] in (await dana.start("join_" + secrets.token_urlsafe(24))).text
    assert "You joined Acme" in (await dana.start(valid)).text

    # After the lock-out the valid link works, and no second WARNING was written.
    clock.advance(timedelta(minutes=10))
    joined = await carl.start(valid)
    assert "You joined Acme" in joined.text
    assert await running_bot.query("SELECT COUNT(*) FROM memberships WHERE user_id = ?", (carl.id,)) == [(1,)]
    assert len(_warnings(bot_logs)) == 1
    told = emma.last_message()
    assert told is not None and "Carl joined with the invite link created by Emma" in (told.text or "")
    for payload in [*payloads, valid]:
        token = payload.partition("_")[2] or payload
        assert not [line for line in bot_logs.lines if token in line], "a payload reached the logs"


async def test_the_lock_out_speaks_russian_with_plurals_and_a_bare_start_still_works(
    telegram: FakeTelegram, running_bot: RunningBot, clock: ManualClock, bot_logs: LogCapture
) -> None:
    boris = telegram.private_user("Борис", language_code="ru")
    for payload in _wrong_payloads(5):
        await boris.start(payload)
    locked = await boris.start("ref_" + secrets.token_urlsafe(24))
    assert locked.text == "Слишком много недействительных ссылок. Попробуйте снова через 30 минут."
    clock.advance(timedelta(minutes=28))
    assert (await boris.start("ci_" + secrets.token_urlsafe(24))).text == (
        "Слишком много недействительных ссылок. Попробуйте снова через 2 минуты."
    )
    clock.advance(timedelta(seconds=90))
    assert (await boris.start("nothing")).text == (
        "Слишком много недействительных ссылок. Попробуйте снова через 1 минуту."
    )
    # /start without a link is no deep link: the greeting, lock-out or not.
    greeting = await boris.start()
    assert "Я <b>Мост</b>" in (greeting.messages[-1].text or "") or "Мост" in greeting.text
    assert "Слишком много" not in greeting.text
    assert len(_warnings(bot_logs)) == 1


async def test_deleting_your_data_does_not_lift_the_lock_out_and_says_so(
    telegram: FakeTelegram, running_bot: RunningBot, clock: ManualClock
) -> None:
    gleb = telegram.private_user("Gleb", language_code="en")
    for payload in _wrong_payloads(5):
        await gleb.start(payload)
    plan = await gleb.send("/deletemydata")
    assert "Kept until it expires by itself, within the hour: the count of invalid links you opened" in plan.text
    await gleb.press("🗑 Yes, delete my data")
    assert await running_bot.query("SELECT COUNT(*) FROM users WHERE id = ?", (gleb.id,)) == [(0,)]
    assert await running_bot.query("SELECT user_id, failures FROM deep_link_attempts") == [(gleb.id, 5)]
    assert (await gleb.start("join_" + secrets.token_urlsafe(24))).text == LOCKED_EN.format(30)
    # Someone who never failed is not told about it.
    hana = telegram.private_user("Hana", language_code="en")
    await hana.start()
    assert "invalid links" not in (await hana.send("/deletemydata")).text
