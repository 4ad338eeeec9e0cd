"""Weekly async check-ins in a partnership's group chat, end to end, in English and Russian.

Time is a ManualClock: tests move it and call `app.run_checkin_jobs()`, which runs whatever is due at
clock.now() — exactly what the scheduler's CronTrigger and the minute sweep call in production.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.domain.checkins import WeeklyTime
from bot.domain.partners import MarketCoverage, Stage
from bot.storage.campaigns import CampaignRepo, CampaignScope
from bot.storage.checkins import CheckinRepo, NewSchedule
from bot.views.checkin_texts import health_lines
from tests.e2e.conftest import RunningBot
from tests.e2e.fake_telegram import BOT_USERNAME, FakeTelegram, StoredMessage
from tests.e2e.people import Group, PrivateUser, act, button_url, text_entities
from tests.e2e.vetting_steps import add_partner, onboard

TOKEN = re.compile(rf"https://t\.me/{BOT_USERNAME}\?start=(ci_[A-Za-z0-9_-]+)")


def prompts(group: Group, marker: str) -> list[StoredMessage]:
    return [m for m in group.messages() if marker in (m.text or "")]


def token_of(prompt: StoredMessage) -> str:
    urls = [value for _, value in prompt.buttons if value and value.startswith("https://t.me/")]
    match = TOKEN.fullmatch(urls[0])
    assert match, urls
    return match.group(1)


def last_from(group: Group, user: PrivateUser) -> StoredMessage:
    return [m for m in group.chat.messages.values() if m.sender.get("id") == user.id][-1]


async def edit_in_group(telegram: FakeTelegram, group: Group, message: StoredMessage, new_text: str) -> None:
    """The member edits their reply; Telegram sends edited_message."""
    message.history.append(replace(message, history=[]))
    message.text, message.entities = new_text, text_entities(new_text)
    message.edit_date = int(telegram.now())
    await act(telegram, {group.id}, lambda: telegram.deliver("edited_message", message), "an edit",
              require_answer=False)


async def set_up(group: Group, admin: PrivateUser, partner: str, day: str, time: str, zone: str,
                 hours: str, doc: str | None) -> str:
    """The manager runs /checkin in private (a time or zone not on a button is typed), then brings the bot into the
    group with the wizard's startgroup button; returns what the group was told."""
    await admin.send("/checkin")
    await admin.press(partner)
    return await schedule_and_link(group, admin, day, time, zone, hours, doc)


async def schedule_and_link(group: Group, admin: PrivateUser, day: str, time: str, zone: str, hours: str,
                            doc: str | None) -> str:
    """Steps 2-6 of the private wizard, then the startgroup link used in the group."""
    await admin.press(day)
    if ":" in time and time in [t for t, _ in admin.last_message().buttons]:
        await admin.press(time)
    else:
        await admin.send(time)
    if "/" in zone:
        await admin.send(zone)
    else:
        await admin.press(zone)
    await admin.press(hours)
    if doc is None:
        await admin.press("Skip" if "hours" in hours else "Пропустить")
    else:
        await admin.send(doc)
    return await link_group(group, admin)


async def link_group(group: Group, admin: PrivateUser) -> str:
    """The wizard's last message carries the startgroup button: the admin uses it on this group."""
    url = button_url(admin.last_message(), "➕")
    reaction = await group.add_bot_by_link(admin, url)
    return plain("\n".join(m.text or "" for m in reaction.messages if m.chat_id == group.id))


def pilot_scope() -> CampaignScope:
    return CampaignScope(
        creators=1, bigger_confirmed=False, deliverable="1 video", start_date=date(2027, 3, 1), days=60,
        due_date=date(2027, 4, 30), metrics="views", metrics_agreed=True, payment_terms="50/50", revision_limit=2,
        creators_market=MarketCoverage.BOTH, checklist=(), charter_success="a", charter_failure="b",
        charter_renegotiate="c", warnings=(),
    )


def plain(text: str | None) -> str:
    """Babel puts narrow no-break spaces in times ("10:30 AM"); compare with ordinary ones."""
    return (text or "").replace("\u202f", " ").replace("\xa0", " ")


async def partnership(telegram: FakeTelegram, locale: str, partner: str = "BlueWave"):
    manager = telegram.private_user("Anna", language_code=locale)
    await onboard(manager)
    await add_partner(manager, partner, locale)
    group = telegram.group(f"{partner} pilot")
    group.add_member(manager, "administrator")
    return manager, group


async def test_weekly_checkin_in_english(telegram: FakeTelegram, running_bot: RunningBot, clock) -> None:
    anna, group = await partnership(telegram, "en")
    bob = telegram.private_user("Bob", language_code="en")
    carl = telegram.private_user("Carl", language_code="en")
    dana = telegram.private_user("Dana", language_code="en")
    for member in (bob, carl, dana):
        group.add_member(member, "member")
    greeting = await group.add_bot(by=anna)
    assert "weekly async check-in" in greeting.text and "/checkin" in greeting.text

    refused = await group.send(bob, "/checkin")
    assert "only the group's admins" in refused.text
    anonymous = await group.send_as_anonymous_admin("/checkin")
    assert "from your own account" in anonymous.text

    # Tuesday 24 Nov 2026; Wednesday 10:30 in New York (EST) is 15:30 UTC and 18:30 in Moscow.
    confirmation = await set_up(group, anna, "BlueWave", "Wednesday", "10:30", "New York", "24 hours",
                                "docs.example.com/pilot")
    assert "Weekly check-in is set" in confirmation
    assert "Weekly on Wednesday, 10:30 AM (New York)" in confirmation
    assert "Moscow: Wednesday, 6:30 PM" in confirmation and "New York: Wednesday, 10:30 AM" in confirmation
    assert "https://docs.example.com/pilot" in confirmation

    clock.set(datetime(2026, 11, 25, 15, 29, tzinfo=UTC))
    assert (await running_bot.app.run_checkin_jobs()).prompts == 0
    clock.set(datetime(2026, 11, 25, 15, 30, tzinfo=UTC))
    assert (await running_bot.app.run_checkin_jobs()).prompts == 1
    [prompt] = prompts(group, "Weekly check-in — BlueWave")
    assert "Do we need a call?" in prompt.text and ("📄 Shared doc", "https://docs.example.com/pilot") in prompt.buttons

    clock.advance(timedelta(hours=1))
    acknowledged = await group.reply_to(bob, prompt.message_id, "1. Two videos\n2. Edit the third\n3. none\n4. no")
    assert [c.method for c in acknowledged.calls] == ["setMessageReaction"]
    first_reply = last_from(group, bob)

    opened = await anna.start(token_of(prompt))
    assert "What shipped" in opened.text
    await anna.send("Landing page copy")
    await anna.send("Launch on Monday")
    await anna.press("No blockers")
    thanks = await anna.press("No, async is fine")
    assert "Your answer is in" in thanks.text

    # Bob edits his reply before the digest: it replaces the first version, and now he asks for a call.
    await edit_in_group(telegram, group, first_reply,
                        "Shipped: three videos\nNext: captions\nBlockers: waiting for the brief\nCall: yes")
    away = await group.send(carl, "/away 2")
    assert "Carl is away until" in away.text
    so_far = await group.send(dana, "/digest")
    assert "Check-in so far" in so_far.text and "Not yet: Dana" in so_far.text

    clock.set(datetime(2026, 11, 26, 3, 30, tzinfo=UTC))  # halfway through the 24 hours
    assert (await running_bot.app.run_checkin_jobs()).reminders == 1
    reminder = group.last_message()
    assert "Halfway to the digest" in reminder.text and "2 of 3" in reminder.text and "@" not in reminder.text
    assert (await running_bot.app.run_checkin_jobs()).reminders == 0  # once

    clock.set(datetime(2026, 11, 26, 15, 30, tzinfo=UTC))
    assert (await running_bot.app.run_checkin_jobs()).digests == 1
    digest = group.last_message().text
    assert "Check-in digest — BlueWave" in digest
    assert "Answered (2 of 3): Anna, Bob" in digest and "No answer from: Dana" in digest and "Away: Carl" in digest
    assert "three videos" in digest and "Two videos" not in digest
    assert "Bob: waiting for the brief" in digest
    assert "Bob asked for a call" in digest

    rows = await running_bot.query("SELECT workspace_id, partner_id FROM checkin_schedules")
    health = await CheckinRepo(running_bot.app.db).health_for_partner(*rows[0])
    assert health is not None and health.rounds == 1 and abs(health.answer_rate - 2 / 3) < 1e-9
    with running_bot.app.i18n.context(), running_bot.app.i18n.use_locale("en"):
        assert "answer rate 67%" in health_lines(health, "en")[0]


async def test_weekly_checkin_in_russian_without_a_call(
    telegram: FakeTelegram, running_bot: RunningBot, clock
) -> None:
    anna, group = await partnership(telegram, "ru", partner="Волна")
    igor = telegram.private_user("Игорь", language_code="ru")
    group.add_member(igor, "member")
    greeting = await group.add_bot(by=anna)
    assert "/checkin" in greeting.text and "Привет" in greeting.text
    assert "только администраторы" in (await group.send(igor, "/checkin")).text
    assert "от своего аккаунта" in (await group.send_as_anonymous_admin("/checkin")).text

    # Monday 10:00 in Moscow is 07:00 UTC and 02:00 in New York (EST).
    confirmation = await set_up(group, anna, "Волна", "Понедельник", "10:00", "Москва", "24 часа", None)
    assert "понедельник, 10:00 (Москва)" in confirmation
    assert "Москва: понедельник, 10:00" in confirmation
    assert "Нью-Йорк: понедельник, 02:00" in confirmation

    clock.set(datetime(2026, 11, 30, 6, 59, tzinfo=UTC))
    assert (await running_bot.app.run_checkin_jobs()).prompts == 0
    clock.set(datetime(2026, 11, 30, 7, 0, tzinfo=UTC))
    assert (await running_bot.app.run_checkin_jobs()).prompts == 1
    [prompt] = prompts(group, "Еженедельный чек-ин — Волна")
    await group.reply_to(igor, prompt.message_id, "Сделали: два ролика\nДальше: монтаж\nБлокеры: нет\nСозвон: нет")
    await anna.start(token_of(prompt))
    await anna.send("Отгрузили бриф")
    await anna.send("Съёмка в четверг")
    await anna.press("Блокеров нет")
    assert "ответ принят" in (await anna.press("Нет, хватит переписки")).text

    clock.set(datetime(2026, 12, 1, 7, 0, tzinfo=UTC))
    assert (await running_bot.app.run_checkin_jobs()).digests == 1
    digest = group.last_message().text
    assert "Итоги чек-ина — Волна" in digest and "Ответили (2 из 2)" in digest
    assert "два ролика" in digest and "Блокеров нет." in digest
    assert "созвон" not in digest.lower()  # nobody asked for a call: no call suggested

    # /checkin again: the current settings, then a change of day.
    current = await group.send(anna, "/checkin")
    assert "Изменить или остановить?" in current.text and "понедельник, 10:00 (Москва)" in current.text
    # A change is made in private: the button opens the private chat (/start checkin), the group sees no list.
    private = button_url(current.messages[-1], "Изменить")
    assert private == f"https://t.me/{BOT_USERNAME}?start=checkin"
    await anna.start("checkin")
    await anna.press("Волна")
    confirmation = await schedule_and_link(group, anna, "Вторник", "11:00", "Москва", "48 часов", None)
    assert "вторник, 11:00 (Москва)" in confirmation and "48 часов" in confirmation

    # Removed from the group: the check-in stops and Anna hears it in private, in Russian.
    await group.remove_bot(by=anna)
    notice = anna.last_message().text
    assert "удалили из группы" in notice and "Волна" in notice
    assert await running_bot.query("SELECT active FROM checkin_schedules") == [(0,)]
    assert running_bot.app.scheduler.get_job("checkin-1") is None


async def test_the_prompt_follows_local_time_across_a_dst_change(
    telegram: FakeTelegram, running_bot: RunningBot, clock
) -> None:
    clock.set(datetime(2027, 3, 3, 12, 0, tzinfo=UTC))
    anna, group = await partnership(telegram, "en")
    await group.add_bot(by=anna)
    await anna.send("/checkin")
    await anna.press("BlueWave")
    await anna.press("Monday")
    await anna.press("09:00")
    unknown = await anna.send("Mars/Olympus_Mons")
    assert "don't know the time zone" in unknown.text
    await anna.send("america/los_angeles")
    await anna.press("12 hours")
    await anna.press("Skip")
    confirmation = await link_group(group, anna)
    assert "Weekly on Monday, 9:00 AM (Los Angeles)" in confirmation and "Moscow: Monday, 8:00 PM" in confirmation

    # 8 March 2027 is still PST (UTC-8): 17:00 UTC. US clocks spring forward on 14 March: then 16:00 UTC.
    job = running_bot.app.scheduler.get_job("checkin-1")
    first = job.trigger.get_next_fire_time(None, datetime(2027, 3, 3, tzinfo=UTC))
    assert first.astimezone(UTC) == datetime(2027, 3, 8, 17, 0, tzinfo=UTC)
    second = job.trigger.get_next_fire_time(None, first + timedelta(minutes=1))
    assert second.astimezone(UTC) == datetime(2027, 3, 15, 16, 0, tzinfo=UTC)

    # A pilot is running; nobody answers two rounds in a row: a communication gap lands in its record, once.
    [(workspace_id, partner_id)] = await running_bot.query("SELECT workspace_id, id FROM partners")
    await CampaignRepo(running_bot.app.db).create(workspace_id, partner_id, 1, pilot_scope(), anna.id, Stage.PILOT,
                                                  clock.now())
    for moment, expected in ((datetime(2027, 3, 8, 16, 59), 0), (datetime(2027, 3, 8, 17, 0), 1),
                             (datetime(2027, 3, 9, 5, 0), 1),  # the 12-hour digest
                             (datetime(2027, 3, 15, 15, 59), 1), (datetime(2027, 3, 15, 16, 0), 2),
                             (datetime(2027, 3, 16, 4, 0), 2)):
        clock.set(moment.replace(tzinfo=UTC))
        await running_bot.app.run_checkin_jobs()
        assert len(prompts(group, "Weekly check-in — BlueWave")) == expected, moment
    health = await CheckinRepo(running_bot.app.db).health_for_partner(workspace_id, partner_id)
    assert health is not None and health.rounds == 2 and health.answer_rate == 0 and health.gap
    events = await running_bot.query("SELECT kind, source FROM campaign_events")
    assert events == [("comm_gap", "checkin")]


async def test_restart_mid_week_and_prompts_missed_while_down(
    telegram: FakeTelegram, running_bot: RunningBot, clock
) -> None:
    anna, group = await partnership(telegram, "en")
    await group.add_bot(by=anna)
    await set_up(group, anna, "BlueWave", "Thursday", "10:00", "Moscow", "24 hours", None)
    count = lambda: len(prompts(group, "Weekly check-in — BlueWave"))  # noqa: E731

    # Thursday 26 Nov, 10:00 Moscow = 07:00 UTC. A restart on Wednesday changes nothing: one prompt comes.
    clock.set(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
    await running_bot.restart()
    await running_bot.app.checkin_startup
    assert count() == 0
    clock.set(datetime(2026, 11, 26, 7, 0, tzinfo=UTC))
    await running_bot.app.run_checkin_jobs()
    await running_bot.app.run_checkin_jobs()
    await running_bot.restart()
    await running_bot.app.checkin_startup
    assert count() == 1

    # Down across the next Thursday's prompt; back 2 hours late: it is sent once, on start.
    await running_bot.stop()
    clock.set(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    await running_bot.start()
    assert (await running_bot.app.checkin_startup).prompts == 1
    assert count() == 2
    await running_bot.restart()
    assert (await running_bot.app.checkin_startup).prompts == 0

    # Down again; back 20 hours late: too late, skipped, and the week after comes as usual.
    await running_bot.stop()
    clock.set(datetime(2026, 12, 11, 3, 0, tzinfo=UTC))
    await running_bot.start()
    report = await running_bot.app.checkin_startup
    assert report.prompts == 0 and report.skipped == 1
    assert count() == 2
    clock.set(datetime(2026, 12, 17, 7, 0, tzinfo=UTC))
    assert (await running_bot.app.run_checkin_jobs()).prompts == 1
    assert count() == 3
    sent = await running_bot.query("SELECT occurrence FROM checkin_rounds ORDER BY id")
    assert [row[0][:10] for row in sent] == ["2026-11-26", "2026-12-03", "2026-12-17"]


async def test_429_403_and_a_migrated_group_do_not_stop_the_others(
    telegram: FakeTelegram, running_bot: RunningBot, clock
) -> None:
    anna = telegram.private_user("Anna", language_code="en")
    await onboard(anna)
    await add_partner(anna, "BlueWave", "en")
    groups = [telegram.group(f"Group {name}") for name in "ABCD"]
    for group in groups:
        group.add_member(anna, "administrator")
        await group.add_bot(by=anna)
    [(workspace_id, partner_id)] = await running_bot.query("SELECT workspace_id, id FROM partners")
    service = running_bot.app.checkin_service
    when = WeeklyTime(2, 10, 0, "Europe/Moscow")  # Wednesday 10:00 Moscow = 07:00 UTC
    for group in groups:
        schedule = await service.checkins.save_schedule(
            group.id, NewSchedule(workspace_id, partner_id, when, 24, None), anna.id, clock.now()
        )
        service.schedule_job(schedule)

    a, b, c, d = groups
    await asyncio.sleep(1.1)  # let the greetings (sent by handlers, outside the lane) leave the 1-second window
    telegram.enforce_rate_limits = True
    telegram.fail_next(a.id, 429, "Too Many Requests: retry after 1", retry_after=1)
    telegram.block(b.id)
    new_d = telegram.migrate(d.id)  # upgraded to a supergroup while nobody was looking
    clock.set(datetime(2026, 11, 25, 7, 0, tzinfo=UTC))
    report = await running_bot.app.run_checkin_jobs()

    assert report.prompts == 3
    for chat_id in (a.id, c.id, new_d.id):
        assert len([m for m in telegram.sent_to(chat_id) if "Weekly check-in" in (m.text or "")]) == 1
    assert not [m for m in telegram.sent_to(b.id) if "Weekly check-in" in (m.text or "")]
    assert await running_bot.query("SELECT active FROM chats WHERE id = ?", (b.id,)) == [(0,)]
    states = dict(await running_bot.query("SELECT chat_id, active FROM checkin_schedules"))
    assert states == {a.id: 1, b.id: 0, c.id: 1, new_d.id: 1}
    assert "Group B" in anna.last_message().text and "removed" in anna.last_message().text
    assert telegram.stats.rejected_429 == 0  # the lane's own pacing never trips Telegram's limits


async def test_a_group_upgraded_to_a_supergroup_keeps_its_checkin(
    telegram: FakeTelegram, running_bot: RunningBot, clock
) -> None:
    anna, group = await partnership(telegram, "ru")
    await group.add_bot(by=anna)
    await set_up(group, anna, "BlueWave", "Среда", "10:00", "Москва", "24 часа", None)
    old_id = group.id
    await group.migrate_to_supergroup(by=anna)
    assert group.id != old_id
    assert await running_bot.query("SELECT chat_id FROM checkin_schedules") == [(group.id,)]
    assert await running_bot.query("SELECT locale FROM chats WHERE id = ?", (group.id,)) == [("ru",)]

    clock.set(datetime(2026, 11, 25, 7, 0, tzinfo=UTC))
    assert (await running_bot.app.run_checkin_jobs()).prompts == 1
    assert len(prompts(group, "Еженедельный чек-ин — BlueWave")) == 1
    assert not [m for m in telegram.sent_to(old_id) if "чек-ин —" in (m.text or "")]

    stopping = await group.send(anna, "/checkin")
    assert "Изменить или остановить?" in stopping.text
    assert "остановлен" in (await group.press(anna, "Остановить")).text
    assert await running_bot.query("SELECT active FROM checkin_schedules") == [(0,)]
    assert running_bot.app.scheduler.get_job("checkin-1") is None


async def test_answers_to_a_copy_of_the_prompt_sent_after_a_lost_reply_count(
    telegram: FakeTelegram, running_bot: RunningBot, clock
) -> None:
    anna, group = await partnership(telegram, "en")
    bob = telegram.private_user("Bob", language_code="en")
    carl = telegram.private_user("Carl", language_code="en")
    for member in (bob, carl):
        group.add_member(member, "member")
    await group.add_bot(by=anna)
    await set_up(group, anna, "BlueWave", "Wednesday", "10:30", "New York", "24 hours", None)
    other = telegram.group("BlueWave second pilot")  # another partnership's round, for a token from elsewhere
    other.add_member(anna, "administrator")
    await other.add_bot(by=anna)
    await set_up(other, anna, "BlueWave", "Wednesday", "10:30", "New York", "24 hours", None)

    async def no_wait(_: float) -> None:
        await asyncio.sleep(0)

    running_bot.app.retries.sleep = no_wait  # the session's retry after the 502 comes at once
    # The first prompt reaches the group but Telegram's answer is lost: the bot sends it again.
    telegram.lose_reply_after_delivery(group.id)
    clock.set(datetime(2026, 11, 25, 15, 30, tzinfo=UTC))
    assert (await running_bot.app.run_checkin_jobs()).prompts == 2
    first, second = prompts(group, "Weekly check-in — BlueWave")
    assert token_of(first) == token_of(second) and first.message_id != second.message_id
    stored = await running_bot.query(
        "SELECT r.prompt_message_id FROM checkin_rounds r JOIN checkin_schedules s ON s.id = r.schedule_id "
        "WHERE s.chat_id = ?", (group.id,))
    assert stored == [(second.message_id,)], "the bot only ever learned the second copy's id"

    clock.advance(timedelta(hours=1))
    acknowledged = await group.reply_to(bob, first.message_id, "1. Two videos\n2. Edit the third\n3. none\n4. no")
    assert [c.method for c in acknowledged.calls] == ["setMessageReaction"]
    await group.reply_to(carl, second.message_id, "Shipped: captions\nNext: the cut\nBlockers: none\nCall: no")

    # A bot message in this group carrying the other group's token (forged, or a stale copy) counts for neither.
    [other_prompt] = prompts(other, "Weekly check-in — BlueWave")
    stray = telegram.add_message(group.chat, telegram.bot_user, text=first.text,
                                 reply_markup={"inline_keyboard": [[{"text": "✍️ Answer in private",
                                                                      "url": other_prompt.buttons[0][1]}]]})
    forged = await group.reply_to(anna, stray.message_id, "Shipped: nothing real", expect_silence=True)
    assert not forged.calls
    answers = await running_bot.query(
        "SELECT s.chat_id, a.name FROM checkin_answers a JOIN checkin_rounds r ON r.id = a.round_id "
        "JOIN checkin_schedules s ON s.id = r.schedule_id ORDER BY a.name")
    assert answers == [(group.id, "Bob"), (group.id, "Carl")]

    # The halfway reminder carries the round's button too: a reply to it is matched by its token as well.
    clock.set(datetime(2026, 11, 26, 3, 30, tzinfo=UTC))
    assert (await running_bot.app.run_checkin_jobs()).reminders == 2
    reminder = group.last_message()
    assert "Halfway to the digest" in reminder.text and token_of(reminder) == token_of(first)
    await group.reply_to(anna, reminder.message_id, "Shipped: the brief\nNext: review\nBlockers: none\nCall: no")

    clock.set(datetime(2026, 11, 26, 15, 30, tzinfo=UTC))
    assert (await running_bot.app.run_checkin_jobs()).digests == 2
    digest = group.last_message().text
    assert "Check-in digest — BlueWave" in digest and "Answered (3 of 3): Anna, Bob, Carl" in digest
    assert "Two videos" in digest and "captions" in digest and "nothing real" not in digest
    assert await running_bot.query(
        "SELECT COUNT(*) FROM checkin_digest_parts WHERE sent_at IS NULL OR text IS NOT NULL") == [(0,)]


async def test_a_reminder_a_crash_caught_in_flight_is_sent_after_the_restart(
    telegram: FakeTelegram, running_bot: RunningBot, clock
) -> None:
    anna, group = await partnership(telegram, "en")
    bob = telegram.private_user("Bob", language_code="en")
    group.add_member(bob, "member")
    await group.add_bot(by=anna)
    await set_up(group, anna, "BlueWave", "Wednesday", "10:30", "New York", "24 hours", None)
    clock.set(datetime(2026, 11, 25, 15, 30, tzinfo=UTC))
    assert (await running_bot.app.run_checkin_jobs()).prompts == 1
    reminders = lambda: [m for m in group.messages() if "Halfway to the digest" in (m.text or "")]  # noqa: E731

    # The reminder's request was about to leave when the process died: attempted, never settled.
    await running_bot.stop()
    clock.set(datetime(2026, 11, 26, 3, 31, tzinfo=UTC))
    await running_bot.start()
    await running_bot.app.checkin_startup
    assert len(reminders()) == 1
    await running_bot.app.db.execute("UPDATE checkin_rounds SET reminder_settled_at = NULL, reminder_message_id = NULL")
    assert (await running_bot.app.run_checkin_jobs()).reminders == 1
    assert len(reminders()) == 2  # at least once: the copy the database could not know about, and this one
    await running_bot.restart()
    await running_bot.app.checkin_startup
    assert (await running_bot.app.run_checkin_jobs()).reminders == 0  # settled now: never again
    assert len(reminders()) == 2
    [(settled, message_id)] = await running_bot.query("SELECT reminder_settled_at, reminder_message_id "
                                                      "FROM checkin_rounds")
    assert settled is not None and message_id == reminders()[-1].message_id


MANAGE = {
    "en": {"partner": "BlueWave", "day": "Monday", "other_day": "Tuesday", "time": "10:00", "zone": "Moscow",
           "hours": "24 hours", "stop": "⏹ Stop", "refused": "belong to the admin who sent /checkin",
           "doc": "📄 Shared doc: https://docs.example.com/bluewave"},
    "ru": {"partner": "Волна", "day": "Понедельник", "other_day": "Вторник", "time": "10:00", "zone": "Москва",
           "hours": "24 часа", "stop": "⏹ Остановить", "refused": "Эти кнопки для администратора",
           "doc": "📄 Общий документ: https://docs.example.com/bluewave"},
}


@pytest.mark.parametrize("locale", ["en", "ru"])
async def test_a_member_cannot_stop_it_and_skip_keeps_the_saved_doc(
    telegram: FakeTelegram, running_bot: RunningBot, locale: str
) -> None:
    say = MANAGE[locale]
    anna, group = await partnership(telegram, locale, partner=say["partner"])
    bob = telegram.private_user("Bob", language_code=locale)
    group.add_member(bob, "member")
    await group.add_bot(by=anna)
    doc = "https://docs.example.com/bluewave"
    await set_up(group, anna, say["partner"], say["day"], say["time"], say["zone"], say["hours"], doc)

    manage = await group.send(anna, "/checkin")
    before = len(group.messages())
    refused = await group.press(bob, say["stop"], manage.messages[-1])
    assert say["refused"] in refused.popup and not refused.messages  # told on the press, not in front of everyone
    assert len(group.messages()) == before
    assert await running_bot.query("SELECT active FROM checkin_schedules") == [(1,)]

    # A change of day, with Skip at the doc step: the link saved before stays.
    await anna.start("checkin")
    await anna.press(say["partner"])
    confirmation = await schedule_and_link(group, anna, say["other_day"], say["time"], say["zone"], say["hours"], None)
    assert say["doc"] in confirmation
    assert await running_bot.query("SELECT shared_doc FROM checkin_schedules") == [(doc,)]


async def test_the_set_up_and_a_private_answer_survive_restarts_halfway(
    telegram: FakeTelegram, running_bot: RunningBot, clock
) -> None:
    """Both private conversations keep their step and what was entered across restarts; a press edits the step's
    message in place, a typed answer gets a new one."""
    anna, group = await partnership(telegram, "en")
    await group.add_bot(by=anna)
    await anna.send("/checkin")
    await anna.press("BlueWave")
    await anna.press("Wednesday")
    await running_bot.restart()
    zone = await anna.send("10:30")
    assert "Step 4 of 6" in zone.text and len(zone.messages) == 1
    await running_bot.restart()
    hours = await anna.press("New York")
    assert "Step 5 of 6" in hours.text and not hours.messages and hours.edits
    await anna.press("24 hours")
    await anna.press("Skip")
    assert "Weekly on Wednesday, 10:30 AM (New York)" in await link_group(group, anna)

    clock.set(datetime(2026, 11, 25, 15, 30, tzinfo=UTC))
    assert (await running_bot.app.run_checkin_jobs()).prompts == 1
    [prompt] = prompts(group, "Weekly check-in — BlueWave")
    await anna.start(token_of(prompt))
    await anna.send("Landing page copy")
    await running_bot.restart()
    blockers = await anna.send("Launch on Monday")
    assert "3/4" in blockers.text and len(blockers.messages) == 1
    call = await anna.press("No blockers")
    assert "4/4" in call.text and "Blockers: none" in call.text and not call.messages and call.edits
    await running_bot.restart()
    thanks = await anna.press("📞 Yes, we need a call")
    assert "Your answer is in" in thanks.text and not thanks.messages and not anna.last_message().buttons
    assert await running_bot.query("SELECT shipped, next_steps, blockers, needs_call FROM checkin_answers") == [
        ("Landing page copy", "Launch on Monday", None, 1)]


async def test_an_answer_left_halfway_by_the_previous_version_resumes_in_the_new_one(
    telegram: FakeTelegram, running_bot: RunningBot, clock
) -> None:
    """Before the answer was a dialog it kept its step in FSM state and its draft in FSM data: a person halfway
    through across the upgrade is asked the step again and keeps what was entered."""
    anna, group = await partnership(telegram, "en")
    await group.add_bot(by=anna)
    await set_up(group, anna, "BlueWave", "Wednesday", "10:30", "New York", "24 hours", None)
    clock.set(datetime(2026, 11, 25, 15, 30, tzinfo=UTC))
    assert (await running_bot.app.run_checkin_jobs()).prompts == 1
    [(round_id,)] = await running_bot.query("SELECT id FROM checkin_rounds")
    draft = {"round_id": round_id, "shipped": "Two videos", "next": "", "blockers": None}
    assert running_bot.app is not None
    await running_bot.app.db.execute(
        "INSERT OR REPLACE INTO fsm_states (key, state, data, updated_at) VALUES (?, ?, ?, '2026-01-01T00:00:00')",
        (f"fsm:{anna.id}:{anna.id}:default", "CheckinAnswer:waiting_for_next", json.dumps({"checkin_answer": draft})),
    )
    await running_bot.restart()
    resumed = await anna.send("Captions")
    assert "continue where you left off" in resumed.text and "2/4" in resumed.text
    await anna.send("Captions")
    await anna.press("No blockers")
    await anna.press("No, async is fine")
    assert await running_bot.query("SELECT shipped, next_steps, needs_call FROM checkin_answers") == [
        ("Two videos", "Captions", 0)]
    assert await running_bot.query("SELECT state FROM fsm_states WHERE state LIKE 'Checkin%'") == []
