"""Last resort: anything no feature took still gets an answer (in private) or is ignored (in groups)."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram import Router
from aiogram.filters import StateFilter
from aiogram.fsm.state import StatesGroup
from aiogram.types import CallbackQuery, Message

from bot import texts
from bot.handlers.filters import COMMAND, PRIVATE
from bot.handlers.replies import answer_stale


def router(dialog_groups: Sequence[type[StatesGroup]] = ()) -> Router:
    """`dialog_groups`: the steps of the flows now run as dialogs, which an earlier version kept in FSM state."""
    r = Router(name="fallback")
    r.message.register(unknown_command, PRIVATE, COMMAND)
    if dialog_groups:
        earlier = StateFilter(*(step for group in dialog_groups for step in group.__states__))
        r.message.register(left_by_an_earlier_version, PRIVATE, earlier)
    r.message.register(in_unknown_state, PRIVATE, ~StateFilter(None))
    r.message.register(not_understood, PRIVATE)
    r.callback_query.register(stale_button)
    return r


async def unknown_command(message: Message) -> None:
    """A command nobody handles."""
    await message.answer(texts.unknown_command())


async def left_by_an_earlier_version(message: Message) -> None:
    """A step of a flow that is a dialog now, left open in FSM state by the version before: no step answers it, so
    the person is told to start again from its button (the debrief, the check-in and the questionnaire resume
    there with what was entered; the others start afresh). The state stays for those to read; /cancel clears it."""
    await message.answer(texts.left_by_an_earlier_version())


async def in_unknown_state(message: Message) -> None:
    """A conversation step whose handler did not take this input."""
    await message.answer(texts.mid_conversation_command())


async def not_understood(message: Message) -> None:
    """Free text, stickers or media outside any conversation."""
    await message.answer(texts.not_understood_private())


async def stale_button(callback: CallbackQuery) -> None:
    """A button from an old message, a forged one, or one that belongs to a finished step."""
    await answer_stale(callback)
