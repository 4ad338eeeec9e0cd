"""Telegram users for end-to-end tests.

Each action creates the update a real client would cause and then waits until the bot has reacted, so a
test reads like a conversation: `reaction = await anna.send("/start")`, then assertions on `reaction.text`.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from tests.e2e.fake_telegram import (
    BOT_USERNAME,
    GROUP_ANONYMOUS_BOT_ID,
    Call,
    FakeChat,
    FakeTelegram,
    Member,
    StoredMessage,
    detect_entities,
    parse_startgroup_link,
)

# How a person's client treats links: None shows the preview of the first link (Telegram then reports its url),
# False means the person switched the preview off, a dict is sent as it is.
LinkPreview = bool | dict[str, Any] | None
ANONYMOUS_ADMIN = {"id": GROUP_ANONYMOUS_BOT_ID, "is_bot": True, "first_name": "Group",
                   "username": "GroupAnonymousBot"}
NOT_DELIVERED = "never reached the bot (privacy mode, the bot is not in the chat, or allowed_updates)"


@dataclass
class Reaction:
    """What the bot did in a chat in answer to one action."""

    update_id: int | None
    calls: list[Call] = field(default_factory=list)
    messages: list[StoredMessage] = field(default_factory=list)  # new messages, live from the store
    edits: list[StoredMessage] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)
    answer: Call | None = None  # the answerCallbackQuery call
    text: str = ""  # new and edited texts (or captions) as they were sent, joined by "\n"
    delivered: bool = True

    @property
    def popup(self) -> str:
        """The notice the press was answered with (answerCallbackQuery text), "" when none."""
        return (self.answer.params.get("text") or "") if self.answer else ""

    @property
    def errors(self) -> list[Call]:
        return [call for call in self.calls if not call.ok]


def text_entities(text: str) -> list[dict[str, Any]]:
    """The entities Telegram gives a person's plain text: urls, emails, mentions, bot commands, hashtags."""
    return detect_entities(text)


def first_url(text: str) -> str | None:
    """The first link in the text as Telegram reports it for the preview (a scheme added if none was typed)."""
    for entity in detect_entities(text):
        if entity["type"] == "url":
            units = text.encode("utf-16-le")
            found = units[2 * entity["offset"]: 2 * (entity["offset"] + entity["length"])].decode("utf-16-le")
            return found if re.match(r"[a-z]+://", found, re.IGNORECASE) else f"http://{found}"
    return None


def link_preview_options(text: str, link_preview: LinkPreview = None) -> dict[str, Any] | None:
    """What a person's message carries in link_preview_options: the previewed url when their client shows a
    preview, is_disabled when they turned it off; nothing for a text without links and no choice made."""
    if isinstance(link_preview, dict):
        return dict(link_preview)
    if link_preview is False:
        return {"is_disabled": True}
    url = first_url(text)
    return {"url": url} if url else None


def typed(text: str, link_preview: LinkPreview = None) -> dict[str, Any]:
    """The content of a text message typed by a person."""
    return {"text": text, "entities": text_entities(text),
            "link_preview_options": link_preview_options(text, link_preview)}


def describe(calls: list[Call]) -> str:
    if not calls:
        return "none"
    lines = []
    for call in calls:
        text = call.params.get("text") or call.params.get("caption") or ""
        outcome = "ok" if call.ok else (call.error or {}).get("description")
        lines.append(f"{call.method}(chat_id={call.chat_id}, text={text[:60]!r}) -> {outcome}")
    return "\n  " + "\n  ".join(lines)


def collect(server: FakeTelegram, update_id: int | None, calls: list[Call]) -> Reaction:
    reaction = Reaction(update_id, calls)
    texts = []
    for call in calls:
        if not call.ok:
            continue
        if call.method == "answerCallbackQuery":
            reaction.answer = call
        elif call.method == "deleteMessage":
            reaction.deleted.append(call.params["message_id"])
        elif isinstance(call.result, dict) and "message_id" in call.result and call.chat_id is not None:
            message = server.message(call.chat_id, call.result["message_id"])
            target = reaction.edits if call.method.startswith("edit") else reaction.messages
            if message is not None and all(m is not message for m in target):
                target.append(message)
            texts.append(call.result.get("text") or call.result.get("caption") or _shown(message))
    reaction.text = "\n".join(t for t in texts if t)
    return reaction


def _shown(message: StoredMessage | None) -> str:
    return (message.text or message.caption or "") if message else ""


class Watch:
    """The calls the bot makes to some chats from the moment the watch is created."""

    def __init__(self, server: FakeTelegram, chat_ids: set[int]) -> None:
        self.server = server
        self.chat_ids = chat_ids
        self.start = len(server.calls)

    def calls(self) -> list[Call]:
        return [call for call in self.server.calls[self.start:] if call.chat_id in self.chat_ids]

    def more_than(self, count: int) -> Callable[[], bool]:
        return lambda: len(self.calls()) > count

    async def settle(self) -> None:
        """Wait until the bot has been silent in these chats for the quiet period."""
        while await self.server.wait_until(self.more_than(len(self.calls())), self.server.quiet_period):
            pass

    async def reaction(self, update_id: int | None, what: str, *, expect_silence: bool,
                       require_answer: bool) -> Reaction:
        if update_id is None:
            if expect_silence or not require_answer:
                return Reaction(None, delivered=False)
            raise AssertionError(f"{what} {NOT_DELIVERED}")
        if expect_silence or not require_answer:
            return await self._after_fetch(update_id, what, expect_silence)
        timeout = self.server.reaction_timeout
        if not await self.server.wait_until(lambda: bool(self.calls()), timeout):
            fetched = "was" if self.server.fetched_update_id >= update_id else "was NOT"
            recent = [call for call in self.server.calls if call.method != "getUpdates"][-8:]
            raise AssertionError(f"bot did not answer {what} within {timeout}s (update {update_id} {fetched} "
                                 f"fetched); recent calls:{describe(recent)}")
        await self.settle()
        return collect(self.server, update_id, self.calls())

    async def _after_fetch(self, update_id: int, what: str, expect_silence: bool) -> Reaction:
        await self.server.wait_fetched(update_id)
        await self.settle()
        if expect_silence and self.calls():
            raise AssertionError(f"expected no reaction to {what}, but the bot made:{describe(self.calls())}")
        return collect(self.server, update_id, self.calls())


async def act(server: FakeTelegram, chat_ids: set[int], push: Callable[[], int | None], what: str, *,
              expect_silence: bool = False, wait: bool = True, require_answer: bool = True) -> Reaction:
    """Push the update(s) and wait for the bot's reaction in the chats.

    expect_silence: assert the bot makes no call to the chats within the quiet period after fetching it.
    wait: False returns at once, e.g. when no bot is polling.
    require_answer: False collects whatever happens after the fetch, for events a bot may ignore.
    """
    watch = Watch(server, chat_ids)
    update_id = push()
    if not wait:
        return Reaction(update_id, delivered=update_id is not None)
    return await watch.reaction(update_id, what, expect_silence=expect_silence, require_answer=require_answer)


def keyboard_message(server: FakeTelegram, chat_id: int,
                     message: StoredMessage | int | None) -> StoredMessage:
    """The given message, or the bot's most recent one in the chat with an inline keyboard."""
    if isinstance(message, StoredMessage):
        return message
    if isinstance(message, int):
        found = server.message(chat_id, message)
        if found is None:
            raise AssertionError(f"no message {message} in chat {chat_id}")
        return found
    with_keyboard = [m for m in server.sent_to(chat_id) if m.buttons]
    if not with_keyboard:
        raise AssertionError(f"no bot message with an inline keyboard in chat {chat_id}")
    return with_keyboard[-1]


def button_data(message: StoredMessage, button_text: str) -> str:
    """Callback data of the button with this exact text, else the first whose text contains it."""
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    buttons = [button for row in rows for button in row]
    found = next((b for b in buttons if b["text"] == button_text), None)
    found = found or next((b for b in buttons if button_text in b["text"]), None)
    if found is None:
        raise AssertionError(f"no button {button_text!r} in message {message.message_id}; "
                             f"buttons: {[b['text'] for b in buttons]}")
    if "callback_data" not in found:
        raise AssertionError(f"button {found['text']!r} has no callback_data: {found}")
    return found["callback_data"]


def button_url(message: StoredMessage | None, button_text: str) -> str:
    """The url of the button whose text contains this (a url button: Telegram opens it, the bot hears nothing)."""
    assert message is not None, "no message"
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    found = next((b for row in rows for b in row if button_text in b["text"]), None)
    if found is None or "url" not in found:
        raise AssertionError(f"no url button {button_text!r} in message {message.message_id}: {rows}")
    return found["url"]


def push_callback(server: FakeTelegram, chat: FakeChat, user: dict[str, Any], message: StoredMessage,
                  data: str) -> int | None:
    query = {"id": server.new_callback(chat.id, user["id"]), "from": user, "message": message.to_dict(),
             "chat_instance": str(abs(chat.id) * 7919 % 10**15), "data": data}
    return server.push_update("callback_query", query)


class PrivateUser:
    """A person in a private chat with the bot; the chat id is the user id.

    Every action takes keyword options `expect_silence` and `wait` (see `act`) and returns a Reaction.
    """

    def __init__(self, server: FakeTelegram, user: dict[str, Any]) -> None:
        self.server = server
        self.user = user
        self.chat = server.chats[user["id"]]

    @property
    def id(self) -> int:
        return self.user["id"]

    @property
    def first_name(self) -> str:
        return self.user["first_name"]

    def messages(self) -> list[StoredMessage]:
        """The bot's messages currently in this chat, oldest first."""
        return self.server.sent_to(self.id)

    def last_message(self) -> StoredMessage | None:
        messages = self.messages()
        return messages[-1] if messages else None

    async def start(self, payload: str | None = None, *, expect_silence: bool = False,
                    wait: bool = True) -> Reaction:
        text = f"/start {payload}" if payload else "/start"
        return await self.send(text, expect_silence=expect_silence, wait=wait)

    async def send(self, text: str, *, expect_silence: bool = False, wait: bool = True,
                   link_preview: LinkPreview = None) -> Reaction:
        return await self._say(f"message {text!r}", expect_silence, wait, **typed(text, link_preview))

    async def reply_to(self, message_id: int, text: str, *, expect_silence: bool = False,
                       wait: bool = True, link_preview: LinkPreview = None) -> Reaction:
        target = self.server.message(self.id, message_id)
        assert target is not None, f"no message {message_id} in the chat with {self.first_name}"
        return await self._say(f"reply {text!r}", expect_silence, wait, **typed(text, link_preview),
                               reply_to=target)

    async def send_sticker(self, *, expect_silence: bool = False, wait: bool = True) -> Reaction:
        file = self.server.new_file(None, b"RIFF-sticker", "image/webp")
        sticker = {"file_id": file.file_id, "file_unique_id": file.file_unique_id, "type": "regular",
                   "width": 512, "height": 512, "is_animated": False, "is_video": False, "emoji": "👍"}
        return await self._say("a sticker", expect_silence, wait, extra={"sticker": sticker})

    async def send_photo(self, caption: str | None = None, *, expect_silence: bool = False,
                         wait: bool = True) -> Reaction:
        file = self.server.new_file("photo.jpg", b"\xff\xd8\xff fake jpeg", "image/jpeg")
        return await self._say("a photo", expect_silence, wait, caption=caption,
                               entities=text_entities(caption or ""), extra={"photo": file.as_photo()})

    async def send_voice(self, duration: int = 3, *, expect_silence: bool = False,
                         wait: bool = True) -> Reaction:
        file = self.server.new_file(None, b"OggS fake voice", "audio/ogg")
        voice = {"file_id": file.file_id, "file_unique_id": file.file_unique_id, "duration": duration,
                 "mime_type": "audio/ogg", "file_size": len(file.content)}
        return await self._say("a voice message", expect_silence, wait, extra={"voice": voice})

    async def send_document(self, file_name: str, content: bytes = b"%PDF-1.4 fake",
                            caption: str | None = None, *, expect_silence: bool = False,
                            wait: bool = True) -> Reaction:
        file = self.server.new_file(file_name, content, mimetypes.guess_type(file_name)[0])
        return await self._say(f"document {file_name!r}", expect_silence, wait, caption=caption,
                               extra={"document": file.as_document()})

    async def edit(self, message_id: int, new_text: str, *, expect_silence: bool = False,
                   wait: bool = True, link_preview: LinkPreview = None) -> Reaction:
        message = self.server.message(self.id, message_id)
        if message is None or message.sender["id"] != self.id:
            raise AssertionError(f"{self.first_name} sent no message {message_id}")
        message.history.append(replace(message, history=[]))
        content = typed(new_text, link_preview)
        message.text, message.entities = content["text"], content["entities"]
        message.link_preview_options = content["link_preview_options"]
        message.edit_date = int(self.server.now())
        return await act(self.server, {self.id}, lambda: self.server.deliver("edited_message", message),
                         f"edit to {new_text!r}", expect_silence=expect_silence, wait=wait)

    async def press(self, button_text: str, message: StoredMessage | int | None = None, *,
                    expect_silence: bool = False, wait: bool = True) -> Reaction:
        target = keyboard_message(self.server, self.id, message)
        return await self._callback(target, button_data(target, button_text), f"press {button_text!r}",
                                    expect_silence, wait)

    async def press_data(self, data: str, message_id: int, *, expect_silence: bool = False,
                         wait: bool = True) -> Reaction:
        """A callback query with arbitrary data, as a modified client could send."""
        target = keyboard_message(self.server, self.id, message_id)
        return await self._callback(target, data, f"callback data {data!r}", expect_silence, wait)

    async def block_bot(self, *, wait: bool = True) -> Reaction:
        """The user blocks the bot: my_chat_member to kicked, then every send answers 403."""
        def push() -> int | None:
            return self.server.set_bot_status(self.chat, self.user, "kicked")

        return await act(self.server, {self.id}, push, "blocking the bot", wait=wait, require_answer=False)

    async def _callback(self, message: StoredMessage, data: str, what: str, expect_silence: bool,
                        wait: bool) -> Reaction:
        def push() -> int | None:
            return push_callback(self.server, self.chat, self.user, message, data)

        return await act(self.server, {self.id}, push, what, expect_silence=expect_silence, wait=wait)

    async def _say(self, what: str, expect_silence: bool, wait: bool, **content: Any) -> Reaction:
        def push() -> int | None:
            # Writing to the bot gives it the chat, and unblocks it if the user had blocked it.
            unblocked = None
            if self.chat.bot_status == "kicked":
                unblocked = self.server.set_bot_status(self.chat, self.user, "member")
            self.chat.known, self.chat.bot_status = True, "member"
            message = self.server.add_message(self.chat, self.user, **content)
            return self.server.deliver("message", message) or unblocked

        return await act(self.server, {self.id}, push, what, expect_silence=expect_silence, wait=wait)


class Group:
    """A group chat; the bot runs with privacy mode on, as Telegram bots do by default."""

    def __init__(self, server: FakeTelegram, chat: FakeChat) -> None:
        self.server = server
        self.chat = chat

    @property
    def id(self) -> int:
        return self.chat.id

    @property
    def title(self) -> str:
        return self.chat.title or ""

    def messages(self) -> list[StoredMessage]:
        return self.server.sent_to(self.id)

    def last_message(self) -> StoredMessage | None:
        messages = self.messages()
        return messages[-1] if messages else None

    def add_member(self, user: PrivateUser, status: str = "member") -> None:
        """Registers the user for getChatMember; no update, as the bot sees joins only as admin."""
        self.chat.members[user.id] = Member(user.user, status)

    async def add_bot(self, by: PrivateUser, *, admin: bool = False, expect_silence: bool = False,
                      wait: bool = True) -> Reaction:
        """Telegram sends my_chat_member (left -> member) and a new_chat_members service message."""
        self._require_member(by)

        def push() -> int | None:
            status = "administrator" if admin else "member"
            first = self.server.set_bot_status(self.chat, by.user, status)
            joined = {"new_chat_members": [self.server.bot_user]}
            message = self.server.add_message(self.chat, by.user, extra=joined)
            return self.server.deliver("message", message) or first

        return await act(self.server, {self.id}, push, f"adding the bot to {self.title!r}",
                         expect_silence=expect_silence, wait=wait)

    async def add_bot_by_link(self, by: PrivateUser, url: str, *, expect_silence: bool = False,
                              wait: bool = True) -> Reaction:
        """`by` opens a t.me/<bot>?startgroup=<payload>[&admin=…] link and picks this group, as a Telegram client does
        (tdlib's internalLinkTypeBotStartInGroup): the bot is added (my_chat_member, then the new_chat_members service
        message) unless it is already there, or promoted if admin rights are asked; then a message FROM `by` with
        `/start@<bot> <payload>` goes into the group. The link is checked first: a malformed one fails the test."""
        link = parse_startgroup_link(url)
        self._require_member(by)
        can_promote = self.chat.members[by.id].status in ("creator", "administrator")
        if link.admin_rights and not can_promote:
            raise AssertionError(f"{by.first_name} can't add admins to {self.title!r}: Telegram would not list it")

        def push() -> int | None:
            last = None
            present = self.chat.bot_status in ("member", "administrator")
            if not present or (link.admin_rights and self.chat.bot_status != "administrator"):
                status = "administrator" if link.admin_rights else "member"
                last = self.server.set_bot_status(self.chat, by.user, status)
            if not present:
                joined = self.server.add_message(self.chat, by.user,
                                                 extra={"new_chat_members": [self.server.bot_user]})
                last = self.server.deliver("message", joined) or last
            text = f"/start@{BOT_USERNAME}" + (f" {link.payload}" if link.payload else "")
            start = self.server.add_message(self.chat, by.user, **typed(text))
            return self.server.deliver("message", start) or last

        return await act(self.server, {self.id, by.id}, push, f"{by.first_name} adding the bot by link to "
                         f"{self.title!r}", expect_silence=expect_silence, wait=wait)

    async def remove_bot(self, by: PrivateUser, *, wait: bool = True) -> Reaction:
        self._require_member(by)

        def push() -> int | None:
            return self.server.set_bot_status(self.chat, by.user, "kicked")

        return await act(self.server, {self.id}, push, f"removing the bot from {self.title!r}", wait=wait,
                         require_answer=False)

    async def send(self, user: PrivateUser, text: str, *, expect_silence: bool = False,
                   wait: bool = True, link_preview: LinkPreview = None) -> Reaction:
        self._require_member(user)
        return await self._say(user.user, f"{user.first_name}: {text!r}", expect_silence, wait,
                               **typed(text, link_preview))

    async def reply_to(self, user: PrivateUser, message_id: int, text: str, *, expect_silence: bool = False,
                       wait: bool = True, link_preview: LinkPreview = None) -> Reaction:
        self._require_member(user)
        target = self.server.message(self.id, message_id)
        assert target is not None, f"no message {message_id} in {self.title!r}"
        return await self._say(user.user, f"{user.first_name} replying {text!r}", expect_silence, wait,
                               **typed(text, link_preview), reply_to=target)

    async def send_as_anonymous_admin(self, text: str, *, expect_silence: bool = False,
                                      wait: bool = True, link_preview: LinkPreview = None) -> Reaction:
        return await self._say(ANONYMOUS_ADMIN, f"anonymous admin: {text!r}", expect_silence, wait,
                               **typed(text, link_preview), extra={"sender_chat": self.chat.to_dict()})

    async def press(self, user: PrivateUser, button_text: str, message: StoredMessage | int | None = None, *,
                    expect_silence: bool = False, wait: bool = True) -> Reaction:
        self._require_member(user)
        target = keyboard_message(self.server, self.id, message)
        data = button_data(target, button_text)

        def push() -> int | None:
            return push_callback(self.server, self.chat, user.user, target, data)

        return await act(self.server, {self.id}, push, f"{user.first_name} pressing {button_text!r}",
                         expect_silence=expect_silence, wait=wait)

    async def migrate_to_supergroup(self, by: PrivateUser | None = None, *, wait: bool = True) -> Reaction:
        """Telegram posts migrate_to_chat_id in the old chat and migrate_from_chat_id in the new one."""
        old = self.chat
        actor = by.user if by else next((m.user for m in old.members.values() if m.status == "creator"),
                                        ANONYMOUS_ADMIN)
        new = self.server.migrate(old.id)

        def push() -> int | None:
            to = self.server.add_message(old, actor, extra={"migrate_to_chat_id": new.id})
            first = self.server.deliver("message", to)
            origin = self.server.add_message(new, ANONYMOUS_ADMIN, extra={"migrate_from_chat_id": old.id,
                                                                          "sender_chat": new.to_dict()})
            return self.server.deliver("message", origin) or first

        self.chat = new
        return await act(self.server, {old.id, new.id}, push, f"migrating {self.title!r}", wait=wait,
                         require_answer=False)

    def _require_member(self, user: PrivateUser) -> None:
        member = self.chat.members.get(user.id)
        if member is None or member.status in ("left", "kicked"):
            raise AssertionError(f"{user.first_name} is not a member of {self.title!r}: add_member() first")

    async def _say(self, sender: dict[str, Any], what: str, expect_silence: bool, wait: bool,
                   **content: Any) -> Reaction:
        def push() -> int | None:
            return self.server.deliver("message", self.server.add_message(self.chat, sender, **content))

        return await act(self.server, {self.id}, push, what, expect_silence=expect_silence, wait=wait)
