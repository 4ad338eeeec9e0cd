"""Commands that work anywhere, even mid-conversation: /help, /cancel, /language."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager

from bot import texts
from bot.commands import publish_for_chat
from bot.config import SUPPORTED_LOCALES
from bot.handlers.cancel_notes import cancel_note
from bot.handlers.filters import GROUP, PRIVATE, PressOf
from bot.handlers.replies import answer_stale, edit_or_send
from bot.keyboards.builders import card_button, language_keyboard
from bot.keyboards.callbacks import LanguageChoice, MenuAction, MenuCallback
from bot.plumbing.dialogs import close_dialogs
from bot.plumbing.live_keyboards import OneLiveKeyboard
from bot.storage.chats import ChatRepo
from bot.storage.users import UserRepo

ADMIN_STATUSES = frozenset({"creator", "administrator"})


# The kinds of button data this feature's handlers take.
PRESSES = (LanguageChoice, MenuCallback)


def router() -> Router:
    r = Router(name="basics")
    r.callback_query.filter(PressOf(*PRESSES))
    r.message.register(help_private, Command("help"), PRIVATE)
    r.message.register(help_group, Command("help", "start"), GROUP)
    r.message.register(cancel, Command("cancel"), PRIVATE)
    r.message.register(cancel_group, Command("cancel"), GROUP)
    r.message.register(language_private, Command("language"), PRIVATE)
    r.message.register(language_group, Command("language"), GROUP)
    r.callback_query.register(language_chosen_private, LanguageChoice.filter(), PRIVATE)
    r.callback_query.register(language_chosen_group, LanguageChoice.filter(), GROUP)
    r.callback_query.register(menu_help, MenuCallback.filter(F.action == MenuAction.HELP), PRIVATE)
    r.callback_query.register(menu_language, MenuCallback.filter(F.action == MenuAction.LANGUAGE), PRIVATE)
    return r


async def help_private(message: Message) -> None:
    """/help in a private chat; the conversation in progress, if any, stays where it was."""
    await message.answer(texts.help_private())


async def help_group(message: Message) -> None:
    """/help in a group: what the bot does there."""
    await message.answer(texts.help_group())


async def cancel(
    message: Message,
    state: FSMContext,
    bot: Bot,
    live_keyboards: OneLiveKeyboard,
    dialog_manager: DialogManager | None = None,
) -> None:
    """/cancel: leave whatever conversation is open — a hand-written flow (its FSM state) or a dialog
    (aiogram-dialog's stack); the language stays (it lives in the users table)."""
    current, data = await state.get_state(), await state.get_data()
    if dialog_manager is not None and dialog_manager.has_context():
        if current is None:  # the dialog's note reads the dialog's data (the FSM data is not its)
            context = dialog_manager.current_context()
            current, data = context.state.state, dict(context.dialog_data)
        await close_dialogs(dialog_manager)
    if current is None:
        await message.answer(texts.nothing_to_cancel())
        return
    note = cancel_note(current, data)
    await state.clear()
    await live_keyboards.retire(bot, message.chat.id)
    await message.answer(note.text, reply_markup=card_button(note.partner_id) if note.partner_id else None)


async def cancel_group(message: Message) -> None:
    """/cancel in a group: no conversation is ever open there, so say so and point to the private chat."""
    await message.answer(texts.nothing_to_cancel_in_group())


def _language_prompt() -> str:
    return _("Choose the language / Выберите язык:")


async def language_private(message: Message, i18n: I18n) -> None:
    """/language in a private chat: offers both languages."""
    await message.answer(_language_prompt(), reply_markup=language_keyboard(i18n.current_locale))


async def language_group(message: Message, bot: Bot, i18n: I18n) -> None:
    """/language in a group: only its admins may change the group's language."""
    if not await is_group_admin(bot, message):
        await message.answer(_("Only the group's admins can change its language."))
        return
    await message.answer(_language_prompt(), reply_markup=language_keyboard(i18n.current_locale))


async def language_chosen_private(
    callback: CallbackQuery, callback_data: LanguageChoice, users: UserRepo, bot: Bot, i18n: I18n
) -> None:
    """A language button in a private chat: save it, confirm in the new language, and the command menu follows."""
    if callback_data.locale not in SUPPORTED_LOCALES or not isinstance(callback.message, Message):
        await answer_stale(callback)
        return
    await users.set_locale(callback.from_user.id, callback_data.locale)
    with i18n.use_locale(callback_data.locale):
        await edit_or_send(
            callback.message,
            _("Done: I will speak English with you.")
            if callback_data.locale == "en"
            else _("Done: I will speak Russian with you."),
        )
    await publish_for_chat(bot, i18n, callback.message.chat.id, callback_data.locale, private=True)


async def language_chosen_group(
    callback: CallbackQuery, callback_data: LanguageChoice, chats: ChatRepo, bot: Bot, i18n: I18n
) -> None:
    """A language button in a group: admins only; the group's command menu follows."""
    if callback_data.locale not in SUPPORTED_LOCALES or not isinstance(callback.message, Message):
        await answer_stale(callback)
        return
    if not await user_is_admin(bot, callback.message.chat.id, callback.from_user.id):
        await callback.message.answer(_("Only the group's admins can change its language."))
        return
    await chats.set_locale(callback.message.chat.id, callback_data.locale)
    with i18n.use_locale(callback_data.locale):
        await edit_or_send(
            callback.message,
            _("Done: this group's language is now English.")
            if callback_data.locale == "en"
            else _("Done: this group's language is now Russian."),
        )
    await publish_for_chat(bot, i18n, callback.message.chat.id, callback_data.locale, private=False)


async def menu_help(callback: CallbackQuery) -> None:
    """The Help button of the main menu."""
    if isinstance(callback.message, Message):
        await callback.message.answer(texts.help_private())


async def menu_language(callback: CallbackQuery, i18n: I18n) -> None:
    """The Language button of the main menu."""
    if isinstance(callback.message, Message):
        await callback.message.answer(_language_prompt(), reply_markup=language_keyboard(i18n.current_locale))


async def is_group_admin(bot: Bot, message: Message) -> bool:
    """True for the group's creator and admins, including an admin posting anonymously as the group."""
    if message.sender_chat is not None and message.sender_chat.id == message.chat.id:
        return True
    if message.from_user is None:
        return False
    return await user_is_admin(bot, message.chat.id, message.from_user.id)


async def user_is_admin(bot: Bot, chat_id: int, user_id: int) -> bool:
    """getChatMember; someone Telegram does not know in this chat ("user not found") is no admin."""
    try:
        member = await bot.get_chat_member(chat_id, user_id)
    except TelegramBadRequest:
        return False
    return member.status in ADMIN_STATUSES
