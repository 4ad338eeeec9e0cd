"""The global error handler: log with the update id, tell the person their data is safe."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import suppress

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import I18n
from aiogram_dialog import DialogManager
from aiogram_dialog.api.exceptions import UnknownState

from bot import texts
from bot.i18n import LocaleResolver, event_chat_and_user
from bot.plumbing.dialogs import STALE_DIALOG, close_dialogs
from bot.plumbing.intake import UpdateOutcome

log = logging.getLogger("bot.errors")

# Telegram's refusals to edit a message that a pressed button points at: the button is stale or forged.
STALE_MESSAGE_REFUSALS = (
    "message to edit not found",
    "there is no text in the message to edit",
    "there is no caption in the message to edit",
    "message can't be edited",
)


async def on_error(
    event: ErrorEvent,
    bot: Bot,
    i18n: I18n,
    locale_resolver: LocaleResolver,
    update_outcome: UpdateOutcome | None = None,
    dialog_manager: DialogManager | None = None,
) -> bool:
    """Any exception a handler let through. Telegram's refusals that only mean "nothing to do" end the update as
    handled; anything else fails it, so the intake rolls its writes back and tries again (the person hears about it
    once, on the last attempt)."""
    update = event.update
    if isinstance(event.exception, STALE_DIALOG):
        await _stale_dialog(event, bot, i18n, locale_resolver, dialog_manager)
        return True
    if (
        update.callback_query is not None
        and isinstance(event.exception, TelegramBadRequest)
        and any(refusal in event.exception.message for refusal in STALE_MESSAGE_REFUSALS)
    ):
        # A button pressed on (or forged onto) a message that can no longer be edited that way: a stale button.
        log.warning("update %s: %s; answered as a stale button", update.update_id, event.exception.message)
        await _tell(event, bot, i18n, locale_resolver, texts.stale_button)
        return True
    if isinstance(event.exception, TelegramForbiddenError):
        # Blocked by the user, or removed from the group (a button pressed on an old message there): nothing to
        # fix and no one to tell; not an error of the bot.
        log.info("update %s: chat is closed to the bot: %s", update.update_id, event.exception.message)
        return True
    if update_outcome is not None:
        update_outcome.failed(event.exception)
    final = update_outcome is None or update_outcome.final
    log.log(
        logging.ERROR if final else logging.WARNING,
        "update %s failed: %s: %s",
        update.update_id,
        type(event.exception).__name__,
        event.exception,
        exc_info=event.exception if final else None,
    )
    if final:
        await _tell(event, bot, i18n, locale_resolver, texts.something_went_wrong)
    return True


async def _stale_dialog(
    event: ErrorEvent, bot: Bot, i18n: I18n, locale_resolver: LocaleResolver, manager: DialogManager | None
) -> None:
    """A press on (or a reply to) a dialog that is over: a finished or cancelled form, or one whose step this
    version no longer has. Its records go (aiogram-dialog leaves an unknown step in place, which would refuse every
    later update of the person); a press is answered with a pop-up, a typed message with a short notice."""
    update = event.update
    log.info("update %s: %s; answered as a stale dialog", update.update_id, event.exception)
    if manager is not None and isinstance(event.exception, UnknownState):
        with suppress(Exception):  # best effort: the stack may already be gone
            await close_dialogs(manager)
    query = update.callback_query
    if query is None:
        await _tell(event, bot, i18n, locale_resolver, texts.cancelled)
        return
    try:
        locale = await locale_resolver.for_update(update)
    except Exception:
        locale = i18n.default_locale
    with i18n.context(), i18n.use_locale(locale), suppress(TelegramBadRequest):
        await bot.answer_callback_query(query.id, text=texts.stale_button())


async def _tell(
    event: ErrorEvent, bot: Bot, i18n: I18n, locale_resolver: LocaleResolver, notice: Callable[[], str]
) -> None:
    """Best effort: a short notice in the chat of the update, in its language."""
    update = event.update
    chat, _user = event_chat_and_user(update)
    if chat is None:
        return
    try:
        locale = await locale_resolver.for_update(update)
    except Exception:
        locale = i18n.default_locale
    try:
        with i18n.context(), i18n.use_locale(locale):
            await bot.send_message(chat.id, notice())
    except TelegramForbiddenError:
        log.info("chat %s blocked the bot; error notice not delivered", chat.id)
    except Exception as notice_error:  # the notice is best-effort; the original error is already logged
        log.warning("could not tell chat %s about the error: %s", chat.id, notice_error)
