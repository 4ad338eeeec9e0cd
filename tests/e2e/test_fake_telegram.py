"""Tests of the end-to-end rig itself, driven by a bare aiogram bot rather than the project's."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramRetryAfter,
)
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BotCommandScopeChatAdministrators,
    BotCommandScopeChatMember,
    BotCommandScopeDefault,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
)

from tests.e2e.fake_telegram import BOT_USERNAME, RATE_GLOBAL_PER_SECOND, RATE_GROUP_PER_MINUTE, FakeTelegram


class LocalSession(AiohttpSession):
    """Skips the 250 ms aiogram waits on close for TLS shutdown: the fake is plain local HTTP."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


def keyboard(*buttons: InlineKeyboardButton) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[list(buttons)])


def echo_router() -> Router:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message, command: CommandObject) -> None:
        await message.answer(f"start payload={command.args}")

    @router.message(Command("menu"))
    async def menu(message: Message) -> None:
        buttons = (InlineKeyboardButton(text="✅ Yes", callback_data="pick:yes"),
                   InlineKeyboardButton(text="No", callback_data="pick:no"))
        await message.answer("Pick one", reply_markup=keyboard(*buttons))

    @router.callback_query(F.data.startswith("pick:"))
    async def picked(query: CallbackQuery) -> None:
        await query.answer("noted")
        assert isinstance(query.message, Message)
        await query.message.edit_text(f"You picked {query.data}")

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(f"echo: {message.text}")

    return router


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake
        assert not fake.violations, fake.violations


@pytest.fixture
async def bot(server: FakeTelegram) -> AsyncIterator[Bot]:
    bot = Bot(server.token, session=LocalSession(api=TelegramAPIServer.from_base(server.base_url)))
    yield bot
    await bot.session.close()


async def start_echo_bot(server: FakeTelegram, bot: Bot) -> tuple[Dispatcher, asyncio.Task[None]]:
    dispatcher = Dispatcher()
    dispatcher.include_router(echo_router())
    task = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False))
    await server.wait_polling()
    return dispatcher, task


@pytest.fixture
async def polling(server: FakeTelegram, bot: Bot) -> AsyncIterator[Dispatcher]:
    dispatcher, task = await start_echo_bot(server, bot)
    yield dispatcher
    await dispatcher.stop_polling()
    await task


# --- getUpdates ---------------------------------------------------------------------------------------


async def test_offset_confirms_earlier_updates(server: FakeTelegram, bot: Bot) -> None:
    anna = server.private_user()
    first = (await anna.send("one", wait=False)).update_id
    second = (await anna.send("two", wait=False)).update_id
    assert first is not None and second is not None and second > first

    updates = await bot.get_updates()
    assert [(u.update_id, u.message and u.message.text) for u in updates] == [(first, "one"), (second, "two")]
    assert [u.update_id for u in await bot.get_updates(limit=1)] == [first]
    assert [u.update_id for u in await bot.get_updates(offset=second)] == [second]
    assert await bot.get_updates(offset=second + 1) == []
    assert server.confirmed_update_id == second
    assert server.fetched_update_id == second


async def test_long_poll_returns_as_soon_as_an_update_arrives(server: FakeTelegram, bot: Bot) -> None:
    anna = server.private_user()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await server.wait_polling()
    started = time.monotonic()
    update_id = (await anna.send("late", wait=False)).update_id

    assert [u.update_id for u in await poll] == [update_id]
    assert time.monotonic() - started < 1
    await server.wait_fetched(update_id or 0, timeout=0.1)


async def test_long_poll_times_out_with_no_updates(server: FakeTelegram, bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == []
    assert 0.9 < time.monotonic() - started < 2


async def test_allowed_updates_filter_new_updates(server: FakeTelegram, bot: Bot) -> None:
    await bot.get_updates(allowed_updates=["callback_query"])
    anna = server.private_user()
    assert not (await anna.send("hi", wait=False)).delivered
    await bot.get_updates(allowed_updates=[])  # empty means the default set again
    assert (await anna.send("hi", wait=False)).delivered


async def test_second_poller_terminates_the_first(server: FakeTelegram, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await server.wait_polling()
    second = asyncio.create_task(bot.get_updates(timeout=5))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
        await first
    update_id = (await server.private_user().send("hi", wait=False)).update_id
    assert [u.update_id for u in await second] == [update_id]
    assert len(server.take_violations()) == 1


# --- people and reactions -----------------------------------------------------------------------------


async def test_send_returns_the_bots_answer(server: FakeTelegram, polling: Dispatcher) -> None:
    anna = server.private_user()

    reaction = await anna.send("hello")
    assert reaction.text == "echo: hello"
    assert [m.text for m in reaction.messages] == ["echo: hello"]
    assert anna.last_message() is reaction.messages[0]

    assert (await anna.start("ref42")).text == "start payload=ref42"
    assert (await anna.start()).text == "start payload=None"
    assert [m.text for m in anna.messages()][-1] == "start payload=None"


async def test_press_reaches_the_callback_handler(server: FakeTelegram, polling: Dispatcher) -> None:
    anna = server.private_user()
    menu = await anna.send("/menu")
    assert menu.messages[0].buttons == [("✅ Yes", "pick:yes"), ("No", "pick:no")]
    with pytest.raises(AssertionError, match=r"buttons: \['✅ Yes', 'No'\]"):
        await anna.press("Maybe")

    pressed = await anna.press("Yes")  # no exact match, so the first button containing the text

    assert pressed.answer is not None and pressed.answer.params["text"] == "noted"
    assert [m.text for m in pressed.edits] == ["You picked pick:yes"]
    assert pressed.text == "You picked pick:yes"
    assert anna.last_message() is menu.messages[0]
    assert menu.messages[0].buttons == []  # edit_text without reply_markup drops the keyboard
    assert server.unanswered_callbacks() == []


async def test_waiting_reports_silence_and_answers(server: FakeTelegram, polling: Dispatcher) -> None:
    server.reaction_timeout = 0.5
    anna = server.private_user()
    assert (await anna.send_sticker(expect_silence=True)).calls == []
    with pytest.raises(AssertionError, match="bot did not answer a voice message"):
        await anna.send_voice()
    with pytest.raises(AssertionError, match="expected no reaction"):
        await anna.send("hi", expect_silence=True)


async def test_user_edit_reaches_the_bot(server: FakeTelegram, bot: Bot) -> None:
    anna = server.private_user()
    sent = await anna.send("/start", wait=False)
    [update] = await bot.get_updates()
    assert update.message is not None and update.message.entities is not None
    assert (update.message.entities[0].type, update.message.entities[0].length) == ("bot_command", 6)

    await anna.edit(update.message.message_id, "/start again", wait=False)
    [edited] = await bot.get_updates(offset=(sent.update_id or 0) + 1)
    assert edited.edited_message is not None and edited.edited_message.text == "/start again"


# --- limits and formatting ----------------------------------------------------------------------------


async def test_text_limit_counts_visible_characters(server: FakeTelegram, bot: Bot) -> None:
    anna = server.private_user()
    await anna.send("hi", wait=False)

    await bot.send_message(anna.id, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    await bot.send_message(anna.id, "&amp;" * 4096, parse_mode="html")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(anna.id, "x" * 4097)
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_photo(anna.id, BufferedInputFile(b"jpeg", "p.jpg"), caption="c" * 1025)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(anna.id, "<b> </b>", parse_mode="HTML")

    assert server.take_violations() == ["sendMessage: Bad Request: message is too long",
                                        "sendPhoto: Bad Request: message caption is too long",
                                        "sendMessage: Bad Request: message text is empty"]


@pytest.mark.parametrize(("text", "error"), [
    ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
    ("x <foo>y</foo>", 'Unsupported start tag "foo" at byte offset 2'),
    ("Привет <foo>", 'Unsupported start tag "foo" at byte offset 13'),
    ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
    ("a < b", 'Unescaped "<" at byte offset 2'),
    ("Tom & Jerry", 'Unescaped "&" at byte offset 4'),
    ('<span class="other">x</span>', 'Unsupported start tag "span"'),
    ("<a>x</a>", 'Unsupported start tag "a"'),
    ("x&nbsp;y", 'Unsupported HTML entity "&nbsp;"'),
])
async def test_broken_html_is_rejected(server: FakeTelegram, bot: Bot, text: str, error: str) -> None:
    anna = server.private_user()
    await anna.send("hi", wait=False)
    with pytest.raises(TelegramBadRequest, match="can't parse entities") as caught:
        await bot.send_message(anna.id, text, parse_mode="HTML")
    assert error in caught.value.message
    assert len(server.take_violations()) == 1


async def test_valid_html_becomes_text_and_entities(server: FakeTelegram, bot: Bot) -> None:
    anna = server.private_user()
    await anna.send("hi", wait=False)
    source = ('<b>b</b> <i>i</i> <a href="https://x.org">l</a> <tg-spoiler>s</tg-spoiler> '
              '<span class="tg-spoiler">s</span> <pre><code class="language-python">c</code></pre> '
              '<blockquote expandable>q</blockquote> &lt;&gt;&amp;&quot; &#128512; <u>😀x</u>')

    sent = await bot.send_message(anna.id, source, parse_mode="HTML")

    assert sent.text == 'b i l s s c q <>&" 😀 😀x'
    entities = [(e.type, e.offset, e.length) for e in sent.entities or []]
    assert entities == [("bold", 0, 1), ("italic", 2, 1), ("text_link", 4, 1), ("spoiler", 6, 1),
                        ("spoiler", 8, 1), ("pre", 10, 1), ("expandable_blockquote", 12, 1),
                        ("underline", 22, 3)]
    assert server.message(anna.id, sent.message_id).source == source  # type: ignore[union-attr]


async def test_inline_keyboard_rules(server: FakeTelegram, bot: Bot) -> None:
    anna = server.private_user()
    await anna.send("hi", wait=False)

    def data_button(data: str) -> InlineKeyboardMarkup:
        return keyboard(InlineKeyboardButton(text="a", callback_data=data))

    await bot.send_message(anna.id, "ok", reply_markup=data_button("x" * 64))
    for data in ("x" * 65, "я" * 33):
        with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
            await bot.send_message(anna.id, "no", reply_markup=data_button(data))
    with pytest.raises(TelegramBadRequest, match="Text buttons are unallowed"):
        await bot.send_message(anna.id, "no", reply_markup=keyboard(InlineKeyboardButton(text="a")))
    both = InlineKeyboardButton(text="a", callback_data="x", url="https://example.org")
    with pytest.raises(TelegramBadRequest, match="exactly one action"):
        await bot.send_message(anna.id, "no", reply_markup=keyboard(both))
    with pytest.raises(TelegramBadRequest, match="MESSAGE_TOO_LONG"):
        await bot.answer_callback_query("1", text="t" * 201)

    assert len(server.take_violations()) == 5


async def test_commands_are_validated_and_stored_per_scope(server: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.username, me.first_name, me.can_read_all_group_messages) == (BOT_USERNAME, "Most", False)

    await bot.set_my_commands([BotCommand(command="start", description="Начать")],
                              scope=BotCommandScopeAllPrivateChats(), language_code="ru")
    stored = await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="ru")
    assert [(c.command, c.description) for c in stored] == [("start", "Начать")]
    assert await bot.get_my_commands() == []
    for bad in (BotCommand(command="Start", description="x"), BotCommand(command="start", description=" ")):
        with pytest.raises(TelegramBadRequest, match="BOT_COMMAND"):
            await bot.set_my_commands([bad])
    with pytest.raises(TelegramBadRequest, match="BOT_COMMANDS_TOO_MUCH"):
        await bot.set_my_commands([BotCommand(command=f"c{i}", description="d") for i in range(101)])
    assert len(server.take_violations()) == 3


def menu(name: str) -> list[BotCommand]:
    return [BotCommand(command="help", description=name)]


async def test_the_private_menu_follows_telegrams_order_of_scopes(server: FakeTelegram, bot: Bot) -> None:
    """core.telegram.org/bots/api#determining-list-of-commands: the narrowest scope set wins, in each the client's
    language before no language."""
    anna = server.private_user("Anna", language_code="en", username="anna_pm")
    await anna.send("hi", wait=False)

    def seen(language_code: str | None = None) -> str:
        return server.menu_descriptions(anna.id, anna.id, language_code).get("help", "")

    assert seen() == ""
    steps = [  # each list set, and what Anna's English client shows after it
        (BotCommandScopeDefault(), None, "default", "default"),
        (BotCommandScopeDefault(), "en", "default en", "default en"),
        (BotCommandScopeAllGroupChats(), "en", "groups en", "default en"),  # not for the private chat
        (BotCommandScopeAllPrivateChats(), None, "private", "private"),
        (BotCommandScopeAllPrivateChats(), "en", "private en", "private en"),
        (BotCommandScopeChat(chat_id=anna.id), "ru", "chat ru", "private en"),  # another language's
        (BotCommandScopeChat(chat_id=anna.id), None, "chat", "chat"),
        (BotCommandScopeChat(chat_id="@anna_pm"), "en", "chat en", "chat en"),  # the chat by its username
    ]
    for scope, language_code, name, expected in steps:
        await bot.set_my_commands(menu(name), scope=scope, language_code=language_code)
        assert seen() == expected, (scope, language_code)
    assert seen("ru") == "chat ru"  # a Russian client
    assert seen("de") == "chat"  # a language without a list of its own

    stored = await bot.get_my_commands(scope=BotCommandScopeChat(chat_id=anna.id), language_code="en")
    assert [c.description for c in stored] == ["chat en"]
    assert await bot.get_my_commands(scope=BotCommandScopeChat(chat_id=anna.id), language_code="de") == []
    await bot.set_my_commands([], scope=BotCommandScopeChat(chat_id=anna.id), language_code="en")  # takes it away
    assert seen() == "chat"
    await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id=anna.id))
    assert seen() == "private en"


async def test_the_group_menu_follows_telegrams_order_of_scopes(server: FakeTelegram, bot: Bot) -> None:
    admin, member = server.private_user("Admin", "ru"), server.private_user("Member", "ru")
    group = server.group()
    group.add_member(admin, "administrator")
    group.add_member(member)
    await group.add_bot(by=admin, wait=False)

    def seen() -> tuple[str, str]:
        return tuple(server.menu_descriptions(user.id, group.id).get("help", "") for user in (admin, member))

    await bot.set_my_commands(menu("private"), scope=BotCommandScopeAllPrivateChats())
    await bot.set_my_commands(menu("default"), scope=BotCommandScopeDefault(), language_code="ru")
    assert seen() == ("default", "default")
    await bot.set_my_commands(menu("groups"), scope=BotCommandScopeAllGroupChats())
    assert seen() == ("groups", "groups")
    await bot.set_my_commands(menu("all admins"), scope=BotCommandScopeAllChatAdministrators())
    assert seen() == ("all admins", "groups")
    await bot.set_my_commands(menu("chat"), scope=BotCommandScopeChat(chat_id=group.id))
    assert seen() == ("chat", "chat")
    await bot.set_my_commands(menu("chat admins"), scope=BotCommandScopeChatAdministrators(chat_id=group.id))
    assert seen() == ("chat admins", "chat")
    await bot.set_my_commands(menu("chat ru"), scope=BotCommandScopeChat(chat_id=group.id), language_code="ru")
    assert seen() == ("chat admins", "chat ru")
    await bot.set_my_commands(menu("member"), scope=BotCommandScopeChatMember(chat_id=group.id, user_id=member.id))
    assert seen() == ("chat admins", "member")
    assert server.menu_descriptions(member.id, group.id, "en") == {"help": "member"}
    assert server.menu_descriptions(admin.id, admin.id) == {"help": "private"}  # their private chat is apart


async def test_a_forged_or_unknown_chat_scope_is_refused(server: FakeTelegram, bot: Bot) -> None:
    anna, stranger = server.private_user("Anna", "en"), server.private_user("Stranger", "en")
    await anna.send("hi", wait=False)
    group = server.group()
    group.add_member(anna, "creator")
    await group.add_bot(by=anna, wait=False)

    for chat_id in (42, stranger.id, "@nobody"):  # no such chat; someone who never wrote to the bot
        with pytest.raises(TelegramBadRequest, match="Bad Request: chat not found"):
            await bot.set_my_commands(menu("x"), scope=BotCommandScopeChat(chat_id=chat_id))
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.get_my_commands(scope=BotCommandScopeChatAdministrators(chat_id=-4_000_000_999))
    with pytest.raises(TelegramBadRequest, match="user not found"):
        await bot.set_my_commands(menu("x"), scope=BotCommandScopeChatMember(chat_id=group.id, user_id=999))
    assert server.take_violations() == []  # a chat the bot does not know is state, not a malformed request
    assert server.commands == {}

    api = f"{server.base_url}/bot{server.token}"
    commands = [{"command": "help", "description": "x"}]
    malformed = [
        {"type": "everyone"},
        {"type": "chat"},
        {"type": "chat_member", "chat_id": group.id},
        {"type": "chat_member", "chat_id": group.id, "user_id": "Anna"},
        {"type": "chat_administrators", "chat_id": anna.id},  # a private chat has no administrators
        "default",
    ]
    async with aiohttp.ClientSession() as http:
        for scope in malformed:
            async with http.post(f"{api}/setMyCommands", json={"commands": commands, "scope": scope}) as response:
                assert response.status == 400, scope
        async with http.post(f"{api}/getMyCommands", data={"scope": '{"type": "chat", "chat_id": 42}'}) as response:
            assert (await response.json())["description"] == "Bad Request: chat not found"  # form-encoded, too
    assert len(server.take_violations()) == len(malformed)
    assert server.commands == {}

    old_id = group.id
    await group.migrate_to_supergroup(wait=False)
    with pytest.raises(TelegramMigrateToChat):
        await bot.set_my_commands(menu("x"), scope=BotCommandScopeChat(chat_id=old_id))
    await bot.set_my_commands(menu("supergroup"), scope=BotCommandScopeChat(chat_id=group.id))
    assert server.menu_descriptions(anna.id, group.id) == {"help": "supergroup"}


async def test_unknown_method_wrong_token_and_missing_parameter(server: FakeTelegram) -> None:
    api = f"{server.base_url}/bot{server.token}"
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{api}/sendMassage", data={"chat_id": "1", "text": "x"}) as response:
            assert response.status == 404
            assert await response.json() == {"ok": False, "error_code": 404,
                                             "description": "Not Found: method not found"}
        async with http.post(f"{server.base_url}/bot1:wrong/getMe") as response:
            assert response.status == 401
        async with http.post(f"{api}/GETCHATMEMBER", json={"chat_id": 1}) as response:
            assert (await response.json())["description"] == "Bad Request: user_id is required"
        async with http.get(f"{api}/getme") as response:
            assert (await response.json())["result"]["username"] == BOT_USERNAME
    assert server.calls[-1].method == "getMe"  # names are case-insensitive and recorded canonically

    assert server.take_violations() == ["sendMassage: Not Found: method not found", "getMe: Unauthorized",
                                        "getChatMember: Bad Request: user_id is required"]


# --- files --------------------------------------------------------------------------------------------


async def test_files_go_both_ways(server: FakeTelegram, bot: Bot) -> None:
    anna = server.private_user()
    await anna.send_document("brief.pdf", b"%PDF brief", wait=False)
    [update] = await bot.get_updates()
    assert update.message is not None and update.message.document is not None
    assert update.message.document.file_name == "brief.pdf"
    downloaded = await bot.download(update.message.document.file_id)
    assert downloaded is not None and downloaded.read() == b"%PDF brief"

    sent = await bot.send_document(anna.id, BufferedInputFile(b"report", "report.txt"), caption="<b>r</b>",
                                   parse_mode="HTML")
    assert sent.document is not None and sent.caption == "r"
    stored = server.files[sent.document.file_id]
    assert (stored.file_name, stored.content) == ("report.txt", b"report")
    assert anna.last_message() is server.message(anna.id, sent.message_id)


# --- edits --------------------------------------------------------------------------------------------


async def test_edit_rules(server: FakeTelegram, bot: Bot) -> None:
    anna = server.private_user()
    await anna.send("hi", wait=False)
    markup = keyboard(InlineKeyboardButton(text="a", callback_data="a"))
    sent = await bot.send_message(anna.id, "v1", reply_markup=markup)

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("v1", chat_id=anna.id, message_id=sent.message_id, reply_markup=markup)
    await bot.edit_message_text("<b>v2</b>", chat_id=anna.id, message_id=sent.message_id, parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("v3", chat_id=anna.id, message_id=999)
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(chat_id=anna.id, message_id=sent.message_id)

    stored = server.message(anna.id, sent.message_id)
    assert stored is not None
    assert (stored.text, stored.buttons, [old.text for old in stored.history]) == ("v2", [], ["v1"])
    assert await bot.delete_message(anna.id, sent.message_id)
    assert server.sent_to(anna.id) == []
    assert server.violations == []  # refusals that depend on state are not violations


async def test_copy_caption_reply_and_delete(server: FakeTelegram, bot: Bot) -> None:
    anna = server.private_user()
    await anna.send_photo("look", wait=False)
    [update] = await bot.get_updates()
    assert update.message is not None and update.message.photo
    original = update.message.message_id

    reply = ReplyParameters(message_id=original)
    copied = await bot.copy_message(anna.id, anna.id, original, reply_parameters=reply)
    stored = server.message(anna.id, copied.message_id)
    assert stored is not None and stored.reply_to is not None
    assert (stored.caption, "photo" in stored.extra, stored.reply_to.message_id) == ("look", True, original)
    edited = await bot.edit_message_caption(chat_id=anna.id, message_id=copied.message_id,
                                            caption="<i>new</i>", parse_mode="HTML")
    assert isinstance(edited, Message) and edited.caption == "new"

    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(anna.id, "x", reply_parameters=ReplyParameters(message_id=999))
    await bot.send_message(anna.id, "x", reply_parameters=ReplyParameters(message_id=999,
                                                                           allow_sending_without_reply=True))
    server.clock_offset += 49 * 3600
    with pytest.raises(TelegramBadRequest, match="message can't be deleted"):
        await bot.delete_message(anna.id, copied.message_id)


# --- faults and limits --------------------------------------------------------------------------------


async def test_injected_retry_after(server: FakeTelegram, bot: Bot) -> None:
    anna = server.private_user()
    await anna.send("hi", wait=False)
    server.fail_next(anna.id, 429, "Too Many Requests: retry after 3", retry_after=3)

    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(anna.id, "x")
    assert caught.value.retry_after == 3
    assert server.calls[-1].error == {"ok": False, "error_code": 429, "parameters": {"retry_after": 3},
                                      "description": "Too Many Requests: retry after 3"}
    await bot.send_message(anna.id, "again")


async def test_rate_limits(server: FakeTelegram, bot: Bot) -> None:
    server.enforce_rate_limits = True
    anna = server.private_user()
    await anna.send("hi", wait=False)
    await bot.send_message(anna.id, "one")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(anna.id, "two")
    server.clock_offset += 1.1
    await bot.send_message(anna.id, "two")

    group = server.group()
    group.add_member(anna, "creator")
    await group.add_bot(by=anna, wait=False)
    for _ in range(RATE_GROUP_PER_MINUTE):
        server.clock_offset += 1.1
        await bot.send_message(group.id, "tick")
    server.clock_offset += 1.1
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(group.id, "one too many")
    assert 30 < caught.value.retry_after <= 60

    server.clock_offset += 60
    users = [server.private_user(f"U{i}") for i in range(RATE_GLOBAL_PER_SECOND + 1)]
    for user in users:
        await user.send("hi", wait=False)
    for user in users[:-1]:
        await bot.send_message(user.id, "broadcast")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(users[-1].id, "broadcast")
    assert (server.stats.sent, server.stats.rejected_429) == (2 + 20 + 30, 3)


async def test_blocked_kicked_and_unknown_chats(server: FakeTelegram, bot: Bot) -> None:
    anna, bob = server.private_user("Anna"), server.private_user("Bob")
    await anna.send("hi", wait=False)
    server.block(anna.id)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(anna.id, "x")

    group = server.group()
    group.add_member(bob)
    await group.add_bot(by=bob, wait=False)
    await group.send(bob, "/hello", wait=False)
    with pytest.raises(TelegramForbiddenError, match="bot can't initiate conversation with a user"):
        await bot.send_message(bob.id, "x")
    await group.remove_bot(by=bob, wait=False)
    with pytest.raises(TelegramForbiddenError, match="bot was kicked from the group chat"):
        await bot.send_message(group.id, "x")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(42, "x")


async def test_migrated_group_points_to_the_supergroup(server: FakeTelegram, bot: Bot) -> None:
    anna = server.private_user()
    group = server.group()
    group.add_member(anna, "creator")
    await group.add_bot(by=anna, wait=False)
    old_id = group.id

    await group.migrate_to_supergroup(wait=False)

    with pytest.raises(TelegramMigrateToChat) as caught:
        await bot.send_message(old_id, "x")
    assert caught.value.migrate_to_chat_id == group.id == int(f"-100{abs(old_id)}")
    await bot.send_message(group.id, "hello supergroup")
    service = [u.message for u in await bot.get_updates() if u.message]
    assert [(m.migrate_to_chat_id, m.migrate_from_chat_id) for m in service][-2:] == [(group.id, None),
                                                                                      (None, old_id)]


# --- groups -------------------------------------------------------------------------------------------


async def test_group_privacy_mode(server: FakeTelegram, polling: Dispatcher) -> None:
    anna, bob = server.private_user("Anna"), server.private_user("Bob", "en")
    group = server.group()
    group.add_member(anna, "creator")
    group.add_member(bob)
    assert (await group.add_bot(by=anna, expect_silence=True)).delivered  # service messages reach the bot

    assert not (await group.send(bob, "hello all", expect_silence=True)).delivered
    assert not (await group.send(bob, "/echo@other_bot hi", expect_silence=True)).delivered
    command = await group.send(bob, "/echo hi")
    assert command.text == "echo: /echo hi"
    assert (await group.send(bob, f"hey @{BOT_USERNAME}")).text == f"echo: hey @{BOT_USERNAME}"
    replied = await group.reply_to(anna, command.messages[0].message_id, "thanks")
    assert replied.text == "echo: thanks"
    assert (await group.send_as_anonymous_admin("/echo anon")).text == "echo: /echo anon"
    with pytest.raises(AssertionError, match="never reached the bot"):
        await group.send(bob, "plain again")


async def test_buttons_in_groups_forged_data_and_blocking(server: FakeTelegram, polling: Dispatcher) -> None:
    anna = server.private_user()
    group = server.group()
    group.add_member(anna, "creator")
    await group.add_bot(by=anna, expect_silence=True)
    await group.send(anna, "/menu")
    assert (await group.press(anna, "No")).text == "You picked pick:no"

    menu = await anna.send("/menu")
    forged = await anna.press_data("pick:forged", menu.messages[0].message_id)
    assert forged.text == "You picked pick:forged"

    await anna.block_bot()
    assert server.chats[anna.id].bot_status == "kicked"
    assert (await anna.send("back again")).text == "echo: back again"  # writing unblocks the bot


async def test_group_members_registry(server: FakeTelegram, bot: Bot) -> None:
    anna, bob, carol = (server.private_user(name) for name in ("Anna", "Bob", "Carol"))
    group = server.group(title="Pilot")
    group.add_member(anna, "creator")
    group.add_member(bob, "administrator")
    await group.add_bot(by=anna, wait=False)

    statuses = [(await bot.get_chat_member(group.id, user.id)).status for user in (anna, bob, carol)]
    assert statuses == ["creator", "administrator", "left"]
    assert {m.user.id for m in await bot.get_chat_administrators(group.id)} == {anna.id, bob.id}
    chat = await bot.get_chat(group.id)
    assert (chat.type, chat.title) == ("group", "Pilot")


# --- lifecycle ----------------------------------------------------------------------------------------


async def test_restarted_poller_is_not_a_conflict(server: FakeTelegram, bot: Bot) -> None:
    for _ in range(2):
        dispatcher, task = await start_echo_bot(server, bot)
        assert (await server.private_user().send("hi")).text == "echo: hi"
        await dispatcher.stop_polling()
        await task
        assert await server.wait_until(lambda: server.open_polls == 0, 1)  # the abandoned poll is gone
    assert server.violations == []


async def test_open_long_poll_ends_cleanly_when_the_server_stops() -> None:
    async with FakeTelegram() as fake:
        bot = Bot(fake.token, session=LocalSession(api=TelegramAPIServer.from_base(fake.base_url)))
        poll = asyncio.create_task(bot.get_updates(timeout=30))
        await fake.wait_polling()
    assert await asyncio.wait_for(poll, 1) == []
    await bot.session.close()


# --- what Telegram echoes -----------------------------------------------------------------------------


async def test_link_preview_options_come_back_in_the_message_and_in_later_presses(server: FakeTelegram) -> None:
    """Issue #13: Telegram echoes the options in the Message and in callback_query.message; the fake did not."""
    defaults = DefaultBotProperties(parse_mode="HTML", link_preview_is_disabled=True)  # as the project's bot
    bot = Bot(server.token, session=LocalSession(api=TelegramAPIServer.from_base(server.base_url)), default=defaults)
    try:
        anna = server.private_user()
        await anna.send("/start", wait=False)
        await bot.get_updates()
        sent = await bot.send_message(anna.id, "Pick one", reply_markup=keyboard(
            InlineKeyboardButton(text="Yes", callback_data="pick:yes")))
        assert server.calls_of("sendMessage")[-1].result["link_preview_options"] == {"is_disabled": True}
        assert sent.link_preview_options is not None and sent.link_preview_options.is_disabled is True

        pressed = (await anna.press("Yes", wait=False)).update_id
        replied = (await anna.reply_to(sent.message_id, "ok", wait=False)).update_id
        updates = {u.update_id: u for u in await bot.get_updates(offset=-2)}
    finally:
        await bot.session.close()
    query = updates[pressed or 0].callback_query
    assert query is not None and isinstance(query.message, Message)
    assert query.message.link_preview_options is not None and query.message.link_preview_options.is_disabled
    assert query.message.reply_markup is not None and query.message.reply_markup.inline_keyboard[0][0].text == "Yes"
    reply = updates[replied or 0].message
    assert reply is not None and reply.reply_to_message is not None
    assert reply.reply_to_message.link_preview_options is not None
    assert reply.reply_to_message.link_preview_options.is_disabled is True


async def test_edits_keep_or_replace_the_link_preview_options(server: FakeTelegram, bot: Bot) -> None:
    anna = server.private_user()
    await anna.send("hi", wait=False)
    plain = await bot.send_message(anna.id, "no options")
    assert "link_preview_options" not in server.calls_of("sendMessage")[-1].result
    assert plain.link_preview_options is None

    sent = await bot.send_message(anna.id, "one", link_preview_options=LinkPreviewOptions(is_disabled=True))
    kept = await bot.edit_message_text("two", chat_id=anna.id, message_id=sent.message_id)
    assert isinstance(kept, Message) and kept.link_preview_options is not None
    assert kept.link_preview_options.is_disabled is True and kept.edit_date is not None
    options = LinkPreviewOptions(url="https://example.com/", prefer_small_media=True)
    await bot.edit_message_text("three https://example.com/", chat_id=anna.id, message_id=sent.message_id,
                                link_preview_options=options)
    assert server.calls_of("editMessageText")[-1].result["link_preview_options"] == {
        "url": "https://example.com/", "prefer_small_media": True}


async def test_deprecated_disable_web_page_preview_is_echoed_and_recorded(server: FakeTelegram, bot: Bot) -> None:
    anna = server.private_user()
    await anna.send("hi", wait=False)
    sent = await bot.send_message(anna.id, "see https://example.com", disable_web_page_preview=True)
    assert sent.link_preview_options is not None and sent.link_preview_options.is_disabled is True
    assert server.deprecated_params == ["sendMessage: disable_web_page_preview"]
    assert server.violations == []


async def test_entities_are_detected_as_telegram_does(server: FakeTelegram, bot: Bot) -> None:
    anna = server.private_user()
    await anna.send("hi", wait=False)
    plain = await bot.send_message(anna.id, "  /help at https://example.com/a, @someone #tag a.b@example.org")
    assert plain.text == "/help at https://example.com/a, @someone #tag a.b@example.org"
    assert [(e.type, e.offset, e.length) for e in plain.entities or []] == [
        ("bot_command", 0, 5), ("url", 9, 21), ("mention", 32, 8), ("hashtag", 41, 4), ("email", 46, 15)]

    html = await bot.send_message(anna.id, '<b>Go</b> example.com <code>/start</code> <a href="https://x.org">t.me</a>',
                                  parse_mode="HTML")
    assert [(e.type, e.offset, e.length) for e in html.entities or []] == [
        ("bold", 0, 2), ("url", 3, 11), ("code", 15, 6), ("text_link", 22, 4)]
    assert server.calls_of("sendMessage")[-1].result["from"]["is_bot"] is True


async def test_peoples_links_carry_entities_and_preview_options(server: FakeTelegram, bot: Bot) -> None:
    anna = server.private_user()
    shown = (await anna.send("look example.com/case /help", wait=False)).update_id
    hidden = (await anna.send("look https://example.com", wait=False, link_preview=False)).update_id
    bare = (await anna.send("no links here", wait=False)).update_id
    updates = {u.update_id: u.message for u in await bot.get_updates()}

    first = updates[shown or 0]
    assert first is not None and first.link_preview_options is not None
    assert first.link_preview_options.url == "http://example.com/case"
    assert [(e.type, e.offset, e.length) for e in first.entities or []] == [("url", 5, 16), ("bot_command", 22, 5)]
    second = updates[hidden or 0]
    assert second is not None and second.link_preview_options is not None
    assert second.link_preview_options.is_disabled is True
    third = updates[bare or 0]
    assert third is not None and third.link_preview_options is None and third.entities is None
