"""Last resort: anything no feature took still gets an answer (in private) or is ignored (in groups)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery, Message

from bot import texts
from bot.handlers.filters import COMMAND, PRIVATE
from bot.handlers.replies import answer_stale


def router() -> Router:
    r = Router(name="fallback")
    r.message.register(unknown_command, PRIVATE, COMMAND)
    r.message.register(in_unknown_state, PRIVATE, ~StateFilter(None))
    r.message.register(not_understood, PRIVATE)
    r.callback_query.register(stale_button)
    return r


async def unknown_command(message: Message) -> None:
    """A command nobody handles."""
    await message.answer(texts.unknown_command())


async def in_unknown_state(message: Message) -> None:
    """A conversation step whose handler did not take this input."""
    await message.answer(texts.mid_conversation_command())


async def not_understood(message: Message) -> None:
    """Free text, stickers or media outside any conversation."""
    await message.answer(texts.not_understood_private())


async def stale_button(callback: CallbackQuery) -> None:
    """A button from an old message, a forged one, or one that belongs to a finished step."""
    await answer_stale(callback)
