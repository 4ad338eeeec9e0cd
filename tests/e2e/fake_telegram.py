"""A fake Telegram Bot API server for end-to-end tests.

It speaks the real HTTP protocol, so the bot under test runs unmodified against it, and it checks every
request against the official Bot API spec and Telegram's documented limits. Requests that could never
succeed are answered with Telegram's error and recorded in `violations`; state-dependent refusals (message
gone, chat blocked, injected faults) are answered the same way but are not violations.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import re
import secrets
import string
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from tests.e2e.people import Group, PrivateUser

# The Bot API spec, copied into the repository (source and commit in data/SOURCE.md): a clone needs nothing beside it.
SPEC_PATH = Path(__file__).resolve().parent / "data" / "api.json"

BOT_ID = 123456789
BOT_FIRST_NAME = "Most"
BOT_USERNAME = "most_test_bot"
GROUP_ANONYMOUS_BOT_ID = 1087968824

MESSAGE_TEXT_MAX = 4096  # characters after entity parsing
CAPTION_MAX = 1024
CALLBACK_DATA_MAX_BYTES = 64
CALLBACK_ANSWER_MAX = 200
INLINE_KEYBOARD_BUTTONS_MAX = 100
COMMANDS_MAX = 100
COMMAND_DESCRIPTION_MAX = 256
COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
BOT_TEXT_LIMITS = {"setMyName": ("name", 64), "setMyDescription": ("description", 512),
                   "setMyShortDescription": ("short_description", 120)}
UPDATES_LIMIT_MAX = 100
DELETE_AGE_MAX = 48 * 3600  # a bot may delete a message only this many seconds after it was sent
UPLOAD_MAX_BYTES = 50 * 1024 * 1024

RATE_GLOBAL_PER_SECOND = 30
RATE_GROUP_PER_MINUTE = 20
RATE_CHAT_PER_SECOND = 1

INLINE_BUTTON_ACTIONS = ("callback_data", "url", "web_app", "login_url", "switch_inline_query",
                         "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
                         "callback_game", "pay")
BUTTON_URL = re.compile(r"(https?|tg)://\S+", re.IGNORECASE)
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
TEXT_METHODS = frozenset({"sendMessage", "editMessageText"})
COMMANDS_METHODS = frozenset({"setMyCommands", "deleteMyCommands", "getMyCommands"})
GENERAL_SCOPES = frozenset({"default", "all_private_chats", "all_group_chats", "all_chat_administrators"})
RATE_LIMITED = frozenset({"sendMessage", "sendPhoto", "sendDocument", "sendAudio", "sendVideo", "sendVoice",
                          "sendAnimation", "sendSticker", "sendMediaGroup", "sendLocation", "sendContact",
                          "sendPoll", "sendDice", "copyMessage", "copyMessages", "forwardMessage",
                          "forwardMessages"})
MEDIA_FIELDS = ("photo", "document", "sticker", "voice", "video", "audio", "animation")
SERVICE_FIELDS = ("new_chat_members", "left_chat_member", "migrate_to_chat_id", "migrate_from_chat_id",
                  "group_chat_created", "supergroup_chat_created", "pinned_message")
COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]{5,32})?")
INTEGER = re.compile(r"-?\d+")
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
# What Telegram finds in any text by itself, with or without parse_mode (the client-side parsing of a person's
# message gives the same). Top-level domains are a short list: Telegram knows them all, tests need a few.
URL_TLDS = "com|org|net|ru|io|me|dev|app|info|biz|edu|gov|co|uk|us|de|su|ua|by|kz|tv|xyz|site|online|tech|ai|рф"
AUTO_ENTITY = re.compile(
    rf"(?<![\w.+-])(?P<email>[\w.+-]+@(?:[\w-]+\.)+(?:{URL_TLDS}))(?![\w.-]*\w)"
    rf"|(?P<url>\b(?:https?|tg)://[\w-][^\s<>\"']*|(?<![\w@./-])(?:[\w-]+\.)+(?:{URL_TLDS})\b(?:/[^\s<>\"']*)?)"
    r"|(?<![\w/.])(?P<bot_command>/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?)(?![\w/@])"
    r"|(?<![\w@])(?P<mention>@[A-Za-z0-9_]{5,32})(?![\w@])"
    r"|(?<![\w#&])(?P<hashtag>#(?=\w*[^\W\d])\w{1,256})",
    re.IGNORECASE,
)
URL_TRAILING_PUNCTUATION = ".,;:!?)]}'\""
# No entity is detected inside these: their text is shown verbatim or already links somewhere.
OPAQUE_ENTITIES = frozenset({"code", "pre", "text_link", "url", "email", "mention", "bot_command", "hashtag",
                             "text_mention", "custom_emoji"})
LINK_PREVIEW_FIELDS = ("is_disabled", "url", "prefer_small_media", "prefer_large_media", "show_above_text")
# Parameters Telegram still takes but no longer documents; recorded in `deprecated_params`, not violations.
DEPRECATED_PARAMS = ("disable_web_page_preview",)
SIMPLE_TAGS = {"b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
               "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
               "tg-spoiler": "spoiler", "code": "code", "pre": "pre"}

NOT_MODIFIED = ("message is not modified: specified new message content and reply markup are exactly the "
                "same as a current content and reply markup of the message")
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
BLOCKED = {"private": "Forbidden: bot was blocked by the user",
           "group": "Forbidden: bot was kicked from the group chat",
           "supergroup": "Forbidden: bot was kicked from the supergroup chat"}
# aiogram 3.31 also requires can_send_welcome_messages, which the stored spec does not list yet.
ADMIN_RIGHTS = ("can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
                "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories",
                "can_edit_stories", "can_delete_stories", "can_pin_messages", "can_send_welcome_messages")


# What the `admin` parameter of a t.me/<bot>?startgroup=… link may name (core.telegram.org/api/links, "Bot links":
# the flags of chatAdminRights): a client silently ignores any other name, so a test treats one as a bug.
STARTGROUP_ADMIN_RIGHTS = frozenset({
    "change_info", "post_messages", "edit_messages", "delete_messages", "restrict_members", "invite_users",
    "pin_messages", "manage_topics", "promote_members", "manage_video_chats", "anonymous", "manage_chat",
    "post_stories", "edit_stories", "delete_stories",
})
START_PARAMETER = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class StartGroupLink:
    payload: str | None
    admin_rights: tuple[str, ...]


def parse_startgroup_link(url: str) -> StartGroupLink:
    """A `startgroup` deep link as a Telegram client reads it; anything a client would not honour fails loudly."""
    from urllib.parse import parse_qs, urlsplit

    parts = urlsplit(url)
    if parts.scheme != "https" or parts.netloc != "t.me" or parts.path != f"/{BOT_USERNAME}":
        raise AssertionError(f"not a link to @{BOT_USERNAME}: {url}")
    query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=True)
    unknown = set(query) - {"startgroup", "admin"}
    if "startgroup" not in query or unknown or any(len(v) != 1 for v in query.values()):
        raise AssertionError(f"not a startgroup link (or extra parameters {sorted(unknown)}): {url}")
    payload = query["startgroup"][0] or None
    if payload is not None and not START_PARAMETER.fullmatch(payload):
        raise AssertionError(f"start parameter must be 1-64 characters of A-Za-z0-9_-: {payload!r}")
    rights: tuple[str, ...] = ()
    if "admin" in query:
        rights = tuple(query["admin"][0].replace(" ", "+").split("+"))  # parse_qs reads a literal + as a space
        bad = [name for name in rights if name not in STARTGROUP_ADMIN_RIGHTS]
        if bad:
            raise AssertionError(f"unknown admin rights {bad} in {url}; valid: {sorted(STARTGROUP_ADMIN_RIGHTS)}")
    return StartGroupLink(payload, rights)


def make_token() -> str:
    alphabet = string.ascii_letters + string.digits + "_-"
    return f"{BOT_ID}:" + "".join(secrets.choice(alphabet) for _ in range(35))


def utf16_len(text: str) -> int:
    """Entity offsets and lengths are counted in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


# --- errors -------------------------------------------------------------------------------------------


class ApiError(Exception):
    """An error answer. `violation` marks requests that could never succeed, i.e. bugs in the caller."""

    def __init__(self, code: int, description: str, *, violation: bool = False, **parameters: int) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.violation = violation
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def invalid(description: str) -> ApiError:
    """A malformed request: Telegram answers 400 whatever the state, so it is a bug in the bot."""
    return ApiError(400, f"Bad Request: {description}", violation=True)


def refused(description: str) -> ApiError:
    """A well-formed request that the current state refuses (message gone, chat unknown...)."""
    return ApiError(400, f"Bad Request: {description}")


# --- the official spec --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MethodSpec:
    name: str
    types: dict[str, list[str]]
    required: tuple[str, ...]
    returns: tuple[str, ...]


@cache
def _spec_data() -> dict[str, Any]:
    return json.loads(SPEC_PATH.read_text(encoding="utf-8"))


@cache
def method_specs() -> dict[str, MethodSpec]:
    """Keyed by lower-cased name: Telegram matches method names case-insensitively."""
    specs = {}
    for name, method in _spec_data()["methods"].items():
        fields = method.get("fields", [])
        specs[name.lower()] = MethodSpec(
            name=name,
            types={f["name"]: f["types"] for f in fields},
            required=tuple(f["name"] for f in fields if f["required"]),
            returns=tuple(method["returns"]),
        )
    return specs


def spec_types() -> dict[str, Any]:
    """Every type of the spec by name: fields (name, types, required, description) or subtypes for unions."""
    return _spec_data()["types"]


@cache
def command_scopes() -> dict[str, tuple[str, ...]]:
    """Each BotCommandScope type the spec lists (default, chat, chat_member...) with the fields it requires
    besides `type`; the type's name is in the description of its `type` field ("Scope type, must be chat")."""
    scopes = {}
    for name in spec_types()["BotCommandScope"]["subtypes"]:
        fields = spec_types()[name]["fields"]
        kind = next(re.search(r"must be (\w+)", f["description"]) for f in fields if f["name"] == "type")
        if kind is None:
            raise ValueError(f"no scope type in the spec's {name}")
        scopes[kind.group(1)] = tuple(f["name"] for f in fields if f["required"] and f["name"] != "type")
    return scopes


@cache
def update_kinds() -> frozenset[str]:
    return frozenset(f["name"] for f in _spec_data()["types"]["Update"]["fields"]) - {"update_id"}


def coerce(name: str, value: Any, types: list[str]) -> Any:
    """Form fields arrive as strings; the spec's type tells how Telegram reads each one."""
    if not isinstance(value, str) or value.startswith("attach://"):
        return value
    if "Integer" in types and INTEGER.fullmatch(value):
        return int(value)
    if "Float" in types:
        with contextlib.suppress(ValueError):
            return float(value)
    if "Boolean" in types and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    if "String" in types or "InputFile" in types:
        return value
    try:
        return json.loads(value)
    except ValueError:
        raise invalid(f"can't parse {name} JSON object") from None


# --- formatting ---------------------------------------------------------------------------------------


class _EntityParser(HTMLParser):
    """Telegram's HTML dialect: a short whitelist of tags, four named entities, strict nesting."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)
        self.source = source
        self.parts: list[str] = []
        self.position = 0  # UTF-16 code units; the name `offset` belongs to HTMLParser
        self.open: list[tuple[str, dict[str, Any]]] = []
        self.entities: list[dict[str, Any]] = []
        self._line_starts = [0, *(m.end() for m in re.finditer("\n", source))]

    def fail(self, reason: str) -> ApiError:
        return invalid(f"can't parse entities: {reason}")

    def byte_offset(self, extra_chars: int = 0) -> int:
        line, column = self.getpos()
        index = self._line_starts[line - 1] + column + extra_chars
        return len(self.source[:index].encode())

    def add_text(self, text: str) -> None:
        self.parts.append(text)
        self.position += utf16_len(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        entity = self.entity_for(tag, dict(attrs))
        entity["offset"] = self.position
        self.open.append((tag, entity))

    def entity_for(self, tag: str, attrs: dict[str, str | None]) -> dict[str, Any]:
        if tag == "code" and self.open and self.open[-1][0] == "pre":
            language = (attrs.get("class") or "").removeprefix("language-")
            if language:
                self.open[-1][1]["language"] = language
            return {"type": None}  # <pre><code class="language-x"> is one pre entity
        if tag in SIMPLE_TAGS:
            return {"type": SIMPLE_TAGS[tag]}
        if tag == "span" and attrs.get("class") == "tg-spoiler":
            return {"type": "spoiler"}
        if tag == "a" and attrs.get("href"):
            return {"type": "text_link", "url": attrs["href"]}
        if tag == "blockquote":
            return {"type": "expandable_blockquote" if "expandable" in attrs else "blockquote"}
        if tag == "tg-emoji" and attrs.get("emoji-id"):
            return {"type": "custom_emoji", "custom_emoji_id": attrs["emoji-id"]}
        if tag == "tg-time" and INTEGER.fullmatch(attrs.get("unix") or ""):
            entity: dict[str, Any] = {"type": "date_time", "unix_time": int(attrs["unix"] or 0)}
            if attrs.get("format"):
                entity["date_time_format"] = attrs["format"]
            return entity
        raise self.fail(f'Unsupported start tag "{tag}" at byte offset {self.byte_offset()}')

    def handle_endtag(self, tag: str) -> None:
        if not self.open:
            raise self.fail(f'Unexpected end tag "{tag}" at byte offset {self.byte_offset()}')
        open_tag, entity = self.open.pop()
        if open_tag != tag:
            raise self.fail(f'Unmatched end tag at byte offset {self.byte_offset()}, '
                             f'expected "</{open_tag}>", found "</{tag}>"')
        length = self.position - entity["offset"]
        if entity["type"] and length:  # Telegram drops empty entities
            self.entities.append({**entity, "length": length})

    def handle_data(self, data: str) -> None:
        for char in "<&":
            if char in data:
                offset = self.byte_offset(data.index(char))
                raise self.fail(f'Unescaped "{char}" at byte offset {offset}; use &lt; &gt; &amp;')
        self.add_text(data)

    def handle_entityref(self, name: str) -> None:
        if name not in NAMED_ENTITIES:
            raise self.fail(f'Unsupported HTML entity "&{name};" at byte offset {self.byte_offset()}')
        self.add_text(NAMED_ENTITIES[name])

    def handle_charref(self, name: str) -> None:
        try:
            code = int(name[1:], 16) if name[:1] in "xX" else int(name)
            self.add_text(chr(code))
        except (ValueError, OverflowError):
            raise self.fail(f'Invalid character reference "&#{name};"') from None

    def handle_comment(self, data: str) -> None:
        raise self.fail(f"Unsupported comment at byte offset {self.byte_offset()}")

    def handle_decl(self, decl: str) -> None:
        raise self.fail(f"Unsupported declaration at byte offset {self.byte_offset()}")

    def handle_pi(self, data: str) -> None:
        self.handle_decl(data)

    def unknown_decl(self, data: str) -> None:
        self.handle_decl(data)

    def finish(self) -> tuple[str, list[dict[str, Any]]]:
        self.close()
        if self.open:
            raise self.fail(f'Can\'t find end tag corresponding to start tag "{self.open[-1][0]}"')
        return "".join(self.parts), sorted(self.entities, key=lambda e: e["offset"])


def parse_formatted(source: str, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]]:
    """The text a user sees and its markup entities. Only HTML is parsed; other modes pass through unchecked."""
    if (parse_mode or "").lower() != "html":
        return source, []
    parser = _EntityParser(source)
    parser.feed(source)
    return parser.finish()


def detect_entities(text: str, given: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """`given` (markup entities) plus the url, email, mention, bot_command and hashtag entities Telegram detects
    in the text outside code, pre and links, sorted by offset as Telegram returns them."""
    entities = [dict(e) for e in given or []]
    taken = [(e["offset"], e["offset"] + e["length"]) for e in entities if e.get("type") in OPAQUE_ENTITIES]
    for match in AUTO_ENTITY.finditer(text):
        kind = match.lastgroup or ""
        found = match.group()
        if kind == "url":
            found = found.rstrip(URL_TRAILING_PUNCTUATION)
        offset, length = utf16_len(text[: match.start()]), utf16_len(found)
        if length and not any(start < offset + length and offset < end for start, end in taken):
            entities.append({"type": kind, "offset": offset, "length": length})
            taken.append((offset, offset + length))
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def strip_shown(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram trims leading and trailing whitespace from what it shows, moving and clipping the entities."""
    shown = text.strip()
    cut = utf16_len(text[: len(text) - len(text.lstrip())])
    end = utf16_len(shown)
    moved = []
    for entity in entities:
        start, stop = max(entity["offset"] - cut, 0), min(entity["offset"] + entity["length"] - cut, end)
        if stop > start:
            moved.append({**entity, "offset": start, "length": stop - start})
    return shown, moved


def formatted(p: dict[str, Any], key: str) -> tuple[str, list[dict[str, Any]]]:
    text, entities = parse_formatted(p.get(key) or "", p.get("parse_mode"))
    entities_key = "entities" if key == "text" else "caption_entities"
    given = entities or p.get(entities_key) or []
    if not isinstance(given, list) or not all(isinstance(e, dict) and {"type", "offset", "length"} <= e.keys()
                                              for e in given):
        raise invalid(f"can't parse {entities_key} JSON object")
    shown, given = strip_shown(text, given)
    return shown, detect_entities(shown, given)


def link_preview_shown(p: dict[str, Any]) -> dict[str, Any] | None:
    """The link_preview_options Telegram puts in the Message it returns: the options the request set (without
    false flags), and `is_disabled` for the deprecated disable_web_page_preview."""
    options = p.get("link_preview_options")
    if options is None and p.get("disable_web_page_preview"):
        options = {"is_disabled": True}
    if options is None:
        return None
    if not isinstance(options, dict):
        raise invalid("can't parse link preview options JSON object")
    shown = {key: options[key] for key in LINK_PREVIEW_FIELDS if options.get(key) not in (None, False, "")}
    return shown or None


def check_text(p: dict[str, Any]) -> None:
    text, _ = formatted(p, "text")
    if not text:
        raise invalid("message text is empty")
    if len(text) > MESSAGE_TEXT_MAX:
        raise invalid("message is too long")


def check_caption(p: dict[str, Any]) -> None:
    caption, _ = formatted(p, "caption")
    if len(caption) > CAPTION_MAX:
        raise invalid("message caption is too long")


def check_reply_markup(markup: Any) -> None:
    if not isinstance(markup, dict):
        raise invalid("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        check_inline_keyboard(markup["inline_keyboard"])
    elif "keyboard" in markup:
        check_rows(markup["keyboard"], "keyboard")
        for row in markup["keyboard"]:
            for button in row:
                text = button if isinstance(button, str) else (button or {}).get("text")
                if not text:
                    raise invalid("keyboard button text must be non-empty")
    elif not ({"remove_keyboard", "force_reply"} & markup.keys()):
        raise invalid("can't parse reply keyboard markup JSON object")


def check_rows(rows: Any, what: str) -> None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise invalid(f"can't parse {what}: field must be an Array of Array")


def check_inline_keyboard(rows: Any) -> None:
    check_rows(rows, "inline keyboard")
    buttons = [button for row in rows for button in row]
    if len(buttons) > INLINE_KEYBOARD_BUTTONS_MAX:
        raise invalid("reply markup is too long")
    for button in buttons:
        check_inline_button(button)


def check_inline_button(button: Any) -> None:
    if not isinstance(button, dict) or not button.get("text"):
        raise invalid("can't parse inline keyboard button: Text must be non-empty")
    actions = [key for key in INLINE_BUTTON_ACTIONS if key in button]
    if not actions:
        raise invalid("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise invalid(f"can't parse inline keyboard button: exactly one action expected, got {actions}")
    data = button.get("callback_data")
    if "callback_data" in button and not (
        isinstance(data, str) and 1 <= len(data.encode()) <= CALLBACK_DATA_MAX_BYTES
    ):
        raise invalid("BUTTON_DATA_INVALID")
    if "url" in button and not BUTTON_URL.fullmatch(str(button["url"])):
        raise invalid("BUTTON_URL_INVALID")


def check_commands(commands: Any) -> None:
    if not isinstance(commands, list):
        raise invalid("can't parse commands JSON object")
    if len(commands) > COMMANDS_MAX:
        raise invalid("BOT_COMMANDS_TOO_MUCH")
    for command in commands:
        if not COMMAND_NAME.fullmatch(str(command.get("command", ""))):
            raise invalid(f"BOT_COMMAND_INVALID: {command.get('command')!r}")
        if not 1 <= len(command.get("description", "").strip()) <= COMMAND_DESCRIPTION_MAX:
            raise invalid(f"BOT_COMMAND_DESCRIPTION_INVALID for {command['command']!r}")


# A command scope as the fake keeps it: its type, the chat it names (by its numeric id, however the call named it)
# and the member for chat_member; e.g. ("chat", -4000000001, None).
ScopeKey = tuple[str, int | None, int | None]
DEFAULT_SCOPE: ScopeKey = ("default", None, None)


def normal_markup(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    """An inline keyboard without buttons is no keyboard at all."""
    if markup and "inline_keyboard" in markup and not any(markup["inline_keyboard"]):
        return None
    return markup or None


# --- state --------------------------------------------------------------------------------------------


@dataclass
class FakeFile:
    file_id: str
    file_unique_id: str
    file_name: str | None
    content: bytes
    mime_type: str | None = None

    def as_document(self) -> dict[str, Any]:
        document = {"file_id": self.file_id, "file_unique_id": self.file_unique_id,
                    "file_size": len(self.content)}
        if self.file_name:
            document["file_name"] = self.file_name
        if self.mime_type:
            document["mime_type"] = self.mime_type
        return document

    def as_photo(self) -> list[dict[str, Any]]:
        base = {"file_id": self.file_id, "file_unique_id": self.file_unique_id,
                "file_size": len(self.content)}
        return [{**base, "width": 90, "height": 90}, {**base, "width": 1280, "height": 1280}]


@dataclass
class Call:
    """One request the bot made. `result` is Telegram's result, `error` the error body, if it failed."""

    method: str
    params: dict[str, Any]
    chat_id: int | None
    at: float
    result: Any = None
    error: dict[str, Any] | None = None
    server_time: float = 0.0  # the server's clock (`now()`, which tests may speed up) when it took the call
    content_type: str = ""  # how the parameters came: application/json, multipart/form-data, …

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(eq=False)
class StoredMessage:
    message_id: int
    chat: dict[str, Any]
    sender: dict[str, Any]
    date: int
    text: str | None = None  # as shown to users: tags stripped, entities decoded
    caption: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    source: str | None = None  # text or caption exactly as the bot sent it
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None
    link_preview_options: dict[str, Any] | None = None  # as Telegram returns them, for text messages
    reply_to: StoredMessage | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # media, sender_chat, service fields
    edit_date: int | None = None
    history: list[StoredMessage] = field(default_factory=list)  # earlier versions, oldest first
    deleted: bool = False

    @property
    def chat_id(self) -> int:
        return self.chat["id"]

    @property
    def by_bot(self) -> bool:
        return self.sender.get("id") == BOT_ID

    @property
    def is_service(self) -> bool:
        return any(key in self.extra for key in SERVICE_FIELDS)

    @property
    def buttons(self) -> list[tuple[str, str | None]]:
        """Inline buttons as (text, callback_data or url), row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [(b.get("text", ""), b.get("callback_data") or b.get("url")) for row in rows for b in row]

    def to_dict(self, *, nested: bool = True) -> dict[str, Any]:
        message: dict[str, Any] = {"message_id": self.message_id, "date": self.date, "chat": dict(self.chat),
                                   "from": dict(self.sender), **self.extra}
        if self.text is not None:
            message["text"] = self.text
        if self.caption is not None:
            message["caption"] = self.caption
        if self.entities:
            message["entities" if self.text is not None else "caption_entities"] = self.entities
        if self.link_preview_options and self.text is not None:
            message["link_preview_options"] = dict(self.link_preview_options)
        if self.reply_markup and "inline_keyboard" in self.reply_markup:  # Telegram echoes inline ones only
            message["reply_markup"] = self.reply_markup
        if self.edit_date:
            message["edit_date"] = self.edit_date
        if nested and self.reply_to is not None:
            message["reply_to_message"] = self.reply_to.to_dict(nested=False)
        return message


@dataclass
class Member:
    user: dict[str, Any]
    status: str  # creator, administrator, member, left, kicked


def member_dict(user: dict[str, Any], status: str) -> dict[str, Any]:
    """A ChatMember with the fields the spec requires for its status."""
    member: dict[str, Any] = {"status": status, "user": user}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member |= {"can_be_edited": False, "is_anonymous": False} | dict.fromkeys(ADMIN_RIGHTS, True)
    elif status == "kicked":
        member["until_date"] = 0
    return member


@dataclass
class FakeChat:
    id: int
    type: str  # private, group, supergroup
    title: str | None = None
    user: dict[str, Any] | None = None  # the person on the other side of a private chat
    language_code: str | None = None
    members: dict[int, Member] = field(default_factory=dict)
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    bot_status: str = "left"
    known: bool = False  # whether the bot was ever given access; otherwise "chat not found"
    migrated_to: int | None = None
    _message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def is_group(self) -> bool:
        return self.type != "private"

    @property
    def username(self) -> str | None:
        return (self.user or {}).get("username")

    def to_dict(self) -> dict[str, Any]:
        if self.user is None:
            return {"id": self.id, "type": self.type, "title": self.title}
        keys = ("first_name", "last_name", "username")
        return {"id": self.id, "type": "private", **{k: self.user[k] for k in keys if k in self.user}}

    def full_info(self) -> dict[str, Any]:
        gifts = dict.fromkeys(("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription",
                               "gifts_from_channels"), False)
        return {**self.to_dict(), "accent_color_id": 0, "max_reaction_count": 11,
                "accepted_gift_types": gifts}

    def next_message_id(self) -> int:
        return next(self._message_ids)

    def live_message(self, message_id: Any) -> StoredMessage | None:
        message = self.messages.get(message_id) if isinstance(message_id, int) else None
        return None if message is None or message.deleted else message


@dataclass
class Fault:
    chat_id: int | None
    code: int
    description: str
    retry_after: int | None
    times: int
    method: str | None = None  # only calls of this method; any for None

    def error(self) -> ApiError:
        if self.retry_after is None:
            return ApiError(self.code, self.description)
        return ApiError(self.code, self.description, retry_after=self.retry_after)


@dataclass
class CallbackRecord:
    chat_id: int
    user_id: int
    answered: bool = False


@dataclass
class Stats:
    sent: int = 0
    rejected_429: int = 0


@dataclass(frozen=True)
class RateLimits:
    """Telegram's broadcast limits by default; a test may set harsher ones to throttle hard."""

    global_per_second: int = RATE_GLOBAL_PER_SECOND
    chat_per_second: int = RATE_CHAT_PER_SECOND
    group_per_minute: int = RATE_GROUP_PER_MINUTE


class RateLimiter:
    """Telegram's broadcast limits as sliding windows over the server clock."""

    def __init__(self) -> None:
        self.sends: deque[tuple[float, int, bool]] = deque()  # (time, chat id, is group)
        self.limits = RateLimits()

    def retry_after(self, chat_id: int, is_group: bool, now: float) -> int | None:
        limits = self.limits
        while self.sends and now - self.sends[0][0] >= 60:
            self.sends.popleft()
        last_second = [t for t, _, _ in self.sends if now - t < 1]
        if len(last_second) >= limits.global_per_second:
            return self._wait(last_second[-limits.global_per_second] + 1 - now)
        to_chat = [t for t, chat, _ in self.sends if chat == chat_id]
        recent = [t for t in to_chat if now - t < 1]
        if len(recent) >= limits.chat_per_second:
            return self._wait(recent[-limits.chat_per_second] + 1 - now)
        if is_group and len(to_chat) >= limits.group_per_minute:
            return self._wait(to_chat[-limits.group_per_minute] + 60 - now)
        return None

    def record(self, chat_id: int, is_group: bool, now: float) -> None:
        self.sends.append((now, chat_id, is_group))

    @staticmethod
    def _wait(seconds: float) -> int:
        return max(1, math.ceil(seconds))


# --- the server ---------------------------------------------------------------------------------------

Handler = Callable[[Any, dict[str, Any]], Any]
HANDLERS: dict[str, Handler] = {}


def api(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        HANDLERS[name] = handler
        return handler

    return register


class FakeTelegram:
    """`async with FakeTelegram() as server:` serves the Bot API on 127.0.0.1 at `server.base_url`."""

    def __init__(self) -> None:
        self.token = make_token()
        self.base_url = ""
        self.bot_user = {"id": BOT_ID, "is_bot": True, "first_name": BOT_FIRST_NAME, "username": BOT_USERNAME}
        self.calls: list[Call] = []
        self.violations: list[str] = []
        self.deprecated_params: list[str] = []  # "method: parameter" for each use of an undocumented parameter
        self.chats: dict[int, FakeChat] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.files: dict[str, FakeFile] = {}
        self.stats = Stats()
        self.enforce_rate_limits = False
        self.clock_offset = 0.0
        self.reaction_timeout = 5.0  # how long people wait for the bot to react
        self.quiet_period = 0.1  # a reaction is over once the bot is silent this long
        self.commands: dict[tuple[ScopeKey, str], list[dict[str, Any]]] = {}  # by (scope, language code or "")
        self.bot_texts: dict[tuple[str, str], str] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.webhook_url = ""
        self.allowed_updates = update_kinds() - DEFAULT_EXCLUDED_UPDATES
        self.fetched_update_id = 0
        self.confirmed_update_id = 0
        self.open_polls = 0
        self._updates: deque[dict[str, Any]] = deque()
        self._update_ids = itertools.count(100001)
        self._user_ids = itertools.count(1_000_001)
        self._group_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._faults: list[Fault] = []
        self._lost_replies: list[Fault] = []
        self._callbacks: dict[str, CallbackRecord] = {}
        self._seen_users: set[int] = set()
        self._limiter = RateLimiter()
        self._tick = asyncio.Event()
        self._closing = False
        self._poll_generation = 0
        self._runner: web.AppRunner | None = None

    # lifecycle

    async def __aenter__(self) -> FakeTelegram:
        app = web.Application(client_max_size=UPLOAD_MAX_BYTES)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        # Cancelling the handler when its client disconnects keeps abandoned long polls from counting as open.
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._closing = True  # open long polls answer [] instead of hanging the shutdown
        self._notify()
        if self._runner is not None:
            await self._runner.cleanup()

    # clock and waiting

    def now(self) -> float:
        return time.time() + self.clock_offset

    def _notify(self) -> None:
        self._tick.set()
        self._tick = asyncio.Event()

    async def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait until `predicate()` holds, re-checking whenever the server's state changes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._tick.wait(), remaining)
        return True

    async def wait_fetched(self, update_id: int, timeout: float | None = None) -> None:
        timeout = self.reaction_timeout if timeout is None else timeout
        if not await self.wait_until(lambda: self.fetched_update_id >= update_id, timeout):
            raise AssertionError(f"the bot did not fetch update {update_id} within {timeout}s")

    async def wait_polling(self, timeout: float | None = None) -> None:
        """Wait until the bot has a getUpdates request open, i.e. it is up and polling."""
        timeout = self.reaction_timeout if timeout is None else timeout
        if not await self.wait_until(lambda: self.open_polls > 0, timeout):
            raise AssertionError(f"the bot did not start polling within {timeout}s")

    # inspection

    def calls_of(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method.lower() == method.lower()]

    def message(self, chat_id: int, message_id: int) -> StoredMessage | None:
        chat = self.chats.get(chat_id)
        return chat.messages.get(message_id) if chat else None

    def sent_to(self, chat_id: int) -> list[StoredMessage]:
        """The bot's messages currently in the chat, oldest first."""
        chat = self.chats.get(chat_id)
        messages = chat.messages.values() if chat else ()
        return [m for m in messages if m.by_bot and not m.deleted]

    def take_violations(self) -> list[str]:
        """Return and forget the violations, for tests that provoke them on purpose."""
        violations, self.violations = self.violations, []
        return violations

    def unanswered_callbacks(self) -> list[str]:
        return [query_id for query_id, record in self._callbacks.items() if not record.answered]

    def menu_seen(self, user_id: int, chat_id: int, language_code: str | None = None) -> list[dict[str, Any]]:
        """The command menu the user's client shows in the chat (their private chat with the bot when chat_id is
        their id), chosen as core.telegram.org/bots/api#determining-list-of-commands says: the first list set of
        the scopes from the narrowest, in each the client's language (the user's language_code unless given)
        before the list for no language; the administrators' scopes only for the chat's creator and admins."""
        chat = self.chats[chat_id]
        if language_code is None:
            language_code = self.users[user_id].get("language_code") or ""
        scopes: list[ScopeKey]
        if not chat.is_group:
            scopes = [("chat", chat.id, None), ("all_private_chats", None, None)]
        else:
            member = chat.members.get(user_id)
            admin = member is not None and member.status in ("creator", "administrator")
            scopes = [("chat_member", chat.id, user_id), ("chat_administrators", chat.id, None),
                      ("chat", chat.id, None), ("all_chat_administrators", None, None),
                      ("all_group_chats", None, None)]
            if not admin:
                scopes = [scope for scope in scopes if "administrators" not in scope[0]]
        for scope in [*scopes, DEFAULT_SCOPE]:
            for language in dict.fromkeys((language_code, "")):
                if (scope, language) in self.commands:
                    return self.commands[scope, language]
        return []

    def menu_descriptions(self, user_id: int, chat_id: int, language_code: str | None = None) -> dict[str, str]:
        """menu_seen as {command: description}."""
        return {c["command"]: c["description"] for c in self.menu_seen(user_id, chat_id, language_code)}

    # fault injection

    def throttle(self, limits: RateLimits) -> None:
        """Enforce these limits (429 with retry_after) instead of Telegram's, from now on."""
        self._limiter.limits = limits
        self.enforce_rate_limits = True

    def fail_next(self, chat_id: int | None, error_code: int, description: str,
                  retry_after: int | None = None, times: int = 1, method: str | None = None) -> None:
        """The next `times` calls addressed to the chat (any chat for None), of the method if given, answer this
        error."""
        self._faults.append(Fault(chat_id, error_code, description, retry_after, times, method))

    def lose_reply_after_delivery(self, chat_id: int, times: int = 1) -> None:
        """The next `times` messages sent to the chat are delivered (they are in the chat, people see them), but the
        bot gets a 502 instead of the Message: its answer was lost on the way back, so the bot never learns the id."""
        self._lost_replies.append(Fault(chat_id, 502, "Bad Gateway", None, times))

    def block(self, chat_id: int) -> None:
        """The user blocks the bot, or the bot is kicked from the group: sends answer 403."""
        chat = self.chats[chat_id]
        chat.known = True
        chat.bot_status = "kicked"

    def migrate(self, chat_id: int, new_chat_id: int | None = None) -> FakeChat:
        """The group becomes a supergroup: calls to the old id answer 400 with migrate_to_chat_id."""
        old = self.chats[chat_id]
        new_id = new_chat_id or int(f"-100{abs(chat_id)}")
        new = self.chats.get(new_id) or FakeChat(
            new_id, "supergroup", title=old.title, language_code=old.language_code,
            members=dict(old.members), bot_status=old.bot_status, known=old.known)
        self.chats[new_id] = new
        old.migrated_to = new_id
        return new

    # people (see people.py)

    def private_user(self, first_name: str = "Anna", language_code: str | None = "ru",
                     user_id: int | None = None, username: str | None = None) -> PrivateUser:
        from tests.e2e.people import PrivateUser  # people.py builds on this module

        return PrivateUser(self, self.new_user(first_name, language_code, user_id, username))

    def group(self, title: str = "Pilot RU-US", language_code: str | None = None,
              supergroup: bool = False) -> Group:
        from tests.e2e.people import Group

        return Group(self, self.new_group_chat(title, language_code, supergroup))

    def new_user(self, first_name: str, language_code: str | None, user_id: int | None = None,
                 username: str | None = None) -> dict[str, Any]:
        user_id = user_id or next(i for i in self._user_ids if i not in self.users)
        if user_id in self.users:
            raise ValueError(f"user {user_id} already exists")
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code:
            user["language_code"] = language_code
        if username:
            user["username"] = username
        self.users[user_id] = user
        self.chats[user_id] = FakeChat(user_id, "private", user=user, language_code=language_code)
        return user

    def new_group_chat(self, title: str, language_code: str | None, supergroup: bool) -> FakeChat:
        number = next(self._group_ids)
        chat_id = -(1_002_000_000_000 + number) if supergroup else -(4_000_000_000 + number)
        chat = FakeChat(chat_id, "supergroup" if supergroup else "group", title=title,
                        language_code=language_code)
        self.chats[chat_id] = chat
        return chat

    def new_file(self, file_name: str | None, content: bytes, mime_type: str | None = None) -> FakeFile:
        number = next(self._file_ids)
        file = FakeFile(f"FILE{number:06d}{secrets.token_hex(8)}", f"U{number:06d}", file_name, content,
                        mime_type)
        self.files[file.file_id] = file
        return file

    def add_message(self, chat: FakeChat, sender: dict[str, Any], **content: Any) -> StoredMessage:
        message = StoredMessage(chat.next_message_id(), chat.to_dict(), sender, int(self.now()), **content)
        chat.messages[message.message_id] = message
        return message

    def adopt_chat(self, chat_dict: dict[str, Any], user: dict[str, Any] | None = None) -> FakeChat:
        """The chat of an update made outside the fake (e.g. generated from the spec), as Telegram has it."""
        chat = self.chats.get(chat_dict["id"])
        if chat is not None:
            return chat
        if chat_dict["type"] == "private":
            person = self.users.setdefault(chat_dict["id"], user if user and user["id"] == chat_dict["id"] else {
                "id": chat_dict["id"], "is_bot": False, "first_name": chat_dict.get("first_name") or "User"})
            chat = FakeChat(chat_dict["id"], "private", user=person, language_code=person.get("language_code"))
        else:
            chat = FakeChat(chat_dict["id"], chat_dict["type"], title=chat_dict.get("title") or "Group")
        self.chats[chat.id] = chat
        return chat

    def push_received(self, kind: str, payload: dict[str, Any]) -> int | None:
        """Queue an update made outside the fake, first making its chat what Telegram's would be: a person who
        writes to the bot or presses its button has a chat with it; a my_chat_member update sets the bot's status."""
        message = payload.get("message") if kind == "callback_query" else payload
        chat_dict = (message or {}).get("chat") if kind != "my_chat_member" else payload.get("chat")
        if isinstance(chat_dict, dict):
            chat = self.adopt_chat(chat_dict, payload.get("from"))
            if kind == "my_chat_member":
                chat.bot_status = payload["new_chat_member"]["status"].replace("restricted", "member")
                chat.known = True
            elif kind in ("message", "edited_message", "callback_query") and (
                    chat.type == "private" or chat.bot_status not in ("member", "administrator")):
                chat.known, chat.bot_status = True, "member"
        return self.push_update(kind, payload)

    def store_message(self, message: dict[str, Any]) -> int:
        """Keep a Message made outside the fake (e.g. generated from the spec) in its chat, so the bot can reply
        to it or edit it as it could on Telegram; returns the id it has there."""
        chat = self.adopt_chat(message["chat"], message.get("from"))
        shown = ("text", "caption", "entities", "caption_entities", "reply_markup", "link_preview_options")
        skipped = ("message_id", "date", "chat", "from", "reply_to_message", "edit_date")
        extra = {key: value for key, value in message.items() if key not in shown + skipped}
        stored = self.add_message(
            chat, message.get("from") or self.bot_user, text=message.get("text"), caption=message.get("caption"),
            entities=message.get("entities") or message.get("caption_entities") or [],
            reply_markup=message.get("reply_markup"), link_preview_options=message.get("link_preview_options"),
            extra=extra)
        stored.date = message.get("date", stored.date)
        return stored.message_id

    def new_callback(self, chat_id: int, user_id: int) -> str:
        query_id = f"{next(self._query_ids)}{secrets.randbelow(10**12):012d}"
        self._callbacks[query_id] = CallbackRecord(chat_id, user_id)
        return query_id

    def set_bot_status(self, chat: FakeChat, actor: dict[str, Any], status: str) -> int | None:
        """Change the bot's membership and emit the my_chat_member update Telegram sends for it."""
        old, chat.bot_status = chat.bot_status, status
        chat.known = True
        return self.push_update("my_chat_member", {
            "chat": chat.to_dict(), "from": actor, "date": int(self.now()),
            "old_chat_member": member_dict(self.bot_user, old),
            "new_chat_member": member_dict(self.bot_user, status),
        })

    def deliver(self, kind: str, message: StoredMessage) -> int | None:
        """Queue a message update if Telegram would give it to the bot; returns its update_id."""
        if not self.reaches_bot(self.chats[message.chat_id], message):
            return None
        return self.push_update(kind, message.to_dict())

    def reaches_bot(self, chat: FakeChat, message: StoredMessage) -> bool:
        """Privacy mode: in groups the bot sees commands, replies to it, mentions and service messages."""
        if chat.type == "private":
            return True
        if chat.bot_status == "administrator":  # admins are exempt from privacy mode
            return True
        if chat.bot_status != "member":
            return False
        text = message.text or message.caption or ""
        if command := COMMAND.match(text):
            return command.group(1) is None or command.group(1).lower() == f"@{BOT_USERNAME}"
        if message.reply_to is not None and message.reply_to.by_bot:
            return True
        return message.is_service or f"@{BOT_USERNAME}" in text.lower()

    def push_update(self, kind: str, payload: dict[str, Any]) -> int | None:
        """Queue an update; None if the bot's allowed_updates exclude this kind."""
        if kind not in self.allowed_updates:
            return None
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, kind: payload})
        if sender := payload.get("from"):
            self._seen_users.add(sender["id"])
        self._notify()
        return update_id

    # HTTP

    async def _handle(self, request: web.Request) -> web.Response:
        call = Call(request.match_info["method"], {}, None, time.monotonic(), server_time=self.now(),
                    content_type=request.content_type)
        status = 200
        try:
            spec = self._resolve(request)
            call.method = spec.name
            call.params = await self._read_params(request, spec)
            call.chat_id = self._chat_id_of(call)
            call.result = await self._execute(spec, call, request)
            body: dict[str, Any] = {"ok": True, "result": call.result}
        except ApiError as error:
            body = call.error = error.body()
            status = error.code
            if error.violation:
                self.violations.append(f"{call.method}: {error.description}")
        self.calls.append(call)
        self._notify()
        return web.json_response(body, status=status)

    def _resolve(self, request: web.Request) -> MethodSpec:
        if request.match_info["token"] != self.token:
            raise ApiError(401, "Unauthorized", violation=True)
        spec = method_specs().get(request.match_info["method"].lower())
        if spec is None:
            raise ApiError(404, "Not Found: method not found", violation=True)
        return spec

    async def _read_params(self, request: web.Request, spec: MethodSpec) -> dict[str, Any]:
        raw: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            try:
                raw.update(await request.json())
            except (ValueError, TypeError):
                raise invalid("can't parse JSON request body") from None
        elif request.can_read_body:
            raw.update(await request.post())
        uploads = {key: value for key, value in raw.items() if isinstance(value, web.FileField)}
        params = {}
        for name, value in raw.items():
            if name in uploads and name not in spec.types:
                continue  # the body of an attach://name reference
            params[name] = self._attach(coerce(name, value, spec.types.get(name, ["String"])), uploads)
        return params

    def _attach(self, value: Any, uploads: dict[str, web.FileField]) -> Any:
        if isinstance(value, str) and value.startswith("attach://"):
            if value[len("attach://"):] not in uploads:
                raise invalid(f"file {value} not found in the request")
            value = uploads[value[len("attach://"):]]
        if isinstance(value, web.FileField):
            return self.new_file(value.filename, value.file.read(), value.content_type)
        return value

    def _chat_id_of(self, call: Call) -> int | None:
        if call.method == "answerCallbackQuery":
            record = self._callbacks.get(call.params.get("callback_query_id", ""))
            return record.chat_id if record else None
        chat_id = call.params.get("chat_id")
        if call.method in COMMANDS_METHODS:  # a chat's menu is about that chat
            scope = call.params.get("scope")
            chat_id = scope.get("chat_id") if isinstance(scope, dict) else None
        chat = self._lookup(chat_id)
        if chat is not None:
            return chat.id
        return chat_id if isinstance(chat_id, int) else None

    async def _execute(self, spec: MethodSpec, call: Call, request: web.Request) -> Any:
        p = call.params
        self.deprecated_params += [f"{spec.name}: {name}" for name in DEPRECATED_PARAMS if name in p]
        self._check_required(spec, p)
        self._validate(spec.name, p)
        if spec.name == "getUpdates":
            return await self._get_updates(p, request)
        for fault in self._faults:
            if fault.chat_id in (None, call.chat_id) and fault.method in (None, spec.name):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                raise fault.error()
        rate_limited = spec.name in RATE_LIMITED and call.chat_id is not None
        if rate_limited:
            self._check_rate(call.chat_id)
        handler = HANDLERS.get(spec.name)
        if handler is None and spec.returns != ("Boolean",):
            raise invalid(f"method {spec.name} is not emulated by FakeTelegram")
        result = handler(self, p) if handler else True
        if rate_limited:
            self._record_send(call.chat_id)
            for lost in self._lost_replies:
                if lost.chat_id == call.chat_id:
                    lost.times -= 1
                    if lost.times <= 0:
                        self._lost_replies.remove(lost)
                    raise lost.error()
        return result

    def _check_required(self, spec: MethodSpec, p: dict[str, Any]) -> None:
        if spec.name in TEXT_METHODS and "text" not in p and "rich_message" not in p:
            raise invalid("message text is empty")  # aiogram drops empty strings, so "" arrives as missing
        for name in spec.required:
            if name not in p:
                raise invalid(f"{name} is required")

    def _validate(self, method: str, p: dict[str, Any]) -> None:
        if method in TEXT_METHODS and "text" in p:
            check_text(p)
        if "caption" in p:
            check_caption(p)
        if "reply_markup" in p:
            check_reply_markup(p["reply_markup"])
        if method == "setMyCommands":
            check_commands(p["commands"])
        if method == "answerCallbackQuery" and len(p.get("text") or "") > CALLBACK_ANSWER_MAX:
            raise invalid("MESSAGE_TOO_LONG")
        if method in BOT_TEXT_LIMITS:
            name, limit = BOT_TEXT_LIMITS[method]
            if len(p.get(name) or "") > limit:
                raise invalid(f"{name} is too long")

    def _check_rate(self, chat_id: int) -> None:
        if not self.enforce_rate_limits:
            return
        chat = self.chats.get(chat_id)
        wait = self._limiter.retry_after(chat_id, bool(chat and chat.is_group), self.now())
        if wait is not None:
            self.stats.rejected_429 += 1
            raise ApiError(429, f"Too Many Requests: retry after {wait}", retry_after=wait)

    def _record_send(self, chat_id: int) -> None:
        chat = self.chats.get(chat_id)
        self._limiter.record(chat_id, bool(chat and chat.is_group), self.now())
        self.stats.sent += 1

    async def _download(self, request: web.Request) -> web.Response:
        file = self.files.get(request.match_info["path"].rsplit("/", 1)[-1])
        if request.match_info["token"] != self.token or file is None:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        return web.Response(body=file.content, content_type=file.mime_type or "application/octet-stream")

    # chats as the bot sees them

    def _lookup(self, chat_id: Any) -> FakeChat | None:
        if isinstance(chat_id, int):
            return self.chats.get(chat_id)
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            name = chat_id[1:].lower()
            return next((c for c in self.chats.values() if (c.username or "").lower() == name), None)
        return None

    def _chat(self, chat_id: Any) -> FakeChat:
        chat = self._lookup(chat_id)
        if chat is not None and not chat.known and chat.id in self._seen_users:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        if chat is None or not chat.known:
            raise refused("chat not found")
        if chat.migrated_to:
            raise ApiError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                           migrate_to_chat_id=chat.migrated_to)
        return chat

    def _writable_chat(self, chat_id: Any) -> FakeChat:
        chat = self._chat(chat_id)
        if chat.bot_status == "kicked":
            raise ApiError(403, BLOCKED[chat.type])
        if chat.bot_status == "left":
            raise ApiError(403, f"Forbidden: bot is not a member of the {chat.type} chat")
        return chat

    def _reply_target(self, chat: FakeChat, p: dict[str, Any]) -> StoredMessage | None:
        reply = p.get("reply_parameters") or {}
        if "reply_to_message_id" in p:
            reply = {"message_id": p["reply_to_message_id"],
                     "allow_sending_without_reply": p.get("allow_sending_without_reply", False)}
        if not reply:
            return None
        target = chat.live_message(reply.get("message_id"))
        if target is None and not reply.get("allow_sending_without_reply"):
            raise refused("message to be replied not found")
        return target

    def _post(self, chat: FakeChat, p: dict[str, Any], key: str, **content: Any) -> StoredMessage:
        """Store a message from the bot; `key` names the formatted field: text or caption."""
        text, entities = formatted(p, key)
        content[key] = text if key == "text" else text or None
        if key == "text":
            content["link_preview_options"] = link_preview_shown(p)
        return self.add_message(
            chat, self.bot_user, entities=entities, source=p.get(key), parse_mode=p.get("parse_mode"),
            reply_markup=normal_markup(p.get("reply_markup")), reply_to=self._reply_target(chat, p),
            **content)

    def _input_file(self, value: Any) -> FakeFile:
        if isinstance(value, FakeFile):
            return value
        if isinstance(value, str) and value in self.files:
            return self.files[value]
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            return self.new_file(value.rsplit("/", 1)[-1], b"")
        raise refused("wrong file identifier/HTTP URL specified")

    def _editable(self, p: dict[str, Any]) -> StoredMessage:
        if "inline_message_id" in p:
            raise invalid("inline messages are not emulated by FakeTelegram")
        if "chat_id" not in p or "message_id" not in p:
            raise invalid("message identifier is not specified")
        message = self._writable_chat(p["chat_id"]).live_message(p["message_id"])
        if message is None:
            raise refused("message to edit not found")
        if not message.by_bot:
            raise refused("message can't be edited")
        return message

    def _apply_edit(self, message: StoredMessage, source: str | None = None,
                    preview: dict[str, Any] | None = None, **content: Any) -> dict[str, Any]:
        """Replace what is shown; the markup source of the text and the preview options do not count as content."""
        content["reply_markup"] = normal_markup(content["reply_markup"])
        if all(getattr(message, key) == value for key, value in content.items()):
            raise refused(NOT_MODIFIED)
        message.history.append(replace(message, history=[]))
        for key, value in content.items():
            setattr(message, key, value)
        message.source = source if source is not None else message.source
        message.link_preview_options = preview if preview is not None else message.link_preview_options
        message.edit_date = int(self.now())
        return message.to_dict()

    def _member(self, chat: FakeChat, user_id: Any) -> dict[str, Any]:
        if user_id == BOT_ID:
            return member_dict(self.bot_user, chat.bot_status)
        if chat.user is not None:
            if user_id != chat.id:
                raise refused("user not found")
            return member_dict(chat.user, "member")
        if user_id in chat.members:
            return member_dict(chat.members[user_id].user, chat.members[user_id].status)
        if user_id in self.users:
            return member_dict(self.users[user_id], "left")
        raise refused("user not found")

    # getUpdates

    async def _get_updates(self, p: dict[str, Any], request: web.Request) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first", violation=True)
        self._confirm(p.get("offset", 0))
        if "allowed_updates" in p:
            self.allowed_updates = set(p["allowed_updates"]) or update_kinds() - DEFAULT_EXCLUDED_UPDATES
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # wakes an older long poll so it can see it was superseded
        if not self._updates and p.get("timeout", 0) > 0:
            self.open_polls += 1
            try:
                await self.wait_until(lambda: bool(self._updates) or self._closing
                                      or self._poll_generation != generation, p["timeout"])
            finally:
                self.open_polls -= 1
                self._notify()
        if self._poll_generation != generation:
            if request.transport is not None and not request.transport.is_closing():
                raise ApiError(409, "Conflict: terminated by other getUpdates request; make sure that only "
                                    "one bot instance is running", violation=True)
            return []  # the client is gone, e.g. a stopped dispatcher
        if self._closing:
            return []
        limit = min(max(p.get("limit", UPDATES_LIMIT_MAX), 1), UPDATES_LIMIT_MAX)
        batch = list(itertools.islice(self._updates, limit))
        if batch:
            self.fetched_update_id = max(self.fetched_update_id, batch[-1]["update_id"])
        return batch

    def _confirm(self, offset: int) -> None:
        """Updates below a positive offset are confirmed; a negative one keeps only the last -offset."""
        if offset > 0:
            while self._updates and self._updates[0]["update_id"] < offset:
                self._updates.popleft()
            self.confirmed_update_id = max(self.confirmed_update_id, offset - 1)
        elif offset < 0:
            while len(self._updates) > -offset:
                self.confirmed_update_id = self._updates.popleft()["update_id"]

    # methods

    @api("getMe")
    def _get_me(self, p: dict[str, Any]) -> dict[str, Any]:
        return {**self.bot_user, "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False}

    @api("setWebhook")
    def _set_webhook(self, p: dict[str, Any]) -> bool:
        self.webhook_url = p["url"]
        return True

    @api("deleteWebhook")
    def _delete_webhook(self, p: dict[str, Any]) -> bool:
        self.webhook_url = ""
        if p.get("drop_pending_updates"):
            self._updates.clear()
        return True

    @api("getWebhookInfo")
    def _get_webhook_info(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"url": self.webhook_url, "has_custom_certificate": False,
                "pending_update_count": len(self._updates)}

    def _scope(self, scope: Any) -> ScopeKey:
        """The BotCommandScope of a *MyCommands call, checked as Telegram does: a known type with the fields the
        spec requires for it, a chat the bot has access to, a member Telegram knows. (The wording of the 400s
        for a malformed scope is the fake's own; "chat not found" and "user not found" are Telegram's.)"""
        if scope is None:
            return DEFAULT_SCOPE
        if not isinstance(scope, dict) or scope.get("type") not in command_scopes():
            raise invalid(f"can't parse BotCommandScope JSON object: unknown scope type {scope!r}")
        kind = scope["type"]
        for name in command_scopes()[kind]:
            if name not in scope:
                raise invalid(f"{name} is required in a {kind} scope")
        if kind in GENERAL_SCOPES:
            return kind, None, None
        chat = self._lookup(scope["chat_id"])
        if chat is None or not chat.known:
            raise refused("chat not found")
        if chat.migrated_to:
            raise ApiError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                           migrate_to_chat_id=chat.migrated_to)
        if kind == "chat":
            return kind, chat.id, None
        if not chat.is_group:
            raise invalid(f"a {kind} scope covers a group or supergroup chat, not a private one")
        if kind == "chat_administrators":
            return kind, chat.id, None
        if not isinstance(scope["user_id"], int):
            raise invalid("can't parse user_id in the chat_member scope")
        self._member(chat, scope["user_id"])  # "user not found" for someone Telegram does not know
        return kind, chat.id, scope["user_id"]

    def _commands_key(self, p: dict[str, Any]) -> tuple[ScopeKey, str]:
        return self._scope(p.get("scope")), p.get("language_code") or ""

    @api("setMyCommands")
    def _set_my_commands(self, p: dict[str, Any]) -> bool:
        key = self._commands_key(p)
        if p["commands"]:
            self.commands[key] = p["commands"]
        else:  # an empty list takes the scope's list away, as deleteMyCommands does
            self.commands.pop(key, None)
        return True

    @api("deleteMyCommands")
    def _delete_my_commands(self, p: dict[str, Any]) -> bool:
        self.commands.pop(self._commands_key(p), None)
        return True

    @api("getMyCommands")
    def _get_my_commands(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        return self.commands.get(self._commands_key(p), [])

    def _set_bot_text(self, kind: str, p: dict[str, Any]) -> bool:
        self.bot_texts[kind, p.get("language_code") or ""] = p.get(kind) or ""
        return True

    def _get_bot_text(self, kind: str, p: dict[str, Any]) -> dict[str, str]:
        return {kind: self.bot_texts.get((kind, p.get("language_code") or ""), "")}

    @api("setMyName")
    def _set_my_name(self, p: dict[str, Any]) -> bool:
        return self._set_bot_text("name", p)

    @api("getMyName")
    def _get_my_name(self, p: dict[str, Any]) -> dict[str, str]:
        return self._get_bot_text("name", p)

    @api("setMyDescription")
    def _set_my_description(self, p: dict[str, Any]) -> bool:
        return self._set_bot_text("description", p)

    @api("getMyDescription")
    def _get_my_description(self, p: dict[str, Any]) -> dict[str, str]:
        return self._get_bot_text("description", p)

    @api("setMyShortDescription")
    def _set_my_short_description(self, p: dict[str, Any]) -> bool:
        return self._set_bot_text("short_description", p)

    @api("getMyShortDescription")
    def _get_my_short_description(self, p: dict[str, Any]) -> dict[str, str]:
        return self._get_bot_text("short_description", p)

    @api("setChatMenuButton")
    def _set_chat_menu_button(self, p: dict[str, Any]) -> bool:
        self.menu_buttons[p.get("chat_id")] = p.get("menu_button") or {"type": "default"}
        return True

    @api("getChatMenuButton")
    def _get_chat_menu_button(self, p: dict[str, Any]) -> dict[str, Any]:
        return self.menu_buttons.get(p.get("chat_id"), self.menu_buttons.get(None, {"type": "default"}))

    @api("sendChatAction")
    def _send_chat_action(self, p: dict[str, Any]) -> bool:
        self._writable_chat(p["chat_id"])
        return True

    @api("answerCallbackQuery")
    def _answer_callback_query(self, p: dict[str, Any]) -> bool:
        record = self._callbacks.get(p["callback_query_id"])
        if record is None or record.answered:
            raise refused(QUERY_TOO_OLD)
        record.answered = True
        return True

    @api("leaveChat")
    def _leave_chat(self, p: dict[str, Any]) -> bool:
        chat = self._writable_chat(p["chat_id"])
        if not chat.is_group:
            raise refused("chat member status can't be changed in private chats")
        chat.bot_status = "left"
        return True

    @api("sendMessage")
    def _send_message(self, p: dict[str, Any]) -> dict[str, Any]:
        return self._post(self._writable_chat(p["chat_id"]), p, "text").to_dict()

    @api("sendPhoto")
    def _send_photo(self, p: dict[str, Any]) -> dict[str, Any]:
        chat = self._writable_chat(p["chat_id"])
        photo = self._input_file(p["photo"])
        return self._post(chat, p, "caption", extra={"photo": photo.as_photo()}).to_dict()

    @api("sendDocument")
    def _send_document(self, p: dict[str, Any]) -> dict[str, Any]:
        chat = self._writable_chat(p["chat_id"])
        document = self._input_file(p["document"])
        return self._post(chat, p, "caption", extra={"document": document.as_document()}).to_dict()

    @api("copyMessage")
    def _copy_message(self, p: dict[str, Any]) -> dict[str, int]:
        chat = self._writable_chat(p["chat_id"])
        original = self._chat(p["from_chat_id"]).live_message(p["message_id"])
        if original is None:
            raise refused("message to copy not found")
        if original.is_service:
            raise refused("message can't be copied")
        media = {key: value for key, value in original.extra.items() if key in MEDIA_FIELDS}
        if original.text is not None:
            copy_params = {**p, "text": original.text, "entities": original.entities, "parse_mode": None}
            return {"message_id": self._post(chat, copy_params, "text").message_id}
        if "caption" not in p:
            p = {**p, "caption": original.caption, "caption_entities": original.entities, "parse_mode": None}
        return {"message_id": self._post(chat, p, "caption", extra=media).message_id}

    @api("editMessageText")
    def _edit_message_text(self, p: dict[str, Any]) -> dict[str, Any]:
        message = self._editable(p)
        if message.text is None:
            raise refused("there is no text in the message to edit")
        text, entities = formatted(p, "text")
        preview = link_preview_shown(p)
        return self._apply_edit(message, text=text, entities=entities, source=p["text"],
                                preview=preview or message.link_preview_options,  # omitted: the old ones stay
                                reply_markup=p.get("reply_markup"))  # omitting the markup removes it

    @api("editMessageCaption")
    def _edit_message_caption(self, p: dict[str, Any]) -> dict[str, Any]:
        message = self._editable(p)
        if message.text is not None:
            raise refused("there is no caption in the message to edit")
        caption, entities = formatted(p, "caption")
        return self._apply_edit(message, caption=caption or None, entities=entities, source=p.get("caption"),
                                reply_markup=p.get("reply_markup"))

    @api("editMessageReplyMarkup")
    def _edit_message_reply_markup(self, p: dict[str, Any]) -> dict[str, Any]:
        return self._apply_edit(self._editable(p), reply_markup=p.get("reply_markup"))

    @api("deleteMessage")
    def _delete_message(self, p: dict[str, Any]) -> bool:
        chat = self._writable_chat(p["chat_id"])
        message = chat.live_message(p["message_id"])
        if message is None:
            raise refused("message to delete not found")
        may_delete_others = chat.type == "private" or chat.bot_status == "administrator"
        if (not message.by_bot and not may_delete_others) or self.now() - message.date > DELETE_AGE_MAX:
            raise refused("message can't be deleted")
        message.deleted = True
        return True

    @api("getChat")
    def _get_chat(self, p: dict[str, Any]) -> dict[str, Any]:
        return self._chat(p["chat_id"]).full_info()

    @api("getChatMember")
    def _get_chat_member(self, p: dict[str, Any]) -> dict[str, Any]:
        return self._member(self._chat(p["chat_id"]), p["user_id"])

    @api("getChatAdministrators")
    def _get_chat_administrators(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        chat = self._chat(p["chat_id"])
        if not chat.is_group:
            raise refused("there are no administrators in the private chat")
        admins = [member_dict(m.user, m.status) for m in chat.members.values()
                  if m.status in ("creator", "administrator")]
        if chat.bot_status == "administrator":
            admins.append(member_dict(self.bot_user, "administrator"))
        return admins

    @api("getChatMemberCount")
    def _get_chat_member_count(self, p: dict[str, Any]) -> int:
        chat = self._chat(p["chat_id"])
        if not chat.is_group:
            return 2
        present = ("creator", "administrator", "member", "restricted")
        return sum(m.status in present for m in chat.members.values()) + (chat.bot_status in present)

    @api("getFile")
    def _get_file(self, p: dict[str, Any]) -> dict[str, Any]:
        file = self.files.get(p["file_id"])
        if file is None:
            raise refused("invalid file_id")
        return {"file_id": file.file_id, "file_unique_id": file.file_unique_id,
                "file_size": len(file.content), "file_path": f"documents/{file.file_id}"}
