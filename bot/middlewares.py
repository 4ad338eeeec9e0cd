"""Update-level middlewares: skip re-delivered updates, record who and where, track work in flight."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import TelegramObject, Update

from bot.clock import Clock
from bot.i18n import event_chat_and_user
from bot.storage.chats import ChatRepo
from bot.storage.processed import ProcessedUpdates
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
    """Skips updates handled before a crash, keeps the user and chat rows current."""

    def __init__(
        self, users: UserRepo, chats: ChatRepo, processed: ProcessedUpdates, clock: Clock, inflight: InFlight
    ) -> None:
        self._users = users
        self._chats = chats
        self._processed = processed
        self._clock = clock
        self._inflight = inflight

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        if await self._processed.seen(event.update_id):
            log.info("update %s was handled before a restart; skipped", event.update_id)
            return UNHANDLED
        self._inflight.enter()
        try:
            chat, user = event_chat_and_user(event)
            now = self._clock.now()
            if user is not None and not user.is_bot:
                data["user_record"] = await self._users.touch(user.id, user.language_code, now)
            if chat is not None and chat.type != "private":
                data["chat_record"] = await self._chats.touch(chat.id, chat.type, chat.title, now)
            result = await handler(event, data)
            await self._processed.mark(event.update_id, self._clock.now())
            return result
        finally:
            self._inflight.leave()
