"""Team workspaces end to end: invite links in both languages, joining, bad links, forged buttons, removal."""

from __future__ import annotations

import json
import re
import secrets
from datetime import timedelta

from bot.clock import ManualClock
from tests.e2e.conftest import RunningBot
from tests.e2e.fake_telegram import BOT_USERNAME, FakeTelegram
from tests.e2e.people import PrivateUser
from tests.e2e.test_reports import sent_files

LINK = re.compile(r"https://t\.me/(\w+)\?start=(join_[A-Za-z0-9_-]+)")
WORKSPACE = "Север & <Co>"


async def _owner_with_workspace(telegram: FakeTelegram) -> PrivateUser:
    anna = telegram.private_user("Анна", language_code="ru")
    await anna.start()
    await anna.send(WORKSPACE)
    return anna


async def _invite(owner: PrivateUser, button: str = "Создать ссылку-приглашение") -> tuple[str, str]:
    """Opens /team, presses the invite button; returns the start parameter and the whole reply."""
    await owner.send("/team")
    reaction = await owner.press(button)
    match = LINK.search(reaction.text)
    assert match is not None, reaction.text
    assert match.group(1) == BOT_USERNAME
    assert len(match.group(2)) <= 64
    return match.group(2), reaction.text


async def _memberships(running_bot: RunningBot) -> list[tuple]:
    return await running_bot.query("SELECT workspace_id, user_id, role FROM memberships ORDER BY user_id")


async def _current(running_bot: RunningBot, user: PrivateUser) -> int | None:
    rows = await running_bot.query("SELECT current_workspace_id FROM users WHERE id = ?", (user.id,))
    return rows[0][0] if rows else None


async def test_owner_invites_in_russian_and_an_english_user_joins(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    anna = await _owner_with_workspace(telegram)
    payload, reply = await _invite(anna)
    assert "действует до 1 декабря 2026\u202fг." in reply  # 24 November + 7 days, as Babel writes it in Russian
    assert f"Присоединяйтесь к нашему рабочему пространству {WORKSPACE}" in reply
    token = payload.removeprefix("join_")
    stored = await running_bot.query("SELECT token_hash FROM invites")
    assert len(stored) == 1 and token not in stored[0][0]

    bob = telegram.private_user("Bob", language_code="en")
    joined = await bob.start(payload)
    assert f"You joined {WORKSPACE}" in joined.text
    assert f"Workspace: {WORKSPACE}" in joined.text
    assert any(text == "❓ Help" for text, _ in joined.messages[-1].buttons)
    told = anna.last_message()
    assert told is not None and told.text == (
        f"Новый участник в пространстве «{WORKSPACE}»: Bob — по ссылке-приглашению, которую 24 ноября 2026\u202fг. "
        "создал(а) Анна."
    )
    workspace_id = await _current(running_bot, anna)
    assert await _current(running_bot, bob) == workspace_id
    assert (workspace_id, bob.id, "member") in await _memberships(running_bot)

    again = await bob.start(payload)
    assert "already a member" in again.text
    assert len(await _memberships(running_bot)) == 2

    listing = await bob.send("/team")
    assert "Анна — owner, joined November 24, 2026" in listing.text
    assert "Bob (you) — member" in listing.text
    assert "Only the owner can invite or remove people." in listing.text
    assert not listing.messages[-1].buttons  # members see the list only

    listing = await anna.send("/team")
    assert f"Команда «{WORKSPACE}»" in listing.text
    assert "1. Анна (это вы) — владелец, в команде с 24 ноября 2026\u202fг." in listing.text
    assert "2. Bob — участник" in listing.text
    assert "Действует 1 ссылка-приглашение:" in listing.text
    assert (
        "• создана 24 ноября 2026\u202fг., создатель — Анна, действует до 1 декабря 2026\u202fг.; "
        "по ней вступили: Bob" in listing.text
    )
    buttons = [text for text, _ in listing.messages[-1].buttons]
    assert "Исключить: Bob" in buttons and not any("Анна" in text for text in buttons)


async def test_expired_revoked_and_random_links_change_nothing(
    telegram: FakeTelegram, running_bot: RunningBot, clock: ManualClock
) -> None:
    anna = await _owner_with_workspace(telegram)
    expiring, _ = await _invite(anna)
    clock.advance(timedelta(days=8))
    revoked, _ = await _invite(anna)
    revoking = await anna.press("Отозвать ссылки-приглашения")
    assert "Отозвана 1 ссылка-приглашение" in revoking.text
    nothing_left = await anna.press("Отозвать ссылки-приглашения")
    assert "отзывать нечего" in nothing_left.text
    before = await _memberships(running_bot)

    carl = telegram.private_user("Carl", language_code="en")
    cases = {
        expiring: "This invite link has expired.",
        revoked: "This invite link was revoked",
        "join_" + secrets.token_urlsafe(24): "This invite link is not valid.",
    }
    for payload, expected in cases.items():
        reaction = await carl.start(payload)
        assert expected in reaction.text
        assert "send /start to create a workspace of your own" in reaction.text
        assert len(reaction.messages) == 1  # that message and nothing else: no onboarding question
    assert await _memberships(running_bot) == before
    assert await _current(running_bot, carl) is None

    # Someone who already has a workspace is not pointed at /start.
    reaction = await anna.start(revoked)
    assert "Владелец рабочего пространства отозвал эту ссылку." in reaction.text
    assert "/start" not in reaction.text


async def test_joining_mid_onboarding_ends_the_onboarding(telegram: FakeTelegram, running_bot: RunningBot) -> None:
    anna = await _owner_with_workspace(telegram)
    payload, _ = await _invite(anna)
    dana = telegram.private_user("Dana", language_code="en")
    asked = await dana.start()
    assert "What should I call it?" in asked.text
    joined = await dana.start(payload)
    assert "You joined" in joined.text
    await dana.send("Acme")  # no longer taken as the name of a new workspace
    assert await running_bot.query("SELECT COUNT(*) FROM workspaces") == [(1,)]


async def test_forged_buttons_are_refused_and_the_owner_removes_a_member(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    anna = await _owner_with_workspace(telegram)
    payload, _ = await _invite(anna)
    bob = telegram.private_user("Bob", language_code="en")
    dave = telegram.private_user("Dave", language_code="en")
    await bob.start(payload)
    await dave.start(payload)
    members = await _memberships(running_bot)
    invites = await running_bot.query("SELECT COUNT(*) FROM invites")

    team = await anna.send("/team")
    team_message = team.messages[-1].message_id
    owners_buttons = [data for _text, data in _buttons(telegram, anna, team_message)]
    remove_bob = next(data for text, data in _buttons(telegram, anna, team_message) if text == "Исключить: Bob")
    assert remove_bob is not None

    listing = await bob.send("/team")
    assert not listing.messages[-1].buttons
    for data in owners_buttons:  # the owner's buttons forged onto a member's list: not his screen, a pop-up
        assert data is not None
        reaction = await bob.press_data(data, listing.messages[-1].message_id)
        assert reaction.answer is not None and not reaction.errors
        assert "out of date" in reaction.popup and not reaction.messages and not reaction.edits
    assert await _memberships(running_bot) == members
    assert await running_bot.query("SELECT COUNT(*) FROM invites") == invites

    for user_id, expected in ((str(anna.id), "Владельца нельзя исключить"), ("424242", "Не найдено")):
        refused = await anna.press_data(remove_bob.rsplit(":", 1)[0] + ":" + user_id, team_message)
        assert expected in refused.popup and not refused.messages and not refused.edits
    for respelt in ("+" + str(bob.id), f" {bob.id}", "0", "-1", "٣", "bob", ""):  # no id the bot writes
        refused = await anna.press_data(remove_bob.rsplit(":", 1)[0] + ":" + respelt, team_message)
        assert "устарела" in refused.popup and not refused.messages and not refused.edits, respelt
    assert await _memberships(running_bot) == members

    asked = await anna.press("Исключить: Bob", team_message)
    assert f"Исключить Bob из {WORKSPACE}?" in asked.text and not asked.messages  # the list becomes the question
    kept = await anna.press("Нет, оставить")
    assert "Bob остаётся в команде" in kept.text and not kept.messages  # and the list is back, buttons and all
    assert "Исключить: Bob" in [text for text, _ in _buttons(telegram, anna, team_message)]
    assert await _memberships(running_bot) == members

    await anna.press("Исключить: Bob", team_message)
    removed = await anna.press("Да, исключить")
    assert f"Bob больше не в команде {WORKSPACE}" in removed.text
    notice = bob.last_message()
    assert notice is not None and f"You were removed from the workspace {WORKSPACE}" in (notice.text or "")
    assert bob.id not in [row[1] for row in await _memberships(running_bot)]
    assert await _current(running_bot, bob) is None
    assert "You are not in a workspace yet" in (await bob.send("/team")).text
    assert "What should I call it?" in (await bob.start()).text

    assert "Исключить: Bob" not in [text for text, _ in _buttons(telegram, anna, team_message)]
    stale = await anna.press_data(remove_bob, team_message)  # a client still showing the list before the removal
    assert "Не найдено" in stale.popup and not stale.messages

    # A member who blocked the bot is still removed; the undeliverable notice breaks nothing.
    await dave.block_bot()
    await anna.press("Исключить: Dave", team_message)
    removed = await anna.press("Да, исключить")
    assert "Dave больше не в команде" in removed.text
    assert await _memberships(running_bot) == [(members[0][0], anna.id, "owner")]


def _buttons(telegram: FakeTelegram, person: PrivateUser, message_id: int) -> list[tuple[str, str | None]]:
    message = telegram.message(person.id, message_id)
    assert message is not None
    return message.buttons


async def _invite_links(running_bot: RunningBot) -> list[tuple]:
    return await running_bot.query("SELECT rowid, revoked_at IS NOT NULL FROM invites ORDER BY rowid")


async def test_a_removed_member_cannot_come_back_through_any_old_link(
    telegram: FakeTelegram, running_bot: RunningBot, clock: ManualClock
) -> None:
    anna = await _owner_with_workspace(telegram)  # Russian-speaking owner
    first, _ = await _invite(anna)
    clock.advance(timedelta(days=1))
    second, _ = await _invite(anna)  # a second live link Bob may have been forwarded
    bob = telegram.private_user("Bob", language_code="en")
    dasha = telegram.private_user("Даша", language_code="ru")
    await bob.start(first)
    await dasha.start(second)
    workspace_id = await _current(running_bot, anna)

    team = await anna.send("/team")
    assert "Действуют 2 ссылки-приглашения:" in team.text
    assert "создатель — Анна, действует до 1 декабря 2026\u202fг.; по ней вступили: Bob" in team.text
    assert "создатель — Анна, действует до 2 декабря 2026\u202fг.; по ней вступили: Даша" in team.text

    asked = await anna.press("Исключить: Bob", team.messages[-1].message_id)
    assert "Будут отозваны и 2 действующие ссылки-приглашения" in asked.text
    removed = await anna.press("Да, исключить")
    assert "Bob больше не в команде" in removed.text
    assert "Отозваны 2 ссылки-приглашения — вернуться по ним не получится." in removed.text
    assert all(revoked for _rowid, revoked in await _invite_links(running_bot))

    # Bob's own link, in English: removed, so ask for a new invite; no membership, no current workspace.
    back = await bob.start(first)
    assert f"You were removed from {WORKSPACE}, so this invite link no longer lets you in." in back.text
    assert "Ask the owner for a new invite." in back.text
    assert len(back.messages) == 1 and "You joined" not in back.text
    # The other link he may have been forwarded is revoked as well.
    other = await bob.start(second)
    assert "This invite link was revoked" in other.text
    assert (workspace_id, bob.id) not in [(w, u) for w, u, _role in await _memberships(running_bot)]
    assert await _current(running_bot, bob) is None
    assert "You are not in a workspace yet" in (await bob.send("/team")).text

    # The same for a Russian-speaking member removed later. Every link is revoked, yet the owner still sees which
    # link let Даша in.
    team = await anna.send("/team")
    assert "(по ссылке-приглашению, которую создал(а) Анна, 25 ноября 2026\u202fг.)" in team.text, team.text
    await anna.press("Исключить: Даша", team.messages[-1].message_id)
    removed = await anna.press("Да, исключить")
    assert "Даша больше не в команде" in removed.text and "Отозван" not in removed.text  # nothing live was left
    back = await dasha.start(second)
    assert (
        f"Вас исключили из рабочего пространства {WORKSPACE}, поэтому по этой ссылке-приглашению больше не войти. "
        "Попросите у владельца новое приглашение." in back.text
    )
    assert await _memberships(running_bot) == [(workspace_id, anna.id, "owner")]

    # A new invite is what it takes; the owner is told who came in with which link.
    clock.advance(timedelta(days=1))
    fresh, _ = await _invite(anna)
    joined = await bob.start(fresh)
    assert f"You joined {WORKSPACE}" in joined.text
    assert (workspace_id, bob.id, "member") in await _memberships(running_bot)
    told = anna.last_message()
    assert told is not None and told.text == (
        f"Новый участник в пространстве «{WORKSPACE}»: Bob — по ссылке-приглашению, которую 26 ноября 2026\u202fг. "
        "создал(а) Анна."
    )


async def test_an_english_owner_sees_who_joined_with_which_link(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    emma = telegram.private_user("Emma", language_code="en")
    await emma.start()
    await emma.send("Acme <US>")
    payload, _ = await _invite(emma, "➕ Create invite link")
    fedor = telegram.private_user("Фёдор <b>", language_code="ru")
    await fedor.start(payload)
    told = emma.last_message()
    assert told is not None and told.text == (
        "New teammate in Acme <US>: Фёдор <b> joined with the invite link created by Emma on November 24, 2026."
    )
    team = await emma.send("/team")
    assert "1 invite link is active:" in team.text
    assert (
        "• created by Emma on November 24, 2026, works until December 1, 2026; joined through it: Фёдор <b>"
        in team.text
    )
    await emma.press("➕ Create invite link")
    team = await emma.send("/team")
    assert "2 invite links are active:" in team.text
    assert "nobody has joined through it yet" in team.text


async def test_mydata_names_the_link_you_joined_with_and_deletemydata_takes_it_out_of_team(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    anna = await _owner_with_workspace(telegram)
    payload, _ = await _invite(anna)
    bob = telegram.private_user("Bob", language_code="en")
    await bob.start(payload)
    await bob.send("/mydata")
    [(file, _caption)] = await sent_files(telegram, "sendDocument", "document")
    data = json.loads(file.content.decode("utf-8"))
    [joined] = data["invite_links_you_joined_with"]
    assert joined["workspace"] == WORKSPACE and joined["invite_revoked_at"] is None
    assert joined["invite_created_at"].startswith("2026-11-24") and joined["joined_at"].startswith("2026-11-24")
    assert payload.removeprefix("join_") not in file.content.decode("utf-8")  # the token is never stored

    await bob.send("/deletemydata")
    await bob.press("🗑 Yes, delete my data")
    assert await running_bot.query("SELECT COUNT(*) FROM invite_joins WHERE user_id = ?", (bob.id,)) == [(0,)]
    team = await anna.send("/team")
    assert "по ней пока никто не вступил" in team.text and "Bob" not in team.text


async def test_the_removal_question_takes_buttons_and_cancel_removes_nobody(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    """The owner's team screen is a conversation (an aiogram-dialog Dialog): the list takes no typed text (it is
    answered as outside any conversation), the removal question answers typed text with a hint, /cancel closes it
    saying nobody was removed, and its buttons are a pop-up after that."""
    anna = await _owner_with_workspace(telegram)
    payload, _ = await _invite(anna)
    bob = telegram.private_user("Bob", language_code="en")
    await bob.start(payload)
    members = await _memberships(running_bot)

    team = await anna.send("/team")
    [listing] = team.messages
    typed = await anna.send("Bob")
    assert "Не понял" in typed.text and not typed.edits  # the list is no question
    asked = await anna.press("Исключить: Bob", listing.message_id)
    assert "Исключить Bob" in asked.text and not asked.messages and asked.edits
    yes = next(data for text, data in _buttons(telegram, anna, listing.message_id) if text == "Да, исключить")
    hint = await anna.send("да")
    assert "кнопок выше" in hint.text and not hint.messages[-1].buttons  # the buttons stay on the question
    assert "Да, исключить" in [text for text, _ in _buttons(telegram, anna, listing.message_id)]
    cancelled = await anna.send("/cancel")
    assert cancelled.messages[-1].text == "Отменено: никого не исключили из команды."
    assert not _buttons(telegram, anna, listing.message_id), "/cancel takes the buttons off the question"
    assert await running_bot.query("SELECT key FROM fsm_states") == [], "a closed screen leaves no record"
    assert yes is not None
    stale = await anna.press_data(yes, listing.message_id)
    assert "устарела" in stale.popup and not stale.messages and not stale.edits
    assert await _memberships(running_bot) == members

    # The list alone is closed the same way, and says so.
    await anna.send("/team")
    closed = await anna.send("/cancel")
    assert closed.messages[-1].text == "Список команды закрыт, в команде всё как было."


async def test_joining_another_team_closes_the_owners_team_screen(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    """The screen belonged to the workspace left behind: its buttons are a pop-up, and no link is made for it."""
    anna = await _owner_with_workspace(telegram)
    team = await anna.send("/team")
    [listing] = team.messages
    emma = telegram.private_user("Emma", language_code="en")
    await emma.start()
    await emma.send("Acme")
    payload, _ = await _invite(emma, "➕ Create invite link")
    joined = await anna.start(payload)
    assert "Вы присоединились к Acme" in joined.text
    assert await running_bot.query("SELECT key FROM fsm_states WHERE key LIKE ?", (f"%{anna.id}%",)) == []
    invites = await running_bot.query("SELECT COUNT(*) FROM invites")
    invite = next(data for text, data in _buttons(telegram, anna, listing.message_id) if "ссылку" in text)
    assert invite is not None
    stale = await anna.press_data(invite, listing.message_id)
    assert "устарела" in stale.popup and not stale.messages and not stale.edits
    assert await running_bot.query("SELECT COUNT(*) FROM invites") == invites
