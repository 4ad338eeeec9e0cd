"""Issue 14: a group is linked to a partnership from the manager's private chat, through Telegram's startgroup link,
and the group never sees any partner but its own. A group linked to one team is not taken over by another."""

from __future__ import annotations

import io
import json
import logging
import re
import secrets
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from bot.keyboards.checkin_callbacks import RelinkCallback
from tests.e2e.conftest import LogCapture, RunningBot
from tests.e2e.fake_telegram import BOT_USERNAME, FakeTelegram
from tests.e2e.people import Group, PrivateUser, button_url
from tests.e2e.test_checkins import link_group, plain, schedule_and_link
from tests.e2e.test_reports import sent_files
from tests.e2e.vetting_steps import add_partner, onboard

STARTGROUP = re.compile(rf"https://t\.me/{BOT_USERNAME}\?startgroup=(gs_[A-Za-z0-9_-]+)")
SAY = {
    "en": {"card": "🗓 Weekly check-in", "day": "Wednesday", "zone": "Moscow", "hours": "24 hours", "skip": "Skip",
           "private": "Set up in private", "set": "Weekly check-in is set", "when": "Weekly on Wednesday, 10:00 AM",
           "manage": "Change it, or stop it?", "prompt": "Weekly check-in — BlueWave", "linked": "Linked to",
           "gut": "✅ Gut check", "yes": "✅ Yes", "no": "❌ No", "skip_note": "Skip the note"},
    "ru": {"card": "🗓 Еженедельный чек-ин", "day": "Среда", "zone": "Москва", "hours": "24 часа",
           "skip": "Пропустить", "private": "Настроить в личном чате", "set": "Еженедельный чек-ин настроен",
           "when": "среда, 10:00 (Москва)", "manage": "Изменить или остановить?",
           "prompt": "Еженедельный чек-ин — BlueWave", "linked": "подключена",
           "gut": "✅ Быстрая проверка", "yes": "✅ Да", "no": "❌ Нет", "skip_note": "Без заметки"},
}
OTHERS = ("Northwind", "Redline", "Gutless")  # Gutless fails its gut check


def group_traffic(telegram: FakeTelegram, group: Group) -> str:
    """Everything the bot ever sent or edited in the group: texts, captions, buttons (as JSON of the requests)."""
    calls = [call for call in telegram.calls if call.chat_id == group.id and call.method != "getUpdates"]
    assert calls, "the bot said nothing in the group"
    stored = [m.text or "" for m in telegram.sent_to(group.id)]
    return json.dumps([call.params for call in calls], ensure_ascii=False) + "\n".join(stored)


async def fail_gut_check(user: PrivateUser, say: dict[str, str]) -> None:
    await user.press(say["gut"])
    await user.press(say["yes"])
    await user.press(say["no"])
    await user.press(say["yes"])
    await user.press(say["skip_note"])


async def team(telegram: FakeTelegram, name: str, locale: str, workspace: str,
               partners: tuple[str, ...]) -> PrivateUser:
    owner = telegram.private_user(name, language_code=locale)
    await onboard(owner, workspace)
    for partner in partners:
        await add_partner(owner, partner, locale)
    return owner


async def wizard_link(manager: PrivateUser, partner: str, say: dict[str, str]) -> str:
    """/checkin in private up to the startgroup button; returns its url."""
    await manager.send("/checkin")
    await manager.press(partner)
    await manager.press(say["day"])
    await manager.press("10:00")
    await manager.press(say["zone"])
    await manager.press(say["hours"])
    await manager.press(say["skip"])
    return button_url(manager.last_message(), "➕")


@pytest.mark.parametrize("locale", ["en", "ru"])
async def test_the_group_sees_only_its_own_partner(
    telegram: FakeTelegram, running_bot: RunningBot, clock, locale: str
) -> None:
    say = SAY[locale]
    anna = await team(telegram, "Anna", locale, "Acme", OTHERS)
    await fail_gut_check(anna, say)  # on the card of the last partner added: Gutless
    await add_partner(anna, "BlueWave", locale)
    assert await running_bot.query("SELECT name FROM partners WHERE stage = 'gut_failed'") == [("Gutless",)]
    group = telegram.group("BlueWave pilot", language_code=locale)
    group.add_member(anna, "creator")
    partner_person = telegram.private_user("Pat", language_code=locale)
    group.add_member(partner_person, "member")

    # /checkin typed in the group before anything is linked: the bot is added the old way, and answers with a
    # button to the private chat — no list of partners.
    await group.add_bot(by=anna)
    redirected = await group.send(anna, "/checkin")
    assert button_url(redirected.messages[-1], say["private"]) == f"https://t.me/{BOT_USERNAME}?start=checkin"
    await group.remove_bot(by=anna)

    # The partner card's button starts the wizard in private; the last step is the startgroup button.
    started = await anna.press(say["card"])
    assert "BlueWave" in started.text and "2" in started.text
    await anna.press(say["day"])
    await anna.press("10:00")
    await anna.press(say["zone"])
    await anna.press(say["hours"])
    ready = await anna.press(say["skip"])
    url = button_url(ready.messages[-1] if ready.messages else anna.last_message(), "➕")
    payload = STARTGROUP.fullmatch(url)
    assert payload is not None and len(payload.group(1)) <= 64, url
    assert payload.group(1) not in json.dumps(await running_bot.query("SELECT * FROM group_link_tokens"))

    linked = await group.add_bot_by_link(anna, url)
    in_group = plain("\n".join(m.text or "" for m in linked.messages if m.chat_id == group.id))
    assert say["set"] in in_group and "BlueWave" in in_group and say["when"] in in_group
    assert say["linked"] in plain(anna.last_message().text), "the wizard's live message is edited"
    assert await running_bot.query("SELECT chat_id, active FROM checkin_schedules") == [(group.id, 1)]

    manage = await group.send(anna, "/checkin")
    assert say["manage"] in manage.text and "BlueWave" in manage.text
    assert button_url(manage.messages[-1], "✏️").endswith("?start=checkin")
    await group.send(partner_person, "/checkin")  # not an admin: refused, and nothing named
    clock.set(datetime(2026, 11, 25, 7, 0, tzinfo=UTC))  # Wednesday 10:00 Moscow
    assert (await running_bot.app.run_checkin_jobs()).prompts == 1
    assert any(say["prompt"] in (m.text or "") for m in group.messages())

    traffic = group_traffic(telegram, group)
    for other in OTHERS:
        assert other not in traffic, f"{other} was shown in the group"
    assert "Acme" not in traffic


async def two_teams(telegram: FakeTelegram, running_bot: RunningBot) -> tuple[PrivateUser, PrivateUser, Group]:
    """Anna's team (Acme) has the group for BlueWave; Boris's team (Zenith) wants it for Orbit."""
    anna = await team(telegram, "Anna", "en", "Acme", ("BlueWave",))
    boris = await team(telegram, "Boris", "ru", "Zenith", ("Orbit", "Secret Co"))
    group = telegram.group("Shared pilot", language_code="en")
    group.add_member(anna, "creator")
    group.add_member(boris, "administrator")
    await anna.send("/checkin")
    await anna.press("BlueWave")
    assert "Weekly check-in is set" in await schedule_and_link(group, anna, "Wednesday", "10:00", "Moscow",
                                                                "24 hours", None)
    return anna, boris, group


async def boris_asks(telegram: FakeTelegram, running_bot: RunningBot, anna: PrivateUser, boris: PrivateUser,
                     group: Group) -> None:
    say = SAY["ru"]
    url = await wizard_link(boris, "Orbit", say)
    before = len(telegram.sent_to(group.id))
    asked = await group.add_bot_by_link(boris, url)
    told = "\n".join(m.text or "" for m in telegram.sent_to(group.id)[before:])
    assert "belongs to another team" in told and "BlueWave" not in told and "Orbit" not in told  # in English
    assert "спросил владельца" in plain(boris.last_message().text)
    assert asked.delivered
    question = anna.last_message()
    assert "Boris" in question.text and "Shared pilot" in question.text and "Orbit" not in question.text
    assert [text for text, _ in question.buttons] == ["Agree", "Refuse"]
    rows = await running_bot.query("SELECT w.name FROM checkin_schedules s JOIN workspaces w ON w.id = s.workspace_id")
    assert rows == [("Acme",)], "not relinked before the owner answers"
    assert await running_bot.query("SELECT COUNT(*) FROM group_relink_requests WHERE decided_at IS NULL") == [(1,)]


async def test_another_team_asks_for_the_group_and_the_owner_agrees(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    anna, boris, group = await two_teams(telegram, running_bot)
    assert running_bot.app is not None
    await running_bot.app.db.execute(  # a week of Acme's check-ins in this group, before Boris asks
        "INSERT INTO checkin_rounds (schedule_id, partner_id, occurrence, token, digest_hours, status, sent_at, "
        "digest_at, closed_at, created_at) SELECT id, partner_id, '2026-11-18T07:00:00+00:00', 'acmeround01', 24, "
        "'closed', '2026-11-18T07:00:00+00:00', '2026-11-19T07:00:00+00:00', '2026-11-19T07:00:00+00:00', "
        "'2026-11-18T07:00:00+00:00' FROM checkin_schedules"
    )
    await boris_asks(telegram, running_bot, anna, boris, group)
    question = anna.last_message()
    agree_data = question.buttons[0][1] or ""

    # Forged presses: Boris sends the same callback data from his own chat; a stranger too. Nothing changes.
    data = RelinkCallback(request_id=1, agree=True).pack()
    forged = await boris.press_data(data, boris.last_message().message_id)
    assert "устарела" in forged.popup and not forged.messages
    await running_bot.restart()  # the request survives a restart
    before = len(telegram.sent_to(group.id))
    agreed = await anna.press("Agree", question)
    assert "You agreed" in agreed.text
    rows = await running_bot.query("SELECT w.name, p.name FROM checkin_schedules s "
                                   "JOIN workspaces w ON w.id = s.workspace_id JOIN partners p ON p.id = s.partner_id")
    assert rows == [("Zenith", "Orbit")]
    told = "\n".join(m.text or "" for m in telegram.sent_to(group.id)[before:])
    assert "Orbit" in told and "BlueWave" not in told and "Secret Co" not in told
    assert "согласился" in boris.last_message().text
    assert not question.buttons, "the answered question loses its buttons"
    again = await anna.press_data(agree_data, question.message_id)  # a second press, or a replay
    assert "out of date" in again.popup and not again.messages
    assert "Secret Co" not in group_traffic(telegram, group)

    # Acme's round stays Acme's: it is not in Zenith's export, it is in Acme's, and the group's /digest (Zenith's
    # now) does not post it.
    await boris.send("/export")
    [_summary, (zenith_export, _caption)] = await sent_files(telegram, "sendDocument", "document", 2)
    zenith = zipfile.ZipFile(io.BytesIO(zenith_export.content))
    assert not [n for n in zenith.namelist() if "BlueWave" in zenith.read(n).decode("utf-8-sig")]
    await anna.send("/export")
    # Both exports' files: waiting for two alone would be satisfied by Zenith's, already there.
    [*_zenith, _summary, (acme_export, _caption)] = await sent_files(telegram, "sendDocument", "document", 4)
    acme = zipfile.ZipFile(io.BytesIO(acme_export.content))
    rounds = [n for n in acme.namelist() if "BlueWave" in acme.read(n).decode("utf-8-sig")]
    assert any("round" in n for n in rounds), acme.namelist()
    digest = await group.send(anna, "/digest")
    assert "BlueWave" not in digest.text and "— —" not in digest.text


async def test_another_team_asks_for_the_group_and_the_owner_refuses(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    anna, boris, group = await two_teams(telegram, running_bot)
    await boris_asks(telegram, running_bot, anna, boris, group)
    refused = await anna.press("Refuse", anna.last_message())
    assert "keeps your weekly check-in" in refused.text
    rows = await running_bot.query("SELECT w.name, p.name, s.active FROM checkin_schedules s "
                                   "JOIN workspaces w ON w.id = s.workspace_id JOIN partners p ON p.id = s.partner_id")
    assert rows == [("Acme", "BlueWave", 1)]
    assert "отказал" in boris.last_message().text
    assert "Orbit" not in group_traffic(telegram, group) and "Secret Co" not in group_traffic(telegram, group)


async def test_expired_used_and_forged_links_name_no_partner(
    telegram: FakeTelegram, running_bot: RunningBot, clock, bot_logs: LogCapture
) -> None:
    say = SAY["en"]
    anna = await team(telegram, "Anna", "en", "Acme", (*OTHERS, "BlueWave"))
    group = telegram.group("Pilot", language_code="en")
    group.add_member(anna, "creator")
    url = await wizard_link(anna, "BlueWave", say)
    await group.add_bot_by_link(anna, url)

    used = await group.add_bot_by_link(anna, url)
    assert "already used" in used.text

    stale = await wizard_link(anna, "Northwind", say)
    clock.advance(timedelta(hours=24, minutes=1))
    expired = await group.add_bot_by_link(anna, stale)
    assert "expired" in expired.text
    forged_links = ("gs_" + secrets.token_urlsafe(24), "gs_" + "B" * 32, "gs_short", "gs_" + "A" * 61)
    for forged in forged_links:
        reply = await group.send(anna, f"/start@{BOT_USERNAME} {forged}")
        assert "not valid" in reply.text, forged
    # Five failed group links within ten minutes (the expired one, four forged; the used one was a day earlier)
    # lock the sender's deep links, as in private.
    fresh = await wizard_link(anna, "Northwind", say)
    locked = await group.add_bot_by_link(anna, fresh)
    assert "Too many invalid links" in locked.text and "Northwind" not in locked.text
    warnings = [line for line, record in zip(bot_logs.lines, bot_logs.records, strict=True)
                if record.levelno == logging.WARNING and record.name == "bot.deep_links"]
    assert len(warnings) == 1 and f"user {anna.id}" in warnings[0] and "the last: gs" in warnings[0], warnings
    for token in (*forged_links, url, stale, fresh):
        secret = token.rsplit("gs_", 1)[-1]
        assert not [line for line in bot_logs.lines if secret in line], "a group link reached the logs"
    assert await running_bot.query("SELECT p.name FROM checkin_schedules s JOIN partners p ON p.id = s.partner_id") \
        == [("BlueWave",)]
    traffic = group_traffic(telegram, group)
    for other in OTHERS:
        assert other not in traffic


async def test_a_non_admin_or_an_outsider_cannot_use_the_link(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    anna = await team(telegram, "Anna", "en", "Acme", ("BlueWave",))
    carl = telegram.private_user("Carl", language_code="en")  # in the group, not an admin
    dora = await team(telegram, "Dora", "en", "Other", ())  # an admin, but of another team
    group = telegram.group("Pilot", language_code="en")
    group.add_member(anna, "administrator")
    group.add_member(carl, "member")
    group.add_member(dora, "administrator")
    await group.add_bot(by=anna)
    url = await wizard_link(anna, "BlueWave", SAY["en"])

    for person in (carl, dora):  # the link was forwarded to them
        refused = await group.add_bot_by_link(person, url)
        assert "Only a group admin from the team" in refused.text and "BlueWave" not in refused.text
    assert await running_bot.query("SELECT COUNT(*) FROM checkin_schedules") == [(0,)]
    assert "BlueWave" in await link_group(group, anna), "the link still works for its team's admin"


def test_the_fake_rejects_malformed_startgroup_links() -> None:
    from tests.e2e.fake_telegram import parse_startgroup_link

    assert parse_startgroup_link(f"https://t.me/{BOT_USERNAME}?startgroup=gs_x&admin=pin_messages+manage_topics") \
        .admin_rights == ("pin_messages", "manage_topics")
    for bad in (f"https://t.me/{BOT_USERNAME}?startgroup=gs_x&admin=can_pin_messages",
                "https://t.me/other_bot?startgroup=gs_x", f"https://t.me/{BOT_USERNAME}?start=gs_x",
                f"https://t.me/{BOT_USERNAME}?startgroup=" + "a" * 65, f"http://t.me/{BOT_USERNAME}?startgroup=x"):
        with pytest.raises(AssertionError):
            parse_startgroup_link(bad)


async def test_a_teammate_relinks_within_the_team_and_the_owner_is_told(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    anna, _boris, group = await two_teams(telegram, running_bot)
    await anna.send("/team")
    invite = await anna.press("Create invite link")
    match = re.search(rf"https://t\.me/{BOT_USERNAME}\?start=(join_[A-Za-z0-9_-]+)", invite.text)
    assert match is not None
    mia = telegram.private_user("Mia", language_code="en")
    await mia.start(match.group(1))
    await add_partner(mia, "Skyline", "en")
    group.add_member(mia, "administrator")

    url = await wizard_link(mia, "Skyline", SAY["en"])
    linked = await group.add_bot_by_link(mia, url)
    assert "Skyline" in linked.text and "Weekly check-in is set" in linked.text
    notice = anna.last_message().text
    assert "Mia changed the weekly check-in" in notice and "Skyline" in notice
    rows = await running_bot.query("SELECT p.name FROM checkin_schedules s JOIN partners p ON p.id = s.partner_id")
    assert rows == [("Skyline",)]
    assert await running_bot.query("SELECT COUNT(*) FROM group_relink_requests") == [(0,)], "no question asked"
    assert "Orbit" not in group_traffic(telegram, group)


async def test_a_stopped_check_in_taken_by_another_team_is_reported_to_the_first_owner(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    anna, boris, group = await two_teams(telegram, running_bot)
    carl = telegram.private_user("Carl", language_code="en")  # Anna's teammate and a group admin
    await anna.send("/team")
    invite = await anna.press("Create invite link")
    match = re.search(rf"https://t\.me/{BOT_USERNAME}\?start=(join_[A-Za-z0-9_-]+)", invite.text)
    assert match is not None
    await carl.start(match.group(1))
    group.add_member(carl, "administrator")

    await group.send(carl, "/checkin")
    stopped = await group.press(carl, "⏹ Stop")
    assert "stopped" in stopped.text
    assert "Carl stopped the weekly check-in of “Shared pilot”" in anna.last_message().text

    url = await wizard_link(boris, "Orbit", SAY["ru"])
    linked = await group.add_bot_by_link(boris, url)
    assert "Orbit" in linked.text, "a stopped check-in is not asked about"
    notice = anna.last_message().text
    assert "“Shared pilot”, where your weekly check-in was stopped, now has another team's" in notice
    assert "Orbit" not in notice and "Boris" not in notice


async def test_agreeing_after_the_asker_lost_group_admin_changes_nothing(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    anna, boris, group = await two_teams(telegram, running_bot)
    await boris_asks(telegram, running_bot, anna, boris, group)
    question = anna.last_message()
    group.add_member(boris, "member")  # days later Boris is no longer an admin of the group
    agreed = await anna.press("Agree", question)
    assert "Nothing changed" in agreed.text and "no longer a group admin" in agreed.text
    rows = await running_bot.query("SELECT w.name, s.active FROM checkin_schedules s "
                                   "JOIN workspaces w ON w.id = s.workspace_id")
    assert rows == [("Acme", 1)]
    assert await running_bot.query("SELECT decision FROM group_relink_requests") == [("refused",)]
