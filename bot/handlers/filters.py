"""Filters that run on the event loop, and the one check that lets a router turn away another feature's press.

aiogram sends every filter that is not a coroutine — a magic `F.…` expression or a bare `State` included — to a
worker thread (`asyncio.to_thread`). Our checks take microseconds and touch nothing outside the update, while the
thread hop costs far more, and dozens of filters run per update. So every filter we register is an aiogram
`Filter` (or a coroutine): the chat-type checks below, `Pure` around a magic expression, `StateFilter` for FSM
states (tests/unit/test_aiogram_public_api.py holds every registration to that).

aiogram offers a button press to every router in turn, and each router tries its handlers' filters one by one:
a press nobody takes tried those of all 88 press handlers before the catch-all had it. Every button this bot
makes carries CallbackData with a prefix, so each feature router's presses first pass `PressOf(...)`, the kinds
of data its buttons carry: a press for another feature is turned away in one look at the prefix (and the
features sit in two groups with the same check, bot/handlers/__init__.py). A router without it (the catch-all,
one added later) is tried as aiogram always does.
"""

from __future__ import annotations

from typing import Any

from aiogram import F
from aiogram.filters import Filter
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Chat, Message, TelegramObject
from magic_filter import MagicFilter

PRIVATE_TYPES = frozenset({"private"})
GROUP_TYPES = frozenset({"group", "supergroup"})


class ChatTypeIs(Filter):
    """The update's chat — for a button press, the chat of the message under the button — is one of `types`."""

    def __init__(self, types: frozenset[str]) -> None:
        self.types = types

    async def __call__(self, event: TelegramObject) -> bool:
        chat = _chat_of(event)
        return chat is not None and chat.type in self.types


def _chat_of(event: TelegramObject) -> Chat | None:
    if isinstance(event, CallbackQuery):
        return event.message.chat if event.message is not None else None
    chat = getattr(event, "chat", None)
    return chat if isinstance(chat, Chat) else None


class OnAMessage(Filter):
    """A press on a message the bot can still see: Telegram sends an InaccessibleMessage (a date of 0) for one it
    can no longer reach, and nothing can be edited or answered under it. The message is handed to the handlers as
    `pressed`, so none of them checks its type again; a press on an unreachable message goes on to the catch-all's
    stale pop-up."""

    async def __call__(self, event: TelegramObject) -> bool | dict[str, Message]:
        if isinstance(event, CallbackQuery) and isinstance(event.message, Message):
            return {"pressed": event.message}
        return False


class Pure(Filter):
    """A magic `F.…` expression checked on the event loop, with the result aiogram would give it."""

    def __init__(self, magic: MagicFilter) -> None:
        self.magic = magic

    async def __call__(self, event: TelegramObject) -> Any:
        return self.magic.resolve(event)

    def __str__(self) -> str:
        return f"Pure({self.magic!r})"


class PressOf(Filter):
    """A button press whose callback data is of one of these kinds (by its prefix; the handler's own
    `Kind.filter(...)` still reads the whole of it)."""

    def __init__(self, *kinds: type[CallbackData]) -> None:
        if not kinds:
            raise ValueError("a router that takes presses of no kind needs no PressOf")
        self.kinds = kinds
        by_separator: dict[str, set[str]] = {}
        for kind in kinds:
            by_separator.setdefault(kind.__separator__, set()).add(kind.__prefix__)
        self._prefixes = [(separator, frozenset(prefixes)) for separator, prefixes in by_separator.items()]

    async def __call__(self, event: TelegramObject) -> bool:
        data = event.data if isinstance(event, CallbackQuery) else None
        if not data:
            return False
        return any(data.partition(separator)[0] in prefixes for separator, prefixes in self._prefixes)

    def __str__(self) -> str:
        return f"PressOf({', '.join(kind.__name__ for kind in self.kinds)})"


ON_A_MESSAGE = OnAMessage()
PRIVATE = ChatTypeIs(PRIVATE_TYPES)
GROUP = ChatTypeIs(GROUP_TYPES)
HAS_TEXT = Pure(F.text)
COMMAND = Pure(F.text.startswith("/"))
