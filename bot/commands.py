"""The command menus Telegram shows, per language and per chat type, and per chat once a language is chosen."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.config import SUPPORTED_LOCALES

log = logging.getLogger(__name__)


def private_commands() -> list[BotCommand]:
    return [
        BotCommand(command="start", description=_("Overview and main menu")),
        BotCommand(command="newpartner", description=_("Add a partner candidate")),
        BotCommand(command="partners", description=_("Your partners and their cards")),
        BotCommand(command="log", description=_("Log what happened in a campaign")),
        BotCommand(command="stats", description=_("The learning loop: your figures next to the field notes")),
        BotCommand(command="help", description=_("What the bot can do")),
        BotCommand(command="language", description=_("Switch language")),
        BotCommand(command="cancel", description=_("Leave the current step")),
        BotCommand(command="checkin", description=_("Set up a group's weekly check-in")),
        BotCommand(command="team", description=_("Your team: members and invite links")),
        BotCommand(command="report", description=_("Portfolio picture: stage funnel and communication health")),
        BotCommand(command="export", description=_("Download the workspace's data: Excel and CSV")),
        BotCommand(command="mydata", description=_("A file of everything stored about you")),
        BotCommand(command="deletemydata", description=_("Delete your data (asks first)")),
    ]


def group_commands() -> list[BotCommand]:
    return [
        BotCommand(command="checkin", description=_("Set up, change or stop the weekly check-in (admins)")),
        BotCommand(command="digest", description=_("The check-in's answers so far")),
        BotCommand(command="away", description=_("I'm away for a few weeks: don't count me as missing")),
        BotCommand(command="help", description=_("What the bot does in this group")),
        BotCommand(command="language", description=_("The group's language (admins)")),
    ]


async def publish_commands(bot: Bot, i18n: I18n) -> None:
    """One list per chat type for each language, plus the English default for everyone else."""
    scopes = (
        (BotCommandScopeAllPrivateChats(), private_commands),
        (BotCommandScopeAllGroupChats(), group_commands),
    )
    for scope, build in scopes:
        with i18n.context(), i18n.use_locale("en"):
            await bot.set_my_commands(build(), scope=scope)
        for locale in SUPPORTED_LOCALES:
            with i18n.context(), i18n.use_locale(locale):
                await bot.set_my_commands(build(), scope=scope, language_code=locale)


async def publish_for_chat(bot: Bot, i18n: I18n, chat_id: int, locale: str, *, private: bool) -> bool:
    """The menu of one chat in the language chosen there with /language.

    Telegram picks a list by the client's language (see publish_commands), so someone whose Telegram is in
    English but who chose Russian would still see English descriptions. A chat scope without a language code
    comes before those lists whatever the client's language, for everyone in the chat (core.telegram.org/bots/api
    #determining-list-of-commands). A refusal (the chat gone, flood control) is logged and the language switch
    goes on: the menu then stays in the client's language. No chat id in the line: a reference creator's private
    chat stays out of the log. Returns whether the menu was set.
    """
    build = private_commands if private else group_commands
    with i18n.context(), i18n.use_locale(locale):
        commands = build()
    try:
        await bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id=chat_id))
    except TelegramAPIError as error:
        log.warning("the %s command menu in %s was not set: %s", "private" if private else "group", locale, error)
        return False
    return True


async def forget_chat_menu(bot: Bot, chat_id: int) -> None:
    """The chat's own list taken away when the person's data is deleted: with the chosen language forgotten, the
    menu follows the client's language again. A refusal is logged, as in publish_for_chat."""
    try:
        await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id=chat_id))
    except TelegramAPIError as error:
        log.warning("a chat's own command menu was not taken away: %s", error)
