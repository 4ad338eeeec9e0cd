"""One message with live buttons per private chat: when a reply to a person puts buttons on a message, the buttons
come off the one that had them before, so an old card or an abandoned step cannot be pressed by mistake.

A standing keyboard (the main menu, a language picker) is the exception inside a chat: it is where a person goes
back to, so the latest one stays live beside the latest flow message (a newer one takes the buttons off the older).

Messages the bot sends on its own (a reminder, an invitation) keep their buttons until the person acts on them:
they arrive between a person's steps and must not cut the step they are on short. Group chats are left alone —
there several people answer the same prompt.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from contextlib import suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramAPIError
from aiogram.methods import (
    CopyMessage,
    DeleteMessage,
    EditMessageCaption,
    EditMessageMedia,
    EditMessageReplyMarkup,
    EditMessageText,
    SendAnimation,
    SendDocument,
    SendMessage,
    SendPhoto,
    SendVideo,
    TelegramMethod,
)
from aiogram.methods.base import Response, TelegramType
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, TelegramObject, Update

log = logging.getLogger(__name__)

SENDS = (SendMessage, SendPhoto, SendDocument, SendVideo, SendAnimation, CopyMessage)
EDITS = (EditMessageText, EditMessageCaption, EditMessageMedia, EditMessageReplyMarkup)
# A standing and a flow message for every chat active in a day on one process; the oldest are forgotten first.
TRACKED_SLOTS = 200_000


@dataclass(frozen=True)
class Turn:
    """The person's action being answered: their private chat, and the message whose button they pressed (and
    whether it was a standing keyboard, read from the press itself so it holds across restarts)."""

    chat_id: int
    pressed_message_id: int | None = None
    pressed_standing: bool = False
    # Messages this turn already showed without buttons: nothing to take off them (Telegram would refuse it).
    bare: set[int] = field(default_factory=set)


_TURN: ContextVar[Turn | None] = ContextVar("live_keyboard_turn", default=None)
IsStanding = Callable[[InlineKeyboardMarkup], bool]


class TurnMiddleware(BaseMiddleware):
    """Outer update middleware: marks what follows as a reply to a person in their private chat."""

    def __init__(self, is_standing: IsStanding) -> None:
        self._is_standing = is_standing

    async def __call__(
        self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]], event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        turn = self._turn_of(event) if isinstance(event, Update) else None
        token = _TURN.set(turn)
        try:
            return await handler(event, data)
        finally:
            _TURN.reset(token)

    def _turn_of(self, update: Update) -> Turn | None:
        if update.message is not None and update.message.chat.type == "private":
            return Turn(update.message.chat.id)
        query: CallbackQuery | None = update.callback_query
        if query is None or not isinstance(query.message, Message) or query.message.chat.type != "private":
            return None
        markup = query.message.reply_markup
        standing = markup is not None and self._is_standing(markup)
        return Turn(query.message.chat.id, query.message.message_id, standing)


def has_live_buttons(markup: Any) -> bool:
    """Buttons that send a press back to the bot; links and the like keep working on their own."""
    return isinstance(markup, InlineKeyboardMarkup) and any(
        button.callback_data for row in markup.inline_keyboard for button in row
    )


Slot = tuple[int, bool]  # (private chat id, is a standing keyboard)


class OneLiveKeyboard(BaseRequestMiddleware):
    """Session middleware: after a reply shows buttons, takes them off the chat's previous live message (of the
    same kind: standing or flow)."""

    def __init__(self, is_standing: IsStanding) -> None:
        self._is_standing = is_standing
        self._live: OrderedDict[Slot, int] = OrderedDict()  # → the message id with live buttons

    async def __call__(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType]
    ) -> Response[TelegramType]:
        response = await make_request(bot, method)
        turn = _TURN.get()
        chat_id = getattr(method, "chat_id", None)
        if turn is None or chat_id != turn.chat_id:
            return response
        if isinstance(method, SENDS) or (isinstance(method, EDITS) and method.inline_message_id is None):
            shown = _message_id(method, response)
            if shown is not None:
                await self._shown(bot, turn, shown, method.reply_markup)
        elif isinstance(method, DeleteMessage):
            self._forget(turn.chat_id, method.message_id)
        return response

    async def retire(self, bot: Bot, chat_id: int) -> None:
        """The flow in this chat is over (/cancel): its message keeps its text and loses its buttons."""
        message_id = self._live.pop((chat_id, False), None)
        if message_id is not None:
            with suppress(TelegramAPIError):
                await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id, reply_markup=None)

    def _forget(self, chat_id: int, message_id: int) -> None:
        for slot in ((chat_id, False), (chat_id, True)):
            if self._live.get(slot) == message_id:
                del self._live[slot]

    async def _shown(self, bot: Bot, turn: Turn, message_id: int, markup: Any) -> None:
        if not has_live_buttons(markup):
            self._forget(turn.chat_id, message_id)
            turn.bare.add(message_id)
            return
        standing = self._is_standing(markup)
        slot, other = (turn.chat_id, standing), (turn.chat_id, not standing)
        if self._live.get(other) == message_id:  # a standing keyboard edited into a flow step
            del self._live[other]
        turn.bare.discard(message_id)
        stale = {self._live.get(slot)} - {None, message_id}
        pressed = turn.pressed_message_id
        if pressed not in (None, message_id) and not turn.pressed_standing:  # a menu stays where it is
            stale.add(pressed)
        stale -= turn.bare
        self._live[slot] = message_id
        self._live.move_to_end(slot)
        while len(self._live) > TRACKED_SLOTS:
            self._live.popitem(last=False)
        for old in stale:
            self._forget(turn.chat_id, old)
            # Already without buttons, deleted or too old to edit: nothing left to take off.
            with suppress(TelegramAPIError):
                await bot.edit_message_reply_markup(chat_id=turn.chat_id, message_id=old, reply_markup=None)


def _message_id(method: TelegramMethod[Any], result: Any) -> int | None:
    """The message a send or edit returned (the session hands back the result itself, whatever its annotation)."""
    if isinstance(result, Message):
        return result.message_id
    message_id = getattr(result, "message_id", None)  # copyMessage: a MessageId
    if isinstance(message_id, int):
        return message_id
    return getattr(method, "message_id", None)  # an edit answered True (already as it should be)
