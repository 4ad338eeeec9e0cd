"""How a press finds its handler, through aiogram's own routing: each feature router turns away the presses of
other features (PressOf), a router included while the bot runs takes its presses, and a press nobody takes —
unknown data, or a known kind in the wrong step — gets the "out of date" pop-up and no chat message."""

from __future__ import annotations

from contextlib import suppress

from aiogram import Router
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Message

from bot.keyboards.callbacks import PartnerAction, PartnerCallback
from tests.e2e.conftest import RunningBot
from tests.e2e.fake_telegram import FakeTelegram
from tests.e2e.people import PrivateUser
from tests.e2e.vetting_steps import add_partner, onboard

STALE = "This button is out of date"


class LateKind(CallbackData, prefix="lt1"):
    value: str


def assert_stale(reaction, telegram: FakeTelegram) -> None:
    assert reaction.answer is not None, "every press is answered"
    assert STALE in reaction.popup, f"expected the stale pop-up, got {reaction.popup!r}"
    assert not reaction.messages and not reaction.edits, "a stale press is a pop-up, not a chat message"
    assert not telegram.unanswered_callbacks()


def find_router(root: Router, name: str) -> Router:
    for router in root.sub_routers:
        if router.name == name:
            return router
        with suppress(LookupError):
            return find_router(router, name)
    raise LookupError(name)


async def menu_message_id(user: PrivateUser) -> int:
    message = user.last_message()
    assert message is not None
    return message.message_id


async def test_unknown_data_and_wrong_step_presses_get_the_stale_popup(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    user = telegram.private_user("Ira", language_code="en")
    await onboard(user)
    await add_partner(user, "Acme Agency", "en")
    card = await menu_message_id(user)
    gut_answer = "gone0001\x1dgut:ugc.y"  # a gut check's Yes (a dialog's button) with no gut check running
    no_form = "gone0001\x1dkind:agency"  # a /newpartner button (a dialog's) with no /newpartner going on
    presses = [
        "zz9:1",  # a prefix no router knows: turned away by every PressOf, taken by the catch-all
        "zz9",
        "pt1",  # a known prefix without its fields
        gut_answer,
        no_form,
        PartnerCallback(action=PartnerAction.OPEN, partner_id=999_999).pack(),  # a partner that is not there
    ]
    for data in presses[:-1]:
        assert_stale(await user.press_data(data, card), telegram)
    missing = await user.press_data(presses[-1], card)
    assert missing.answer is not None


async def test_a_router_included_while_the_bot_runs_takes_its_presses(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    """The press switch fixed its routes at start-up, so a router included later never saw a press."""
    user = telegram.private_user("Ilya", language_code="en")
    await onboard(user)
    message_id = await menu_message_id(user)
    data = LateKind(value="late").pack()
    assert_stale(await user.press_data(data, message_id), telegram)  # nobody takes it yet

    async def late_kind(callback: CallbackQuery) -> None:
        assert isinstance(callback.message, Message)
        await callback.message.answer("taken by the late router")

    late = Router(name="late")
    late.callback_query.register(late_kind, LateKind.filter())
    assert running_bot.app is not None
    conversations = find_router(running_bot.app.dispatcher, "conversations")
    conversations.include_router(late)  # after the press groups, which turn the kind away, before the catch-all

    taken = await user.press_data(data, message_id)
    assert taken.answer is not None
    assert "taken by the late router" in taken.text
    assert_stale(await user.press_data("zz9:1", message_id), telegram)  # the catch-all still closes the walk
