"""The bot joining and leaving groups."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import IS_MEMBER, IS_NOT_MEMBER, ChatMemberUpdatedFilter
from aiogram.types import ChatMemberUpdated
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.i18n import locale_from_telegram
from bot.storage.chats import ChatRepo


def router() -> Router:
    r = Router(name="groups")
    r.my_chat_member.filter(lambda event: event.chat.type in {"group", "supergroup"})
    r.my_chat_member.register(bot_added, ChatMemberUpdatedFilter(IS_NOT_MEMBER >> IS_MEMBER))
    r.my_chat_member.register(bot_removed, ChatMemberUpdatedFilter(IS_MEMBER >> IS_NOT_MEMBER))
    return r


async def bot_added(event: ChatMemberUpdated, chats: ChatRepo, clock: Clock, i18n: I18n) -> None:
    """Added to a group: remember it, take the adder's language as the group's, say hello."""
    record = await chats.get(event.chat.id)
    locale = record.locale if record and record.locale else None
    if locale is None:
        locale = locale_from_telegram(event.from_user.language_code, i18n.default_locale)
        await chats.set_locale(event.chat.id, locale)
    await chats.set_active(event.chat.id, True, clock.now())
    with i18n.use_locale(locale):
        await event.answer(
            _(
                "Hello! I am Most. I keep this partnership's weekly async check-in. "
                "Send /help to see what I do here; an admin can switch my language with /language."
            )
        )


async def bot_removed(event: ChatMemberUpdated, chats: ChatRepo, clock: Clock) -> None:
    """Removed or kicked: never post there again."""
    await chats.set_active(event.chat.id, False, clock.now())
