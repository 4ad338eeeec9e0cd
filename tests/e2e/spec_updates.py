"""Random valid updates built from the Bot API spec the fake server loads (data/api.json).

Every field the spec gives a type is filled from that type: required fields always, optional ones at random,
nested objects followed down to a depth bound, unions (MaybeInaccessibleMessage, ChatMember, MessageOrigin,
ReactionType...) by picking a variant, arrays of a few items, enumerations from the values the field's
description lists. On top of the spec, the shapes that reach the bot's real code paths: chats and users mostly
from a small pool (private chats of people the bot knows, its groups), texts that are the bot's commands and deep
links, callback data from plausible to garbage, one kind of content per message as a real client sends, entities
that fit their text. `random.Random(seed)` makes a run reproducible.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tests.e2e.fake_telegram import detect_entities, spec_types, utf16_len

MAX_DEPTH = 4  # below this, objects get their required fields only
OPTIONAL_SHARE = 0.3  # chance of an optional field at the top; halves with every level down
ARRAY_MAX = 3
POOL_SHARE = 0.85  # chats and users taken from the pool rather than made up

# Fields Telegram sends with one kind of content each: a message is text, or one medium, or one service event.
MESSAGE_COMPANIONS = frozenset({"entities", "link_preview_options", "caption", "caption_entities", "effect_id",
                                "show_caption_above_media", "has_media_spoiler", "reply_markup",
                                "suggested_post_info"})
MEDIA_WITH_CAPTION = frozenset({"animation", "audio", "document", "live_photo", "paid_media", "photo", "video",
                                "voice"})
ENTITIES_OF = {"entities": "text", "caption_entities": "caption", "question_entities": "question",
               "explanation_entities": "explanation", "text_entities": "text", "quote_entities": "quote"}
FORMATTING = ("bold", "italic", "underline", "strikethrough", "spoiler", "code", "text_link", "blockquote")

ENUM_TRIGGER = re.compile(r"\b(always|can be|one of|either|currently)\b", re.IGNORECASE)
QUOTED = re.compile(r"[\"“]([^\"”]{1,40})[\"”]")

# Numbers Python's int() or str.isdigit() get wrong (issue 14): superscript, Arabic-Indic, full-width, signed,
# exponent, separators, past a 64-bit id.
TRICKY_NUMBERS = ("²", "٣", "１２", "-0", "1e3", "99999999999999999999", "+5", " 5", "5_000", "5.0",
                  "9223372036854775808")
PLAIN_TEXTS = ("ok", "да", "Hello", "0", "42", "3.5", "-1", "x" * 4096, "🙂" * 50, "مرحبا", "<b>x</i>",
               "'; DROP TABLE partners;--", "&amp; &lt;", "https://example.com/case", "example.com", "@someone",
               "#tag", "mail me@example.com", "/", "//", "\u200b", "line1\nline2", "Агентство «Север»",
               "{name} %s", "  spaced  ", *TRICKY_NUMBERS, "\u200b\u200d\u2060", "Evil\u202eoC")
# Fields Telegram sends (aiogram requires them) that the stored spec does not list yet.
SPEC_GAPS: dict[str, dict[str, Any]] = {"ChatMemberAdministrator": {"can_send_welcome_messages": True}}
CALLBACK_GARBAGE = ("", "x", ":", "::::", "pt1", "pt1:", "pt1:o:", "pt1:o:9999999999", "zz9:1:2", "A" * 64,
                    "ё" * 32, "null", "{\"a\":1}", "-1", "../../", "%00", "pt1:o:1:0:0:extra")


def enum_values(description: str) -> list[str]:
    """The values a String field can take, where its description lists them ("always ...", "one of ...")."""
    found = ENUM_TRIGGER.search(description)
    if not found:
        return []
    values = QUOTED.findall(description[found.start():])
    return values[:1] if found.group(1).lower() == "always" else values


@dataclass
class Pool:
    """Who the updates are about: people the bot knows, its groups, the bot itself."""

    bot_user: dict[str, Any]
    users: list[dict[str, Any]]
    groups: list[dict[str, Any]]  # Chat dicts of groups the bot is in
    members: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # group id -> users in it
    commands: list[str] = field(default_factory=list)  # the bot's commands, without "/"
    callback_data: list[str] = field(default_factory=list)  # data of buttons the bot really sent
    now: int = 0

    def private_chat(self, user: dict[str, Any]) -> dict[str, Any]:
        keys = ("first_name", "last_name", "username")
        return {"id": user["id"], "type": "private", **{k: user[k] for k in keys if k in user}}


@dataclass
class Hooks:
    """How the generator tells the fake server what Telegram would know: a callback query id it will accept,
    a message stored in a chat so the bot can reply to it or edit it. Both optional."""

    callback_id: Callable[[int, int], str] | None = None  # (chat id, user id) -> query id
    message_id: Callable[[dict[str, Any]], int] | None = None  # Message dict -> its id in that chat


class SpecUpdates:
    def __init__(self, rng: random.Random, pool: Pool, hooks: Hooks | None = None) -> None:
        self.rng = rng
        self.pool = pool
        self.hooks = hooks or Hooks()
        self.types = spec_types()

    # --- the spec, type by type ---------------------------------------------------------------------------

    def value(self, types: list[str], name: str, description: str, depth: int) -> Any:
        kind = self.rng.choice(types)
        if kind.startswith("Array of "):
            inner = kind.removeprefix("Array of ")
            count = self.rng.randint(1, ARRAY_MAX) if depth < MAX_DEPTH else 0
            return [self.value([inner], name, description, depth + 1) for _ in range(count)]
        if kind == "Integer":
            return self.integer(name, description)
        if kind == "Float":
            return round(self.rng.uniform(-90, 90), 6)
        if kind == "Boolean":
            return True if description.startswith("Optional.") else self.rng.random() < 0.5
        if kind == "String":
            return self.text_value(name, description)
        return self.object(kind, depth)

    def object(self, type_name: str, depth: int = 0) -> Any:
        if type_name == "User" and self.rng.random() < POOL_SHARE:
            return dict(self.rng.choice(self.pool.users))
        if type_name == "Chat" and self.rng.random() < POOL_SHARE:
            return self.pool_chat()
        spec = self.types[type_name]
        if "subtypes" in spec:
            variants = spec["subtypes"]
            if depth >= MAX_DEPTH:  # the variants that end the recursion soonest (RichText nests itself)
                fewest = min(map(self.nesting, variants))
                variants = [v for v in variants if self.nesting(v) == fewest]
            return self.value([self.rng.choice(variants)], type_name, "", depth)
        share = OPTIONAL_SHARE / (2 ** depth) if depth < MAX_DEPTH else 0.0
        if type_name == "Message":
            return self.message_fields(spec, depth, share)
        result: dict[str, Any] = {}
        for spec_field in spec.get("fields", []):
            if spec_field["required"] or self.rng.random() < share:
                result[spec_field["name"]] = self.value(spec_field["types"], spec_field["name"],
                                                        spec_field["description"], depth + 1)
        result |= SPEC_GAPS.get(type_name, {})
        return self.fit_entities(result)

    def nesting(self, type_name: str) -> int:
        """How many required fields of the type are objects or arrays: 0 for a variant that nests nothing."""
        if type_name.startswith("Array of "):
            return 0  # may be empty
        spec = self.types.get(type_name, {})
        if "subtypes" in spec:
            return 1
        scalars = {"Integer", "Float", "Boolean", "String"}
        return sum(1 for f in spec.get("fields", []) if f["required"] and not set(f["types"]) & scalars)

    def message_fields(self, spec: dict[str, Any], depth: int, share: float) -> dict[str, Any]:
        """A Message with one kind of content, as clients send: text, or one medium (maybe captioned), or one
        service event; metadata (forward origin, reply, edit date...) optional as the spec allows."""
        fields = spec["fields"]
        first_content = next(i for i, f in enumerate(fields) if f["name"] == "text")
        content = [f for f in fields[first_content:] if f["name"] not in MESSAGE_COMPANIONS]
        by_name = {f["name"]: f for f in fields}
        result: dict[str, Any] = {}
        for spec_field in fields[:first_content]:
            nested_message = spec_field["types"][0] in ("Message", "MaybeInaccessibleMessage")
            if spec_field["required"] or (self.rng.random() < share and not (nested_message and depth > 0)):
                result[spec_field["name"]] = self.value(spec_field["types"], spec_field["name"],
                                                        spec_field["description"], depth + 1)
        chosen = by_name["text"] if self.rng.random() < 0.6 else self.rng.choice(content)
        result[chosen["name"]] = self.value(chosen["types"], chosen["name"], chosen["description"], depth + 1)
        if chosen["name"] == "text":
            result["text"] = self.message_text()
            if self.rng.random() < 0.3:
                result["link_preview_options"] = self.object("LinkPreviewOptions", depth + 1)
        if chosen["name"] in MEDIA_WITH_CAPTION and self.rng.random() < 0.5:
            result["caption"] = self.message_text()[:1024] or "."
        if self.rng.random() < share:
            result["reply_markup"] = self.object("InlineKeyboardMarkup", depth + 1)
        return self.fit_entities(result)

    def integer(self, name: str, description: str) -> int:
        if "Always 0" in description:
            return 0
        if name.endswith("date") or name.endswith("_date"):
            return self.pool.now - self.rng.randint(0, 3 * 86400)
        if name in ("user_id", "chat_id", "sender_chat_id", "migrate_to_chat_id", "migrate_from_chat_id"):
            return self.pool_chat()["id"]
        if name in ("offset", "length"):
            return self.rng.randint(0, 10)
        return self.rng.choice([0, 1, 2, 7, 100, self.rng.randint(1, 10**6), 2**31 - 1, 2**40])

    def text_value(self, name: str, description: str) -> str:
        choices = enum_values(description)
        if choices:
            return self.rng.choice(choices)
        rng = self.rng
        if name in ("text", "caption", "question", "explanation", "quote"):
            return self.message_text()
        if name == "data":
            return self.callback_data()
        if name == "language_code":
            return rng.choice(["ru", "en", "pt-br", "de", "uk", "zz"])
        if name == "username":
            return rng.choice(string.ascii_letters) + "".join(rng.choices(string.ascii_lowercase + "_", k=7))
        if "url" in name or name.endswith("link"):
            return rng.choice(["https://example.com/x", "https://t.me/+AbCdEf", "tg://user?id=1"])
        if name.endswith("_id") or name == "id":
            return "".join(rng.choices(string.ascii_letters + string.digits + "_-", k=rng.randint(8, 40)))
        if name == "emoji":
            return rng.choice(["👍", "🙂", "🔥", "❤"])
        if name == "mime_type":
            return rng.choice(["image/jpeg", "application/pdf", "audio/ogg", "video/mp4"])
        return rng.choice(["Anna", "Pilot RU-US", "Север", "x", "", "🙂", "a" * 64, "<i>", "Nord Creators"])

    def fit_entities(self, result: dict[str, Any]) -> dict[str, Any]:
        """Entities that fit their text, as Telegram's always do; none where there is no text for them."""
        for key, text_key in ENTITIES_OF.items():
            if key not in result:
                continue
            text = result.get(text_key)
            if isinstance(text, str) and text:
                result[key] = self.entities_for(text)
            if not result[key]:
                del result[key]
        return result

    def entities_for(self, text: str) -> list[dict[str, Any]]:
        length = utf16_len(text)
        formatting = []
        for _ in range(self.rng.randint(0, 2)):
            start = self.rng.randrange(length)
            entity: dict[str, Any] = {"type": self.rng.choice(FORMATTING), "offset": start,
                                      "length": self.rng.randint(1, length - start)}
            if entity["type"] == "text_link":
                entity["url"] = "https://example.com/link"
            formatting.append(entity)
        return detect_entities(text, formatting)

    # --- realistic shapes -------------------------------------------------------------------------------

    def pool_chat(self) -> dict[str, Any]:
        if self.pool.groups and self.rng.random() < 0.3:
            return dict(self.rng.choice(self.pool.groups))
        return self.pool.private_chat(self.rng.choice(self.pool.users))

    def sender_in(self, chat: dict[str, Any]) -> dict[str, Any]:
        if chat["type"] == "private":
            return dict(next((u for u in self.pool.users if u["id"] == chat["id"]), self.rng.choice(self.pool.users)))
        return dict(self.rng.choice(self.pool.members.get(chat["id"]) or self.pool.users))

    def command(self) -> str:
        rng = self.rng
        name = rng.choice([*self.pool.commands, "start", "help", "partners", "cancel", "language", "START", "foo"])
        text = f"/{name}"
        roll = rng.random()
        if roll < 0.15:
            text += f"@{self.pool.bot_user['username']}"
        elif roll < 0.2:
            text += "@other_bot"
        if name == "start" and rng.random() < 0.5:
            token = "".join(rng.choices(string.ascii_letters + string.digits + "_-", k=rng.randint(0, 40)))
            text += " " + rng.choice(["ref_", "join_", "ci_", "", "ref_../", "REF_"]) + token
        elif rng.random() < 0.15:
            text += " " + rng.choice(PLAIN_TEXTS)[:100]
        return text

    def message_text(self) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.45:
            return self.command()
        if roll < 0.85:
            return rng.choice(PLAIN_TEXTS)
        alphabet = string.printable + "абвгдеёжзЯЮЭ漢字한글🙂👍\u0301\u200d"
        return "".join(rng.choices(alphabet, k=rng.randint(1, 200))).strip() or "?"

    def callback_data(self) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.5 and self.pool.callback_data:
            data = rng.choice(self.pool.callback_data)
            if rng.random() < 0.3:  # a real one with a field changed, as a modified client could send
                parts = data.split(":")
                parts[rng.randrange(len(parts))] = rng.choice(["0", "-1", "999999", "x", "", *TRICKY_NUMBERS])
                data = ":".join(parts)
        elif roll < 0.8:
            data = rng.choice(CALLBACK_GARBAGE)
        else:
            data = "".join(rng.choices(string.ascii_letters + string.digits + ":_-", k=rng.randint(1, 64)))
        return data.encode()[:64].decode(errors="ignore") or "x"

    def message(self, *, edited: bool = False) -> dict[str, Any]:
        message = self.object("Message")
        chat = self.pool_chat() if self.rng.random() < POOL_SHARE else message["chat"]
        message["chat"] = chat
        message["from"] = self.sender_in(chat)
        if chat["type"] == "private" or self.rng.random() < 0.8:  # sender_chat: anonymous admins, channels
            message.pop("sender_chat", None)
        message["date"] = self.pool.now - self.rng.randint(0, 600)
        if edited:
            message["edit_date"] = message["date"] + self.rng.randint(1, 600)
        else:
            message.pop("edit_date", None)
        if self.hooks.message_id is not None:
            message["message_id"] = self.hooks.message_id(message)
        return message

    def bot_message(self, chat: dict[str, Any], data: str | None) -> dict[str, Any]:
        """A message of the bot's with the pressed button, or one the bot can no longer see."""
        if self.rng.random() < 0.1:
            return {"chat": chat, "message_id": self.rng.randint(1, 10**5), "date": 0}
        message = self.object("Message", depth=1)
        message.update({"chat": chat, "from": dict(self.pool.bot_user), "date": self.pool.now - 60})
        for key in ("sender_chat", "edit_date", "forward_origin", "via_bot"):
            message.pop(key, None)
        if data is not None:
            message["reply_markup"] = {"inline_keyboard": [[{"text": "Button", "callback_data": data}]]}
        if self.hooks.message_id is not None:
            message["message_id"] = self.hooks.message_id(message)
        return message

    def callback_query(self) -> dict[str, Any]:
        query = self.object("CallbackQuery")
        chat = self.pool_chat()
        user = self.sender_in(chat)
        data = self.callback_data() if self.rng.random() < 0.95 else None
        query.update({"from": user, "chat_instance": str(abs(chat["id"]) * 7919 % 10**15)})
        query.pop("game_short_name", None)
        query.pop("data", None)
        if data is not None:
            query["data"] = data
        if self.rng.random() < 0.05:
            query.pop("message", None)
            query["inline_message_id"] = self.text_value("inline_message_id", "")
        else:
            query.pop("inline_message_id", None)
            query["message"] = self.bot_message(chat, data)
        if self.hooks.callback_id is not None:
            query["id"] = self.hooks.callback_id(chat["id"], user["id"])
        return query

    def member_update(self, *, about_bot: bool) -> dict[str, Any]:
        update = self.object("ChatMemberUpdated")
        chat = self.pool_chat()
        update.update({"chat": chat, "from": self.sender_in(chat), "date": self.pool.now})
        subject = self.pool.bot_user if about_bot else self.sender_in(chat)
        for key in ("old_chat_member", "new_chat_member"):
            update[key]["user"] = dict(subject)
        return update

    def payload(self, kind: str) -> dict[str, Any]:
        if kind in ("message", "edited_message"):
            return self.message(edited=kind == "edited_message")
        if kind == "callback_query":
            return self.callback_query()
        if kind in ("my_chat_member", "chat_member"):
            return self.member_update(about_bot=kind == "my_chat_member")
        update_field = next(f for f in self.types["Update"]["fields"] if f["name"] == kind)
        return self.value(update_field["types"], kind, update_field["description"], 0)

    def updates(self, kinds: list[str], count: int) -> Iterator[tuple[str, dict[str, Any]]]:
        """`count` (kind, payload) pairs; messages and button presses most often, as in real traffic."""
        weights = [{"message": 8, "callback_query": 5, "edited_message": 2}.get(kind, 1) for kind in kinds]
        for _ in range(count):
            kind = self.rng.choices(kinds, weights)[0]
            yield kind, self.payload(kind)
