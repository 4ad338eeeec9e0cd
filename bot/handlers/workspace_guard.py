"""Routers whose handlers work inside a workspace get it injected, or the person is told to create one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.i18n import gettext as _

from bot.storage.workspaces import WorkspaceRepo


def no_workspace_text() -> str:
    return _("You are not in a workspace yet. Send /start to create one, or open a teammate's invite link.")


class WorkspaceRequired(BaseMiddleware):
    """Puts the caller's current workspace into `data["workspace"]`; without one, answers and stops."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user = data.get("event_from_user")
        workspaces: WorkspaceRepo = data["workspaces"]
        workspace = await workspaces.current_for(user.id) if user else None
        if workspace is None:
            if isinstance(event, Message):
                await event.answer(no_workspace_text())
            elif isinstance(event, CallbackQuery) and isinstance(event.message, Message):
                await event.message.answer(no_workspace_text())
            return None
        data["workspace"] = workspace
        return await handler(event, data)
