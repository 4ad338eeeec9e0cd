"""Chat-type filters applied once per router.

They are coroutines on purpose: aiogram runs a plain callable filter (a magic `F.…` expression included) in a
worker thread, and these run for every router an update passes through.
"""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import CallbackQuery, Chat, TelegramObject

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


PRIVATE = ChatTypeIs(PRIVATE_TYPES)
GROUP = ChatTypeIs(GROUP_TYPES)
