"""/newpartner, /partners with paging and archive, the card, and workspace scoping of forged buttons."""

from __future__ import annotations

import asyncio

import pytest

from bot.keyboards.callbacks import PartnerAction, PartnerCallback
from tests.e2e.conftest import RunningBot
from tests.e2e.fake_telegram import FakeTelegram
from tests.e2e.people import act
from tests.e2e.vetting_steps import WORDS, add_partner, onboard


@pytest.mark.parametrize("locale", ["en", "ru"])
async def test_new_partner_form_validates_and_saves(
    telegram: FakeTelegram, running_bot: RunningBot, locale: str
) -> None:
    user = telegram.private_user("Anna", language_code=locale)
    await onboard(user)
    words = WORDS[locale]
    await user.send("/newpartner")
    too_long = await user.send("N" * 101)
    assert "101" in too_long.text
    sticker = await user.send_sticker()
    assert sticker.text  # a hint, not silence
    await user.send("Nord <Creators>")
    await user.press(words["agency"])
    await user.press(words["both"])
    await user.send("@nord_team")
    bad = await user.send("nota-link")
    assert "nota-link" in bad.text
    card = await user.send("nord.example.com/cases https://nord.example.com")
    assert "Nord <Creators>" in card.text
    assert "@nord_team" in card.text
    rows = await running_bot.query("SELECT name, kind, markets, contact, links FROM partners")
    assert rows == [
        (
            "Nord <Creators>",
            "agency",
            "both",
            "@nord_team",
            '["https://nord.example.com/cases", "https://nord.example.com"]',
        )
    ]


async def test_same_name_is_pointed_out(telegram: FakeTelegram, running_bot: RunningBot) -> None:
    user = telegram.private_user("Anna", language_code="en")
    await onboard(user)
    await add_partner(user, "Nord", "en")
    await user.send("/newpartner")
    warning = await user.send("  NORD ")
    assert "already a partner called" in warning.text
    card = await user.press("Open Nord")
    assert "Stage: candidate" in card.text
    assert await running_bot.query("SELECT COUNT(*) FROM partners") == [(1,)]


async def test_list_pages_by_eight_and_archive_round_trip(telegram: FakeTelegram, running_bot: RunningBot) -> None:
    user = telegram.private_user("Anna", language_code="en")
    await onboard(user)
    for i in range(10):
        await running_bot.app.db.execute(
            "INSERT INTO partners (workspace_id, name, name_key, kind, markets, created_at, updated_at) "
            "SELECT 1, ?, ?, 'agency', 'both', 'now', 'now'",
            (f"Partner {i:02d}", f"partner {i:02d}"),
        )
    listing = await user.send("/partners")
    message = listing.messages[-1]
    names = [text for text, _ in message.buttons if text.startswith("Partner")]
    assert len(names) == 8 and "(10)" in listing.text and "page 1 of 2" in listing.text
    second = await user.press("▶")
    assert second.edits, "paging edits the list in place"
    assert [t for t, _ in second.edits[-1].buttons if t.startswith("Partner")] == [
        "Partner 08 · candidate",
        "Partner 09 · candidate",
    ]
    card = await user.press("Partner 09")
    assert "Partner 09" in card.text and card.edits
    archived = await user.press("Archive")
    assert "(archived)" in archived.text
    assert await running_bot.query("SELECT archived FROM partners WHERE name = 'Partner 09'") == [(1,)]
    listing = await user.send("/partners")
    assert "(9)" in listing.text
    archive_list = await user.press("Archived")
    assert "Partner 09" in archive_list.text or any("Partner 09" in t for t, _ in archive_list.edits[-1].buttons)
    await user.press("Partner 09")
    restored = await user.press("Unarchive")
    assert "(archived)" not in restored.text
    assert await running_bot.query("SELECT archived FROM partners WHERE name = 'Partner 09'") == [(0,)]


async def test_forged_card_button_from_another_workspace_changes_nothing(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    owner = telegram.private_user("Owner", language_code="en")
    await onboard(owner, "Owner's team")
    await add_partner(owner, "Secret Partner", "en")
    stranger = telegram.private_user("Stranger", language_code="ru")
    await onboard(stranger, "Чужая команда")
    menu = stranger.last_message()
    assert menu is not None
    partner_id = (await running_bot.query("SELECT id FROM partners"))[0][0]
    for action in (PartnerAction.OPEN, PartnerAction.ARCHIVE):
        forged = PartnerCallback(action=action, partner_id=partner_id).pack()
        reaction = await stranger.press_data(forged, menu.message_id)
        assert "не найден" in reaction.text
        assert "Secret Partner" not in reaction.text
    assert await running_bot.query("SELECT archived FROM partners") == [(0,)]


async def test_partner_commands_need_a_workspace(telegram: FakeTelegram, running_bot: RunningBot) -> None:
    user = telegram.private_user("Nobody", language_code="en")
    reaction = await user.send("/partners")
    assert "not in a workspace yet" in reaction.text


async def test_the_form_keeps_one_message_and_a_finished_forms_buttons_are_a_pop_up(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    """/newpartner runs as an aiogram-dialog Dialog: presses edit its message, every press is answered once (the
    fake refuses a second answer), and a button of a form that is over gets the stale pop-up, not a message."""
    user = telegram.private_user("Anna", language_code="en")
    await onboard(user)
    await user.send("/newpartner")
    kinds = await user.send("Nord")
    [step] = kinds.messages
    agency = next(data for text, data in step.buttons if text == "Agency")
    skips: list[str] = []
    for button, expect in (("Agency", "Which markets"), ("Russia + 🇺🇸 USA", "A contact"), ("Skip", "Links")):
        if button == "Skip":
            skips.append(next(data for text, data in user.last_message().buttons if "Skip" in text))
        pressed = await user.press(button)
        assert expect in pressed.text and not pressed.messages and pressed.edits, button
        assert pressed.answer is not None and not pressed.errors, button
    # A second tap on the contact step's Skip (the same message now shows the links step, Skip in the same place)
    # does not skip the links too: the steps' Skip buttons are different buttons.
    twice = await user.press_data(skips[0], step.message_id)
    assert "earlier step" in twice.popup and not twice.messages and not twice.edits
    assert await running_bot.query("SELECT COUNT(*) FROM partners") == [(0,)]
    earlier = await user.press_data(agency, step.message_id)  # the kind step's button, the form at its links step
    assert "earlier step" in earlier.popup and not earlier.messages and not earlier.edits
    refused = await user.send("nota-link")
    assert "nota-link" in refused.text and "Links to their work" in refused.text  # the step again, under why
    assert any("Skip" in text for text, _ in refused.messages[-1].buttons)
    card = await user.press("Skip")
    assert "Partner saved" in card.text and not card.errors
    assert await running_bot.query("SELECT key FROM fsm_states") == [], "a finished form leaves no record"

    stale = await user.press_data(agency, step.message_id)
    assert "out of date" in stale.popup and not stale.messages and not stale.errors
    assert await running_bot.query("SELECT COUNT(*) FROM partners") == [(1,)]


async def test_cancel_closes_the_form_and_a_forged_choice_is_a_pop_up(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    user = telegram.private_user("Анна", language_code="ru")
    await onboard(user)
    await user.send("/newpartner")
    kinds = await user.send("Север")
    [step] = kinds.messages
    agency = next(data for text, data in step.buttons if text == WORDS["ru"]["agency"])
    forged = await user.press_data(agency.rsplit(":", 1)[0] + ":bogus", step.message_id)
    assert "устарела" in forged.popup and not forged.messages and not forged.errors
    hint = await user.send("агентство")
    assert "кнопками выше" in hint.text and not hint.messages[-1].buttons  # the buttons stay on the step above
    cancelled = await user.send("/cancel")
    assert cancelled.messages[-1].text == "Отменено: партнёр не добавлен."
    assert not step.buttons, "/cancel takes the buttons off the form's message"
    assert await running_bot.query("SELECT key FROM fsm_states") == [], "a closed form leaves no record"
    after = await user.send("Север")  # no longer taken by the form
    assert "Не понял" in after.text
    assert await running_bot.query("SELECT COUNT(*) FROM partners") == [(0,)]
    stale = await user.press_data(agency, step.message_id)
    assert "устарела" in stale.popup and not stale.messages


async def test_a_flow_started_mid_form_takes_the_typed_answers(telegram: FakeTelegram, running_bot: RunningBot) -> None:
    """One conversation at a time: the form (a dialog) left open while another flow (FSM) starts is closed, so
    the other flow's typed answers are not read as the form's."""
    user = telegram.private_user("Kate", language_code="en")
    await onboard(user)
    await add_partner(user, "Bridge", "en")
    await user.send("/newpartner")
    await user.send("Nord")  # the form is now at its kind step
    await user.send("/partners")
    await user.press("Bridge")
    await user.press("Evidence")
    await user.press("➕ Case study")
    await user.press("🇺🇸 USA")
    brand = await user.send("Glossier")
    assert "failure" in " ".join(text for text, _ in brand.messages[-1].buttons), brand.text
    assert (await user.send("/cancel")).messages[-1].text != "Cancelled: the partner was not added."
    assert await running_bot.query("SELECT name FROM partners") == [("Bridge",)]


async def test_a_business_message_is_not_taken_as_an_answer_to_the_form(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    """A business message in the same chat (no connection id: the same storage key) is not the form's: the bot is
    no business bot, and the form's steps need the workspace a private chat's messages come with. Before, the open
    dialog took it and failed three times (found by the spec fuzz)."""
    user = telegram.private_user("Anna", language_code="en")
    await onboard(user)
    await user.send("/newpartner")
    person = {"id": user.id, "is_bot": False, "first_name": "Anna"}
    chat = {"id": user.id, "first_name": "Anna", "type": "private"}
    pushed = telegram.push_update(
        "business_message", {"message_id": 99_999, "date": 1, "chat": chat, "from": person, "text": "Nord"}
    )
    assert pushed is not None
    done = ("SELECT COUNT(*) FROM received_updates WHERE update_id = ? "
            "AND (handled_at IS NOT NULL OR set_aside_at IS NOT NULL)")
    for _ in range(100):  # until it is handled, or set aside after its retries
        if await running_bot.query(done, (pushed,)) == [(1,)]:
            break
        await asyncio.sleep(0.1)
    assert await running_bot.query("SELECT handled_at IS NOT NULL FROM received_updates WHERE update_id = ?",
                                   (pushed,)) == [(1,)], "handled, not set aside"
    kinds = await user.send("Nord")  # the form still waits for the name, and takes it
    assert "What kind of partner" in kinds.text


@pytest.mark.parametrize("locale", ["en", "ru"])
async def test_a_form_the_fsm_version_left_open_points_to_its_button(
    telegram: FakeTelegram, running_bot: RunningBot, locale: str
) -> None:
    """A /newpartner the version before kept in FSM state has no step to answer it now: typed text is told to start
    again from the button, not "answer the question above" (there is none)."""
    user = telegram.private_user("Vera", language_code=locale)
    await onboard(user)
    assert running_bot.app is not None
    await running_bot.app.db.execute(
        "INSERT OR REPLACE INTO fsm_states (key, state, data, updated_at) VALUES (?, ?, ?, '2026-01-01T00:00:00')",
        (f"fsm:{user.id}:{user.id}:default", "NewPartnerForm:waiting_for_contact", '{"new_partner": {"name": "Nord"}}'),
    )
    await running_bot.restart()
    told = await user.send("anna@example.com")
    assert {"en": "earlier version of the bot", "ru": "прежней версией бота"}[locale] in told.text
    started = await user.send("/newpartner")  # the button (or command) starts the form afresh
    assert {"en": "partner's name", "ru": "Как называется партнёр"}[locale] in started.text


async def test_a_press_on_the_forms_message_telegram_no_longer_shows_brings_the_step_back(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    """Telegram sends an InaccessibleMessage (date 0) for a message the bot can no longer reach: the form's step is
    then out of reach too, so it is shown again below (a pop-up about an earlier step would leave the person with
    no buttons to press)."""
    user = telegram.private_user("Anna", language_code="en")
    await onboard(user)
    await user.send("/newpartner")
    [step] = (await user.send("Nord")).messages
    agency = next(data for text, data in step.buttons if text == "Agency")

    def push() -> int | None:
        message = {"chat": step.chat, "message_id": step.message_id, "date": 0}
        query = {"id": telegram.new_callback(user.id, user.id), "from": user.user, "message": message,
                 "chat_instance": "1", "data": agency}
        return telegram.push_update("callback_query", query)

    again = await act(telegram, {user.id}, push, "a press on an unreachable message")
    assert again.answer is not None and not again.popup
    assert "What kind of partner" in again.text and again.messages and again.messages[-1].buttons
    assert "Which markets" in (await user.press("Agency")).text  # the form goes on from the new copy
