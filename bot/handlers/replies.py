"""Answering the person: redraw the pressed message, take the buttons off an old one, say a button is stale, say
why typed text is not taken."""

from __future__ import annotations

from contextlib import suppress

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot import texts
from bot.plumbing.middlewares import notify_press


async def edit_or_send(message: Message, text: str, markup: InlineKeyboardMarkup | None = None) -> int:
    """Edit the bot's message in place (a new one if it cannot be edited); the id of the message now shown. A second
    tap that changes nothing is answered as done by the session (bot/plumbing/telegram_retries.py AlreadyDone)."""
    try:
        await message.edit_text(text, reply_markup=markup)
        return message.message_id
    except TelegramBadRequest:
        pass
    sent = await message.answer(text, reply_markup=markup)
    return sent.message_id


async def reply_here(message: Message, text: str, markup: InlineKeyboardMarkup | None = None) -> int:
    """A reply where the flow is: the bot's own message (reached through a press on it) is replaced in place, so a
    flow keeps one live message; a person's typed message gets a new reply below it."""
    if message.from_user is not None and message.from_user.is_bot:
        return await edit_or_send(message, text, markup)
    sent = await message.answer(text, reply_markup=markup)
    return sent.message_id


async def drop_keyboard(bot: Bot, chat_id: int, message_id: int | None) -> None:
    """Take the buttons off an earlier prompt, so only the live step has any."""
    if message_id is None:
        return
    # Already without buttons, or too old to edit: nothing to take off.
    with suppress(TelegramBadRequest):
        await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id, reply_markup=None)


async def answer_stale(callback: CallbackQuery) -> None:
    """A button from an old message, a forged one, or one that belongs to a finished step: a pop-up notice on the
    press, never a new chat message."""
    await say_stale(callback.message if isinstance(callback.message, Message) else None)


async def say_stale(message: Message | None) -> None:
    """The stale-button notice: on the press being handled when there is one, else (a typed answer to a step that
    is over) in the chat."""
    if not notify_press(texts.stale_button()) and message is not None:
        await message.answer(texts.stale_button())
