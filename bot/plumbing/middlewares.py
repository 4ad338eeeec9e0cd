"""Update-level middleware (who and where) and the count of updates in flight."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from aiogram import BaseMiddleware
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, TelegramObject, Update
from aiogram.utils.callback_answer import CallbackAnswer, CallbackAnswerMiddleware

from bot.clock import Clock
from bot.i18n import event_chat_and_user
from bot.storage.chats import ChatRepo
from bot.storage.db import Database
from bot.storage.users import UserRepo

log = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class InFlight:
    """Counts updates being handled, so shutdown can wait for them to finish."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def enter(self) -> None:
        self._count += 1
        self._idle.clear()

    def leave(self) -> None:
        self._count -= 1
        if self._count == 0:
            self._idle.set()

    @property
    def count(self) -> int:
        return self._count

    async def wait_idle(self, timeout: float) -> bool:
        """True when everything finished within the timeout."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True


class UpdateContextMiddleware(BaseMiddleware):
    """Keeps the user and chat rows current and hands them to what follows as `user_record`, `chat_record`.

    Both are idempotent upserts, written at once rather than inside the update's unit of work: a replay writes the
    same again, and an update that writes nothing else never has to take the database writer."""

    def __init__(self, db: Database, users: UserRepo, chats: ChatRepo, clock: Clock) -> None:
        self._db = db
        self._users = users
        self._chats = chats
        self._clock = clock

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        chat, user = event_chat_and_user(event)
        now = self._clock.now()
        with self._db.outside_unit_of_work():
            if user is not None and not user.is_bot:
                data["user_record"] = await self._users.touch(user.id, user.language_code, now)
            if chat is not None and chat.type != "private":
                data["chat_record"] = await self._chats.touch(chat.id, chat.type, chat.title, now)
        return await handler(event, data)


# The press being handled, so a handler deep in a flow can put a pop-up notice on it without a new chat message.
_PRESS: ContextVar[CallbackAnswer | None] = ContextVar("press", default=None)


def notify_press(text: str, *, alert: bool = False) -> bool:
    """Show `text` as the pop-up notice of the button press being handled; False when no press is being handled
    (the update is a typed message), so the caller answers in the chat instead."""
    press = _PRESS.get()
    if press is None or press.answered or press.disabled:
        return False
    press.text = text
    press.show_alert = alert
    return True


class LenientCallbackAnswer(CallbackAnswerMiddleware):
    """Answers every button press once, after its handler, so the handler can give it a pop-up notice (a stale tap
    is answered that way, never with a chat message); a slow handler flags `callback_answer={"pre": True}` to stop
    the spinner first. Whatever Telegram refuses about the acknowledgement itself does not stop the press from being
    handled ("query is too old", the usual one after a restart, is already treated as done by
    bot/plumbing/telegram_retries.py; this catches the rest, e.g. a query id a modified client made up)."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, CallbackQuery):
            return await handler(event, data)

        async def answered_after(event: TelegramObject, data: dict[str, Any]) -> Any:
            token = _PRESS.set(data["callback_answer"])
            try:
                return await handler(event, data)
            finally:
                _PRESS.reset(token)

        return await super().__call__(answered_after, event, data)

    async def answer(self, event: CallbackQuery, callback_answer: CallbackAnswer) -> None:
        try:
            await super().answer(event, callback_answer)
        except TelegramBadRequest as error:
            log.info("button press %s not acknowledged (%s); handling it anyway", event.id, error.message)
