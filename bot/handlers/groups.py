"""The bot joining, leaving and following groups (a group upgraded to a supergroup keeps its check-in)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import IS_MEMBER, IS_NOT_MEMBER, ChatMemberUpdatedFilter
from aiogram.types import ChatMemberUpdated, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.checkins import CheckinService
from bot.clock import Clock
from bot.handlers.filters import GROUP, Pure
from bot.i18n import chosen_or_telegram
from bot.storage.chats import ChatRepo


def router() -> Router:
    r = Router(name="groups")
    r.my_chat_member.filter(GROUP)
    r.my_chat_member.register(bot_added, ChatMemberUpdatedFilter(IS_NOT_MEMBER >> IS_MEMBER))
    r.my_chat_member.register(bot_removed, ChatMemberUpdatedFilter(IS_MEMBER >> IS_NOT_MEMBER))
    r.message.register(migrated_to, GROUP, Pure(F.migrate_to_chat_id))
    r.message.register(migrated_from, GROUP, Pure(F.migrate_from_chat_id))
    return r


async def bot_added(event: ChatMemberUpdated, chats: ChatRepo, clock: Clock, i18n: I18n) -> None:
    """Added to a group: remember it, take the adder's language as the group's, say hello."""
    record = await chats.get(event.chat.id)
    saved = record.locale if record is not None else None
    locale = chosen_or_telegram(saved, event.from_user.language_code, i18n.default_locale)
    if saved is None:  # the adder's language becomes the group's
        await chats.set_locale(event.chat.id, locale)
    await chats.set_active(event.chat.id, True, clock.now())
    with i18n.use_locale(locale):
        await event.answer(
            _(
                "Hello! I am Most. I keep this partnership's weekly async check-in: a short prompt once a week, "
                "answers by reply, then a digest. A group admin sets it up with /checkin; /help shows the rest, "
                "and /language switches my language."
            )
        )


async def bot_removed(event: ChatMemberUpdated, checkin_service: CheckinService) -> None:
    """Removed or kicked: never post there again; the check-in stops and its managers are told in private."""
    await checkin_service.chat_gone(event.chat.id)


async def migrated_to(message: Message, checkin_service: CheckinService) -> None:
    """The group became a supergroup (seen in the old chat): the check-in follows the new id."""
    if message.migrate_to_chat_id:
        await checkin_service.chat_moved(message.chat.id, message.migrate_to_chat_id)


async def migrated_from(message: Message, checkin_service: CheckinService) -> None:
    """The same upgrade seen in the new supergroup."""
    if message.migrate_from_chat_id:
        await checkin_service.chat_moved(message.migrate_from_chat_id, message.chat.id)
