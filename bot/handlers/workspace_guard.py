"""Routers whose handlers work inside a workspace get it injected, or the person is told to create one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiogram import BaseMiddleware, Router
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.i18n import gettext as _

from bot.handlers.filters import ON_A_MESSAGE, PRIVATE, PressOf
from bot.plumbing.middlewares import notify_press
from bot.storage.users import UserRecord
from bot.storage.workspaces import Workspace, WorkspaceRepo


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
        workspace = await _current_workspace(data)
        if workspace is None:
            if isinstance(event, Message):
                await event.answer(no_workspace_text())
            elif isinstance(event, CallbackQuery) and not notify_press(no_workspace_text(), alert=True):
                await data["pressed"].answer(no_workspace_text())
            return None
        data["workspace"] = workspace
        return await handler(event, data)


async def _current_workspace(data: dict[str, Any]) -> Workspace | None:
    """From the user row this update already read, else from the database."""
    user = data.get("event_from_user")
    if user is None:
        return None
    record: UserRecord | None = data.get("user_record")
    if record is not None and record.id == user.id:
        return record.current_workspace
    workspaces: WorkspaceRepo = data["workspaces"]
    return await workspaces.current_for(user.id)


def private_workspace_router(name: str, presses: Sequence[type[CallbackData]] = ()) -> Router:
    """A router for private chats whose handlers all work inside the caller's workspace; its presses are those
    with callback data of the kinds in `presses` (checked first: most presses are for another feature), on a message
    the bot can still see, which its handlers take as `pressed`."""
    r = Router(name=name)
    if presses:
        r.callback_query.filter(PressOf(*presses))
    r.callback_query.filter(ON_A_MESSAGE)
    for observer in (r.message, r.callback_query):
        observer.filter(PRIVATE)
        observer.middleware(WorkspaceRequired())
    return r


def dialogs_in_workspace(name: str, *dialogs: Router) -> Router:
    """A feature's conversations (aiogram-dialog Dialogs) behind the same guard: private chats, the caller's
    workspace; their presses carry the dialogs' own data, so no PressOf names them."""
    r = private_workspace_router(name)
    for dialog in dialogs:
        r.include_router(dialog)
    return r
