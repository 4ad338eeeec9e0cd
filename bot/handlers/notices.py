"""Private notices to someone other than the person acting (an owner told of a change), in their own language."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n

from bot.i18n import person_locale
from bot.storage.users import UserRepo

log = logging.getLogger(__name__)


async def in_their_language(users: UserRepo, i18n: I18n, user_id: int, render: Callable[..., str], *args: Any) -> str:
    with i18n.use_locale(await person_locale(users, user_id, i18n.default_locale)):
        return render(*args)


async def tell_privately(bot: Bot, users: UserRepo, i18n: I18n, chat_id: int, render: Callable[..., str], *args: Any,
                         markup: InlineKeyboardMarkup | None = None) -> None:
    """A message to someone's private chat, in their language; a blocked bot is logged, not raised."""
    text = await in_their_language(users, i18n, chat_id, render, *args)
    try:
        await bot.send_message(chat_id, text, reply_markup=markup)
    except TelegramAPIError as error:
        log.info("private notice to %s not sent: %s", chat_id, error)
