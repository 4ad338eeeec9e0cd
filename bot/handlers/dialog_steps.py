"""What every step of a flow declared as an aiogram-dialog Dialog shares: how it shows itself, and how it answers
what it cannot take.

- A step's text is a refused answer's reason and the last choice's echo (each shown once), then its question.
- A refused typed answer shows the step again, the reason above the question (one new message, the buttons on it).
- Anything but text at a step that wants text: the step again, under a hint; a command nobody else took: "you are
  in the middle of a step".
- A press the step cannot take (a forged choice) is a pop-up; the step is left as it is. A button of an earlier
  step of the open flow is a pop-up that points to the question below; a press on an earlier message of a flow
  whose buttons name what they answer is stale (`pressed_step`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any

from aiogram import F
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, Message
from aiogram_dialog import DialogManager, ShowMode

from bot import texts
from bot.domain.text import clean_typed
from bot.handlers.replies import answer_stale
from bot.plumbing.middlewares import notify_press

NOT_A_COMMAND = ~F.text.startswith("/")
ERROR, NOTE = "error", "note"


async def begin(start_data: Any, manager: DialogManager) -> None:
    """A dialog's on_start: what the starter passed becomes its dialog_data."""
    if isinstance(start_data, dict):
        manager.dialog_data.update(start_data)


def pressed_message(manager: DialogManager) -> Message:
    """The message under the press a step is handling: its router lets in only presses on a message the bot can
    still see (bot/handlers/filters.py OnAMessage), and hands it on as `pressed`."""
    return manager.middleware_data["pressed"]


def screen(manager: DialogManager, question: str) -> dict[str, str]:
    """The step's text, under the reason its last answer was refused and the echo of the last choice, if any."""
    data = manager.dialog_data
    parts = [data.pop(ERROR, ""), data.pop(NOTE, ""), question]
    return {"text": "\n\n".join(part for part in parts if part)}


def note(manager: DialogManager, text: str) -> None:
    """Shown once above the next step's question."""
    manager.dialog_data[NOTE] = text


def typed_answer(limit: int) -> Callable[[str], str]:
    """A TextInput parser for a free-text answer: cleaned (bot/domain/text.py clean_typed), not empty, at most
    `limit` characters."""

    def parse(typed: str) -> str:
        text = clean_typed(typed) or ""
        if len(text) > limit:
            raise ValueError(texts.text_too_long(limit, len(text)))
        if not text:
            raise ValueError(texts.text_expected(limit))
        return text

    return parse


async def refused(_message: Message, _widget: Any, manager: DialogManager, error: ValueError) -> None:
    """A typed answer the step does not take: the step again, with the reason above it."""
    manager.dialog_data[ERROR] = str(error)


async def say_why(message: Message, _widget: Any, manager: DialogManager, error: ValueError) -> None:
    """A typed answer the step does not take: the reason alone; the step's message stays the live one."""
    await message.answer(str(error))
    manager.show_mode = ShowMode.NO_UPDATE


def text_expected(hint: Callable[[], str]) -> Callable[..., Awaitable[None]]:
    """Anything else sent at a step that wants text (a sticker, a photo): the step again, under `hint()`; a command
    nobody else took: "you are in the middle of a step"."""

    async def answer(message: Message, _widget: Any, manager: DialogManager) -> None:
        if message.text and message.text.startswith("/"):
            await message.answer(texts.mid_conversation_command())
            manager.show_mode = ShowMode.NO_UPDATE
            return
        manager.dialog_data[ERROR] = hint()

    return answer


def buttons_expected(hint: Callable[[], str]) -> Callable[..., Awaitable[None]]:
    """Typed anything at a step that wants a button: a short hint; the buttons stay where they are."""

    async def answer(message: Message, _widget: Any, manager: DialogManager) -> None:
        command = message.text is not None and message.text.startswith("/")
        await message.answer(texts.mid_conversation_command() if command else hint())
        manager.show_mode = ShowMode.NO_UPDATE

    return answer


async def stale(callback: CallbackQuery, manager: DialogManager) -> None:
    """A forged choice: a pop-up; the step is left as it is."""
    await answer_stale(callback)
    manager.show_mode = ShowMode.NO_UPDATE


async def earlier_step_pressed(callback: CallbackQuery, dialog_manager: DialogManager) -> None:
    """A press of the open flow that no step took (bot/plumbing/dialogs.py OpenDialogPress). On a message Telegram
    no longer lets the bot reach (deleted, or too old: an InaccessibleMessage), the flow's message is out of reach
    too, so the step is shown again below; otherwise it is a button of an earlier step: a pop-up."""
    if not isinstance(callback.message, Message):
        await dialog_manager.show(ShowMode.SEND)
        return
    if not notify_press(texts.earlier_step_button()):
        await answer_stale(callback)


async def pressed_step(callback: CallbackQuery, manager: DialogManager) -> Message | None:
    """The pressed message when it is the flow's current one; else (a keyboard an earlier answer replaced, which a
    client may still show) the press is stale and None is returned."""
    message = callback.message
    if isinstance(message, Message) and message.message_id == manager.current_stack().last_message_id:
        return message
    await stale(callback, manager)
    return None


async def retire_step(manager: DialogManager) -> None:
    """A typed answer moves the flow to a new message: the buttons come off the one the step was on (also after a
    restart, when bot/plumbing/live_keyboards.py no longer knows it)."""
    message_id, chat = manager.current_stack().last_message_id, manager.middleware_data["event_chat"]
    if message_id is not None:
        with suppress(TelegramBadRequest):  # already without buttons, or too old to edit
            await manager.middleware_data["bot"].edit_message_reply_markup(
                chat_id=chat.id, message_id=message_id, reply_markup=None
            )
