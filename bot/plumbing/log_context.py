"""The middlewares that tell the log formatter (bot/logging_setup.py) which update, chat and handler a line
belongs to."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.flags import get_flag
from aiogram.types import Chat, TelegramObject, Update

from bot.plumbing.logging_setup import ANONYMOUS_IN_LOGS, current_chat_id, current_handler, current_update_id

if TYPE_CHECKING:
    from aiogram import Dispatcher

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class LogContextMiddleware(BaseMiddleware):
    """Outer update middleware: the update id and its chat for every line logged while it is handled.

    The values are not reset on the way out on purpose: aiogram logs "Update id=… is handled" and the error
    handler logs failures after the middlewares returned, still inside the update's own task.
    """

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if isinstance(event, Update):
            current_update_id.set(event.update_id)
        chat = data.get("event_chat")
        current_chat_id.set(chat.id if isinstance(chat, Chat) else None)
        current_handler.set(None)
        return await handler(event, data)


class HandlerNameMiddleware(BaseMiddleware):
    """Inner middleware: the name of the handler that took the event, e.g. `partners.name_entered`; and no chat id
    from here on for a handler flagged ANONYMOUS_IN_LOGS (this runs before the other inner middlewares)."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if get_flag(data, ANONYMOUS_IN_LOGS):
            current_chat_id.set(None)
        handler_object = data.get("handler")
        callback = getattr(handler_object, "callback", None)
        if callback is not None:
            module = getattr(callback, "__module__", "") or ""
            name = getattr(callback, "__qualname__", None) or type(callback).__name__
            current_handler.set(f"{module.removeprefix('bot.handlers.')}.{name}" if module else name)
        return await handler(event, data)


class AnonymousInLogs(BaseMiddleware):
    """Inner middleware for a router whose handlers are not registered with flags (a dialog's): no chat id in the
    lines of its handlers, as the ANONYMOUS_IN_LOGS flag does (it runs after HandlerNameMiddleware)."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        current_chat_id.set(None)
        return await handler(event, data)


def install_log_context(dispatcher: Dispatcher) -> None:
    """Register both middlewares; call before the other outer update middlewares, so their lines carry the
    update too."""
    dispatcher.update.outer_middleware(LogContextMiddleware())
    for name, observer in dispatcher.observers.items():
        if name not in {"update", "error"}:
            observer.middleware(HandlerNameMiddleware())
