"""The command menu follows the language chosen with /language, not only the language of the Telegram client.

Telegram picks the menu by the client's language (core.telegram.org/bots/api#determining-list-of-commands), so the
bot gives a chat that chose its language a list of its own; the fake resolves what each person's client shows.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from aiogram.types import BotCommand

from bot.commands import group_commands, private_commands
from tests.e2e.conftest import LogCapture, RunningBot
from tests.e2e.fake_telegram import FakeTelegram

MENU_LANGUAGE = {"ru": "Сменить язык", "en": "Switch language"}  # /language in the private menu
GROUP_MENU_LANGUAGE = {"ru": "Язык группы (для админов)", "en": "The group's language (admins)"}


def listed(running_bot: RunningBot, build: Callable[[], list[BotCommand]], locale: str) -> dict[str, str]:
    """The bot's own list in that language, as {command: description}."""
    assert running_bot.app is not None
    i18n = running_bot.app.i18n
    with i18n.context(), i18n.use_locale(locale):
        return {command.command: command.description for command in build()}


async def menu_becomes(telegram: FakeTelegram, user_id: int, chat_id: int, expected: dict[str, str]) -> dict[str, str]:
    """What the person's client shows once the bot's calls are in (at most the reaction timeout)."""
    await telegram.wait_until(lambda: telegram.menu_descriptions(user_id, chat_id) == expected,
                              telegram.reaction_timeout)
    return telegram.menu_descriptions(user_id, chat_id)


@pytest.mark.parametrize(("client", "button", "chosen"), [("en", "Русский", "ru"), ("ru", "English", "en")])
async def test_the_private_menu_follows_the_chosen_language_whatever_the_client_speaks(
    telegram: FakeTelegram, running_bot: RunningBot, client: str, button: str, chosen: str
) -> None:
    user = telegram.private_user("Anna", language_code=client)
    await user.send("/help")
    assert telegram.menu_descriptions(user.id, user.id)["language"] == MENU_LANGUAGE[client]  # the client's at first

    await user.send("/language")
    await user.press(button)

    seen = await menu_becomes(telegram, user.id, user.id, listed(running_bot, private_commands, chosen))
    assert seen == listed(running_bot, private_commands, chosen)
    assert seen["language"] == MENU_LANGUAGE[chosen]
    call = telegram.calls_of("setMyCommands")[-1]
    assert call.params["scope"] == {"type": "chat", "chat_id": user.id}
    assert not call.params.get("language_code")  # for this chat whatever the client's language
    other = telegram.private_user("Boris", language_code=client)
    assert telegram.menu_descriptions(other.id, other.id)["language"] == MENU_LANGUAGE[client]  # nobody else's

    await running_bot.restart()  # the start-up lists for everyone do not take the chat's list away
    assert telegram.menu_descriptions(user.id, user.id)["language"] == MENU_LANGUAGE[chosen]


async def test_the_groups_menu_follows_the_language_its_admin_chose(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    admin = telegram.private_user("Admin", language_code="en")
    member = telegram.private_user("Member", language_code="en")
    group = telegram.group("RU-US pilot")
    group.add_member(admin, "administrator")
    group.add_member(member, "member")
    await group.add_bot(by=admin)
    assert telegram.menu_descriptions(member.id, group.id)["language"] == GROUP_MENU_LANGUAGE["en"]

    await group.send(admin, "/language")
    await group.press(member, "Русский")  # refused: not an admin
    assert telegram.menu_descriptions(member.id, group.id)["language"] == GROUP_MENU_LANGUAGE["en"]
    await group.press(admin, "Русский")

    russian = listed(running_bot, group_commands, "ru")
    assert await menu_becomes(telegram, member.id, group.id, russian) == russian
    assert telegram.menu_descriptions(admin.id, group.id) == russian
    assert telegram.menu_descriptions(member.id, member.id)["language"] == MENU_LANGUAGE["en"]  # their own chat


@pytest.mark.parametrize(("code", "description"), [(400, "Bad Request: chat not found"),
                                                   (403, "Forbidden: bot was blocked by the user")])
async def test_a_refused_menu_does_not_stop_the_language_switch(
    telegram: FakeTelegram, running_bot: RunningBot, bot_logs: LogCapture, code: int, description: str
) -> None:
    user = telegram.private_user("John", language_code="en")
    await user.send("/language")
    telegram.fail_next(user.id, code, description, method="setMyCommands")
    switched = await user.press("Русский")
    assert "дальше говорим по-русски" in switched.text
    assert [call.error["error_code"] for call in switched.errors] == [code]  # the setMyCommands, nothing else

    assert "Что я умею" in (await user.send("/help")).text
    assert await running_bot.query("SELECT locale FROM users WHERE id = ?", (user.id,)) == [("ru",)]
    assert telegram.menu_descriptions(user.id, user.id)["language"] == MENU_LANGUAGE["en"]  # the client's, as before
    assert any("command menu" in line and description in line for line in bot_logs.lines)


async def test_deleting_ones_data_gives_the_menu_back_to_the_clients_language(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    user = telegram.private_user("Маша", language_code="ru")
    await user.send("/language")
    await user.press("English")
    assert (await menu_becomes(telegram, user.id, user.id, listed(running_bot, private_commands, "en")))[
        "language"] == MENU_LANGUAGE["en"]

    await user.send("/deletemydata")
    done = await user.press("🗑 Yes, delete my data")
    assert "Done: your data is deleted" in done.text
    russian = listed(running_bot, private_commands, "ru")
    assert await menu_becomes(telegram, user.id, user.id, russian) == russian  # the start-up list for Russian
