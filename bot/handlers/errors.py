"""The global error handler: log with the update id, tell the person their data is safe."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramForbiddenError
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import I18n

from bot import texts
from bot.i18n import LocaleResolver, event_chat_and_user

log = logging.getLogger("bot.errors")


async def on_error(event: ErrorEvent, bot: Bot, i18n: I18n, locale_resolver: LocaleResolver) -> bool:
    """Any exception a handler let through."""
    update = event.update
    log.error(
        "update %s failed: %s: %s",
        update.update_id,
        type(event.exception).__name__,
        event.exception,
        exc_info=event.exception,
    )
    chat, _user = event_chat_and_user(update)
    if chat is None:
        return True
    try:
        locale = await locale_resolver.for_update(update)
    except Exception:
        locale = i18n.default_locale
    try:
        with i18n.context(), i18n.use_locale(locale):
            await bot.send_message(chat.id, texts.something_went_wrong())
    except TelegramForbiddenError:
        log.info("chat %s blocked the bot; error notice not delivered", chat.id)
    except Exception as notice_error:  # the notice is best-effort; the original error is already logged
        log.warning("could not tell chat %s about the error: %s", chat.id, notice_error)
    return True
