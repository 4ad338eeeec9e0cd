"""Bad-input fuzzing: thousands of random actions from several people at once, through the real bot.

A seeded generator plays texts (empty-ish, zero-width-only, 10,000 characters, RTL and bidi overrides, emoji,
HTML- and SQL-like, numbers Python's int() misreads such as "²", "٣", "１２", "-0", "1e3", 99999999999999999999),
stickers, photos,
documents, voice, commands in the middle of conversations, presses of the bot's buttons (current and stale),
forged callback data (other workspaces' ids packed with the real factories, their number fields respelt with the
numbers above, garbage, exactly 64 bytes), deep
links with bad tokens, edits, group commands, and presses in a group the bot was removed from.

What must hold afterwards:
- nothing unhandled: the `running_bot` fixture fails on any ERROR line, the `telegram` fixture on any Bot API
  violation;
- every private message and button press was answered: each such update made, while it was being handled, at
  least one visible call to that chat (a message, or an edit; "not modified" counts, the screen already shows it)
  and every button press got its answerCallbackQuery. Calls are attributed to updates exactly, by a context
  variable set around each update's handling and read by a request middleware (no timing guesses);
- `PRAGMA integrity_check` is ok;
- no workspace's partner or workspace name reached a private chat of anyone who never belonged to it.

Reproduce a run with `FUZZ_SEED=<seed printed on failure> .venv/bin/pytest tests/e2e/test_fuzz.py`.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import string
from collections import Counter
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import pytest
from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramAPIError
from aiogram.filters.callback_data import CallbackData
from aiogram.methods import TelegramMethod
from aiogram.types import TelegramObject, Update

from bot.domain.campaigns import EventKind
from bot.domain.evidence import ConversationSignal
from bot.domain.gutcheck import GutQuestion
from bot.keyboards.callbacks import (
    EvidenceAction,
    EvidenceCallback,
    LanguageChoice,
    MenuAction,
    MenuCallback,
    PartnerAction,
    PartnerCallback,
    SignalCallback,
)
from bot.keyboards.checkin_callbacks import AwayCallback, SetupCallback, SetupStep
from bot.keyboards.reference_callbacks import ReferenceAction, ReferenceCallback, ReferenceLanguage
from bot.storage.invites import InviteRepo
from tests.e2e.conftest import LogCapture, RunningBot, seed_from_env
from tests.e2e.fake_telegram import BOT_USERNAME, FakeTelegram, StoredMessage
from tests.e2e.people import Group, PrivateUser, push_callback
from tests.e2e.spec_updates import TRICKY_NUMBERS

FUZZ_ACTIONS = 2000  # random actions in one run, spread over the people below
WAIT_SHARE = 0.45  # how often a person waits for the bot before acting again (else fires and moves on)
DRAIN_TIMEOUT = 60.0  # seconds the bot may take to handle the backlog after the last action
CALLBACK_DATA_MAX_BYTES = 64

# Messages and edits a person sees; failed requests count only when the screen already shows the content.
VISIBLE = frozenset({"sendMessage", "sendPhoto", "sendDocument", "sendSticker", "sendVoice", "sendVideo",
                     "sendAnimation", "copyMessage", "editMessageText", "editMessageCaption",
                     "editMessageReplyMarkup"})
PRODUCT_COMMANDS = ("start", "help", "language", "cancel", "newpartner", "partners", "log", "stats", "report",
                    "team", "export", "mydata", "deletemydata", "checkin", "digest", "away")

TEXTS = (
    "\u200b", "\u3164", ".", "-", "ok", "да", "No", "0", "-1", "1", "3", "5", "6", "42", "3.5", "1e309",
    "999999999999999999999999999999", "2026-02-30", "31.12.2026", "tomorrow", "завтра",
    "x" * 10_000, "Я" * 10_000, "a\n" * 3000, "🙂" * 2500,
    "مرحبا بالعالم", "שלום עולם \u202eevil\u202c", "\u200f\u200e mixed RTL ltr",
    "👍🏽🇷🇺🇺🇸👨‍👩‍👧‍👦", "Z̴̡̛̛a̷̡͘l̶̨̛g̴o̵", "<b>x</i>", "<script>alert(1)</script>", "&amp; &lt; & &#0; &#xD800;",
    "</b></i><a href='javascript:alert(1)'>x</a>", "'; DROP TABLE partners;--", "1; DELETE FROM workspaces",
    "\" OR 1=1 --", "%s %d {0} {name} {{}}", "$(rm -rf /)", "../../etc/passwd", "NULL", "None", "true",
    "https://example.com/case", "http://", "javascript:alert(1)", "example.com", "t.me/joinchat/xyz",
    "@someone", "#tag", "/", "//", "/ start", "\t\ttabs\t", "line1\nline2\n\nline4",
    "Nord Creators", "Агентство «Север»", "  spaced   name  ",
    *TRICKY_NUMBERS, "\u200b\u200d\u2060", "\u3164\u115f", "\ufeff\u00ad", "Evil\u202eoC", "👩\u200d💻",
)
FILE_NAMES = ("report.pdf", "отчёт.docx", "../../etc/passwd", "a" * 200 + ".csv", "noext", ".hidden", "x.exe")
DEEP_LINKS = (
    "ref_", "ref_x", "ref_" + "a" * 60, "ref_../../", "ref_' OR 1=1", "join_", "join_abc", "join_" + "Z" * 60,
    "join_" + "a" * 61, "join_кириллица", "ci_", "ci_short", "ci_" + "b" * 64, "ci_" + "c" * 65, "ci_<b>x</b>",
    "garbage", "start", "ref", "REF_abc", "x" * 64,
)

FUZZ_UPDATE: ContextVar[int | None] = ContextVar("fuzz_update", default=None)


@dataclass
class Request:
    update_id: int | None
    method: str
    chat_id: Any
    texts: list[str]
    ok: bool = False
    error: str = ""

    @property
    def shown(self) -> bool:
        """The person sees this: it went through, or the screen already showed exactly this."""
        return self.ok or "not modified" in self.error


@dataclass
class Pushed:
    update_id: int
    kind: str  # private_message, private_callback, private_edit, group, group_gone
    chat_id: int
    what: str


class Recorder:
    """Which update is being handled (an outer update middleware) and every call the bot makes, with the update
    that made it (a request middleware)."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.done: set[int] = set()
        self._changed = asyncio.Event()

    def install(self, bot: Bot, dispatcher: Any) -> None:
        bot.session.middleware(RequestLog(self))
        dispatcher.update.outer_middleware(UpdateMark(self))

    def finished(self, update_id: int) -> None:
        self.done.add(update_id)
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_done(self, update_ids: set[int], timeout: float) -> set[int]:
        """Wait until all these updates were handled; returns those that were not."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not update_ids <= self.done and loop.time() < deadline:
            changed = self._changed
            try:
                await asyncio.wait_for(changed.wait(), max(deadline - loop.time(), 0.01))
            except TimeoutError:
                break
        return update_ids - self.done


class UpdateMark(BaseMiddleware):
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        # Not reset on the way out: the global error handler answers after this returns, in the same task
        # (each update has its own task), and its notice belongs to this update too.
        FUZZ_UPDATE.set(event.update_id)
        try:
            return await handler(event, data)
        finally:
            self.recorder.finished(event.update_id)


class RequestLog(BaseRequestMiddleware):
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    async def __call__(self, make_request: NextRequestMiddlewareType[Any], bot: Bot,
                       method: TelegramMethod[Any]) -> Any:
        if method.__api_method__ == "getUpdates":
            return await make_request(bot, method)
        entry = Request(FUZZ_UPDATE.get(), method.__api_method__, getattr(method, "chat_id", None), texts_of(method))
        self.recorder.requests.append(entry)
        try:
            result = await make_request(bot, method)
        except TelegramAPIError as error:
            entry.error = error.message
            raise
        except BaseException as error:
            entry.error = f"{type(error).__name__}: {error}"
            raise
        entry.ok = True
        return result


def texts_of(method: TelegramMethod[Any]) -> list[str]:
    texts = [value for key in ("text", "caption") if isinstance(value := getattr(method, key, None), str)]
    markup = getattr(method, "reply_markup", None)
    for row in getattr(markup, "inline_keyboard", None) or []:
        texts.extend(button.text for button in row)
    return texts


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


@dataclass
class Person:
    user: PrivateUser
    workspace: str | None  # the name of the workspace they start in (unique), None for the outsider
    groups: list[Group] = field(default_factory=list)


@dataclass
class World:
    telegram: FakeTelegram
    rng: random.Random
    recorder: Recorder
    people: list[Person]
    partner_ids: list[int]
    campaign_ids: list[int]
    user_ids: list[int]
    commands: list[str]
    live_group: Group
    gone_group: Group
    pushed: list[Pushed] = field(default_factory=list)
    actions: Counter[str] = field(default_factory=Counter)


async def seed_partners(running_bot: RunningBot, workspace_id: int, names: list[str]) -> list[int]:
    now = running_bot.clock.now().isoformat()
    ids = []
    for name in names:
        ids.append(await running_bot.app.db.execute(  # type: ignore[union-attr]
            "INSERT INTO partners (workspace_id, name, name_key, kind, markets, created_at, updated_at) "
            "VALUES (?, ?, ?, 'agency', 'both', ?, ?)",
            (workspace_id, name, name.casefold(), now, now),
        ))
    return ids


async def workspace_of(running_bot: RunningBot, user_id: int) -> int:
    rows = await running_bot.query("SELECT current_workspace_id FROM users WHERE id = ?", (user_id,))
    assert rows and rows[0][0], f"user {user_id} has no workspace after onboarding"
    return rows[0][0]


async def build_world(telegram: FakeTelegram, running_bot: RunningBot, rng: random.Random,
                      recorder: Recorder) -> tuple[World, dict[str, set[str]]]:
    """Three workspaces (two with a teammate), an outsider, partners with unique names, a live group and a group
    the bot was removed from. Returns the world and, per workspace name, the names only its members may see."""
    a1, a2 = telegram.private_user("Alice", "en"), telegram.private_user("Антон", "ru")
    b1, b2 = telegram.private_user("Борис", "ru"), telegram.private_user("Bella", "en")
    c1, outsider = telegram.private_user("Carl", None), telegram.private_user("Olá", "pt-br")
    owners = {unique("WS-A"): a1, unique("WS-B"): b1, unique("WS-C"): c1}
    secrets_by_workspace: dict[str, set[str]] = {}
    partner_ids: list[int] = []
    inviter = InviteRepo(running_bot.app.db)  # type: ignore[union-attr]
    for name, owner in owners.items():
        await owner.start()
        await owner.send(name)
        workspace_id = await workspace_of(running_bot, owner.id)
        partners = [unique(f"Partner-{name[3]}{i}") for i in range(4)]
        partner_ids += await seed_partners(running_bot, workspace_id, partners)
        secrets_by_workspace[name] = {name, *partners}
    ws_a, ws_b, _ = owners
    for teammate, owner in ((a2, a1), (b2, b1)):
        token, _expires = await inviter.create(await workspace_of(running_bot, owner.id), owner.id,
                                               running_bot.clock.now())
        joined = await teammate.start(f"join_{token}")
        assert joined.text, "the invite link was not answered"
    people = [Person(a1, ws_a), Person(a2, ws_a), Person(b1, ws_b), Person(b2, ws_b), Person(c1, list(owners)[2]),
              Person(outsider, None)]

    live = telegram.group(unique("Fuzz live"), language_code="en")
    for person, status in ((people[0], "creator"), (people[1], "administrator"), (people[2], "member")):
        live.add_member(person.user, status)
        person.groups.append(live)
    await live.add_bot(a1, wait=False)
    gone = telegram.group(unique("Fuzz gone"), language_code="ru")
    gone.add_member(c1, "creator")
    people[4].groups.append(gone)
    await gone.add_bot(c1)
    await gone.send(c1, "/checkin")  # leaves a message with buttons behind
    await gone.send(c1, "/away")
    await gone.remove_bot(c1)

    commands = sorted({c["command"] for lists in telegram.commands.values() for c in lists} | set(PRODUCT_COMMANDS))
    world = World(telegram, rng, recorder, people, partner_ids, [1, 2, 3, 10**6],
                  [p.user.id for p in people], commands, live, gone)
    return world, secrets_by_workspace


# ---- the actions ---------------------------------------------------------------------------------------


def random_text(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.75:
        return rng.choice(TEXTS)
    if roll < 0.9:
        alphabet = string.printable + "абвгдеёжзЯЮЭ漢字한글🙂👍\u0301\u200d"
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 300))).strip() or "?"
    return rng.choice(TEXTS) + " " + rng.choice(TEXTS)


def random_command(world: World) -> str:
    rng = world.rng
    name = rng.choice([*world.commands, "foo", "START", "Partners", "newpartner_x", "a" * 32])
    command = f"/{name}"
    roll = rng.random()
    if roll < 0.15:
        command += f"@{BOT_USERNAME}"
    elif roll < 0.2:
        command += "@other_bot"
    if rng.random() < 0.2:
        command += " " + random_text(rng)[:200]
    return command


@dataclass(frozen=True)
class ForgedDialogPress:
    """A dialog button's data (aiogram-dialog: intent id, a separator, the widget's id and item) for no open dialog."""

    intent_id: str
    widget_id: str
    item: str

    def pack(self) -> str:
        return f"{self.intent_id}\x1d{self.widget_id}:{self.item}"


def enum_choice(rng: random.Random, enum: type[Enum]) -> Any:
    return rng.choice(list(enum))


def forged_callback(world: World) -> str:
    """Real factories with ids from anywhere (mostly another workspace's), or garbage up to exactly 64 bytes."""
    rng = world.rng
    pid = rng.choice([*world.partner_ids, 0, 10**9, 2**62, 2**63 - 1])
    uid = rng.choice([*world.user_ids, 0, 1])
    value = rng.choice(["y", "n", "1", "5", "0", "-1", "done", "save", "edit", "back", "cancel", "skip", "send", "ru",
                        "us", "both", "x", "99", "7", "Europe/Moscow", "Mars/Olympus",
                        *TRICKY_NUMBERS])
    factories: list[Callable[[], CallbackData | ForgedDialogPress]] = [
        lambda: PartnerCallback(action=enum_choice(rng, PartnerAction), partner_id=pid,
                                page=rng.choice([0, 1, 99, 10**5]), archived=rng.random() < 0.3),
        lambda: EvidenceCallback(action=enum_choice(rng, EvidenceAction), partner_id=pid,
                                 kind=rng.choice(["case", "testimonial", "community", "x", ""]),
                                 item_id=rng.choice([0, 1, 2, 999])),
        lambda: SignalCallback(partner_id=pid, signal=enum_choice(rng, ConversationSignal)),
        lambda: ForgedDialogPress(rng.choice(["gone0003", ""]), rng.choice(["creators", "start", "field"]), value),
        lambda: ReferenceCallback(action=enum_choice(rng, ReferenceAction), partner_id=pid,
                                  link_id=rng.choice([0, 1, 2, 999]), fresh=rng.random() < 0.5),
        lambda: ForgedDialogPress(rng.choice(["gone0002", ""]), rng.choice(["problem", "quality", "decision"]), value),
        lambda: SetupCallback(step=enum_choice(rng, SetupStep), value=value),
        lambda: AwayCallback(weeks=rng.choice([0, 1, 2, 4, 13, 99])),
        lambda: ForgedDialogPress(rng.choice(["gone0003", ""]),
                                  rng.choice(["partner", "page", "day", "time", "zone", "hours", "skip", "no_blockers",
                                              "call_yes"]), value),
        lambda: ForgedDialogPress(rng.choice(["gone0004", ""]),
                                  rng.choice(["duration", "rate_c", "skip_cn", "back_mk", "send", "edit"]), value),
        lambda: ReferenceLanguage(locale=rng.choice(["en", "ru", "de", "xx"])),
        lambda: LanguageChoice(locale=rng.choice(["en", "ru", "de", "zz"])),
        lambda: MenuCallback(action=enum_choice(rng, MenuAction)),
        lambda: ForgedDialogPress(rng.choice(["gone0001", ""]), rng.choice(["kind", "markets", "skip", "add"]), value),
        lambda: ForgedDialogPress(rng.choice(["gone0002", ""]), rng.choice(["event0", "event7", "card", "done"]),
                                  rng.choice([value, enum_choice(rng, EventKind).value])),
        lambda: ForgedDialogPress(  # the gut check's and the scorecard's buttons: "question.y", "index.rating"
            rng.choice(["gone0001", ""]), rng.choice(["gut", "rate", "back", "skip"]),
            rng.choice([f"{enum_choice(rng, GutQuestion).value}.{rng.choice('yn')}",
                        f"{rng.choice([-1, 0, 3, 8, 9, 99])}.{rng.choice([0, 1, 5, 6, 100])}", value]),
        ),
        lambda: ForgedDialogPress(rng.choice(["gone0002", ""]), rng.choice(["markets", "outcomes", "skip"]), value),
        lambda: ForgedDialogPress(rng.choice(["gone0001", ""]), rng.choice(["remove", "invite", "yes", "no"]),
                                  str(uid)),
    ]
    roll = rng.random()
    if roll < 0.7:
        try:
            data = rng.choice(factories)().pack()
        except ValueError:  # longer than 64 bytes, or a separator in a value
            data = "pt1:o:1"
    elif roll < 0.8:
        data = rng.choice(["pt1:o:" + "9" * 58, "A" * 64, "gc1:" + "1" * 60, "ё" * 32, "x" * 63 + "1"])
    else:
        prefix = rng.choice(["pt1", "gc1", "sc1", "ev1", "cp1", "tm1", "rq1", "cs1", "aw1", "zz9", ""])
        tail = "".join(rng.choice(string.ascii_letters + string.digits + ":-_/") for _ in range(rng.randint(0, 60)))
        data = f"{prefix}:{tail}"
    if rng.random() < 0.3:  # a number field of real data spelt as a modified client could (issue 14)
        parts = data.split(":")
        numeric = [i for i, part in enumerate(parts) if i and part.lstrip("-").isascii() and part.lstrip("-").isdigit()]
        if numeric:
            parts[rng.choice(numeric)] = rng.choice([*TRICKY_NUMBERS, "-1", "-3"])
            data = ":".join(parts)
    data = data.encode()[:CALLBACK_DATA_MAX_BYTES].decode(errors="ignore") or "x"
    assert 1 <= len(data.encode()) <= CALLBACK_DATA_MAX_BYTES
    return data


def buttons_of(messages: list[StoredMessage], stale: bool) -> list[tuple[StoredMessage, str]]:
    """(message, callback data) of the current keyboards, or of keyboards an edit has since replaced."""
    found = []
    for message in messages:
        versions = message.history if stale else [message]
        for version in versions:
            for _text, data in version.buttons:
                if data and not data.startswith(("http://", "https://", "tg://")):
                    found.append((message, data))
    return found


def record(world: World, update_id: int | None, kind: str, chat_id: int, what: str) -> int | None:
    if update_id is not None:
        world.pushed.append(Pushed(update_id, kind, chat_id, what))
    return update_id


async def private_action(world: World, person: Person) -> int | None:
    rng, user = world.rng, person.user
    roll = rng.random()
    if roll < 0.24:
        text = random_text(rng)
        return record(world, (await user.send(text, wait=False)).update_id, "private_message", user.id,
                      f"text {text[:40]!r}")
    if roll < 0.36:
        command = random_command(world)
        return record(world, (await user.send(command, wait=False)).update_id, "private_message", user.id, command)
    if roll < 0.41:
        link = rng.choice(DEEP_LINKS)
        return record(world, (await user.start(link, wait=False)).update_id, "private_message", user.id,
                      f"/start {link}")
    if roll < 0.49:
        media = rng.choice(["sticker", "photo", "document", "voice"])
        if media == "sticker":
            reaction = await user.send_sticker(wait=False)
        elif media == "photo":
            reaction = await user.send_photo(rng.choice([None, random_text(rng)[:1000]]), wait=False)
        elif media == "document":
            reaction = await user.send_document(rng.choice(FILE_NAMES), wait=False)
        else:
            reaction = await user.send_voice(wait=False)
        return record(world, reaction.update_id, "private_message", user.id, media)
    if roll < 0.51:
        own = [m for m in user.chat.messages.values() if m.sender.get("id") == user.id and m.text is not None]
        if own:
            target = rng.choice(own[-5:])
            text = random_text(rng)
            return record(world, (await user.edit(target.message_id, text, wait=False)).update_id, "private_edit",
                          user.id, f"edit {text[:40]!r}")
    messages = user.messages()
    if roll < 0.78:
        current = buttons_of(messages[-4:], stale=False)
        if current:
            message, data = rng.choice(current)
            return record(world, push_callback(world.telegram, user.chat, user.user, message, data),
                          "private_callback", user.id, f"press {data}")
    if roll < 0.86:
        old = buttons_of(messages, stale=True) + buttons_of(messages[:-4], stale=False)
        if old:
            message, data = rng.choice(old)
            return record(world, push_callback(world.telegram, user.chat, user.user, message, data),
                          "private_callback", user.id, f"stale {data}")
    if messages:
        data = forged_callback(world)
        message = rng.choice(messages)
        return record(world, push_callback(world.telegram, user.chat, user.user, message, data), "private_callback",
                      user.id, f"forged {data}")
    return record(world, (await user.send("/start", wait=False)).update_id, "private_message", user.id, "/start")


async def group_action(world: World, person: Person, group: Group) -> int | None:
    rng, telegram = world.rng, world.telegram
    kind = "group_gone" if group is world.gone_group else "group"
    roll = rng.random()
    if roll < 0.35:
        text = rng.choice([random_command(world), f"/checkin@{BOT_USERNAME}", "/digest", "/away", "/help",
                           "/language", f"@{BOT_USERNAME} {random_text(rng)[:100]}", random_text(rng)])
        return record(world, (await group.send(person.user, text, wait=False)).update_id, kind, group.id, text[:40])
    bot_messages = group.messages()
    if roll < 0.5 and bot_messages:
        target = rng.choice(bot_messages[-5:])
        text = random_text(rng)
        update = (await group.reply_to(person.user, target.message_id, text, wait=False)).update_id
        return record(world, update, kind, group.id, f"reply {text[:40]!r}")
    if bot_messages:
        pressable = buttons_of(bot_messages, stale=False) + buttons_of(bot_messages, stale=True)
        message, data = rng.choice(pressable) if pressable and roll < 0.85 else (rng.choice(bot_messages),
                                                                                 forged_callback(world))
        update = push_callback(telegram, group.chat, person.user.user, message, data)
        return record(world, update, kind, group.id, f"group press {data}")
    return None


async def play(world: World, person: Person, actions: int) -> None:
    rng = world.rng
    for _ in range(actions):
        if person.groups and rng.random() < 0.08:
            update_id = await group_action(world, person, rng.choice(person.groups))
            world.actions["group"] += 1
        else:
            update_id = await private_action(world, person)
            world.actions["private"] += 1
        if update_id is not None and rng.random() < WAIT_SHARE:
            await world.recorder.wait_done({update_id}, 10)
        else:
            await asyncio.sleep(0)


# ---- the test ------------------------------------------------------------------------------------------


def unanswered(world: World, requests: list[Request]) -> list[str]:
    by_update: dict[int, list[Request]] = {}
    for request in requests:
        if request.update_id is not None:
            by_update.setdefault(request.update_id, []).append(request)
    problems = []
    for pushed in world.pushed:
        if pushed.kind not in ("private_message", "private_callback"):
            continue
        made = by_update.get(pushed.update_id, [])
        shown = [r for r in made if r.method in VISIBLE and r.chat_id == pushed.chat_id and r.shown]
        answered = [r for r in made if r.method == "answerCallbackQuery"]
        popup = [r for r in answered if r.ok and any(r.texts)]  # a stale or forged tap is answered with a pop-up notice
        if pushed.kind == "private_callback" and not answered:
            problems.append(f"update {pushed.update_id} ({pushed.what}): no answerCallbackQuery")
        elif not shown and not popup:
            calls = ", ".join(f"{r.method}:{r.error or 'ok'}" for r in made) or "no calls"
            problems.append(f"update {pushed.update_id} ({pushed.what}): nothing shown ({calls})")
    return problems


async def leaks(world: World, running_bot: RunningBot, secrets_by_workspace: dict[str, set[str]],
                requests: list[Request]) -> list[str]:
    """Names of a workspace in a private chat of someone who never belonged to it."""
    rows = await running_bot.query(
        "SELECT m.user_id, w.name FROM memberships m JOIN workspaces w ON w.id = m.workspace_id")
    belongs: dict[int, set[str]] = {p.user.id: {p.workspace} if p.workspace else set() for p in world.people}
    for user_id, name in rows:
        belongs.setdefault(user_id, set()).add(name)
    problems = []
    for request in requests:
        if request.chat_id not in belongs:
            continue
        text = "\n".join(request.texts)
        for workspace, names in secrets_by_workspace.items():
            if workspace in belongs[request.chat_id]:
                continue
            seen = [name for name in names if name in text]
            if seen:
                problems.append(f"{request.method} to {request.chat_id} (update {request.update_id}) shows {seen} "
                                f"of {workspace}")
    return problems


@pytest.mark.long
async def test_random_input_from_many_people_is_always_answered_and_isolated(
    telegram: FakeTelegram, running_bot: RunningBot, bot_logs: LogCapture
) -> None:
    seed = seed_from_env("FUZZ_SEED", "tests/e2e/test_fuzz.py")
    rng = random.Random(seed)
    telegram.quiet_period = 0.05
    recorder = Recorder()
    app = running_bot.app
    assert app is not None
    recorder.install(app.bot, app.dispatcher)

    world, secrets_by_workspace = await build_world(telegram, running_bot, rng, recorder)
    first_fuzz_request = len(recorder.requests)
    per_person = FUZZ_ACTIONS // len(world.people)
    await asyncio.gather(*(play(world, person, per_person) for person in world.people))

    delivered = {p.update_id for p in world.pushed}
    missing = await recorder.wait_done(delivered, DRAIN_TIMEOUT)
    assert not missing, f"seed={seed}: {len(missing)} updates never handled, e.g. {sorted(missing)[:5]}"
    await asyncio.sleep(0.3)  # anything the last handlers started in the background

    requests = recorder.requests[first_fuzz_request:]
    kinds = Counter(p.kind for p in world.pushed)
    print(f"actions {dict(world.actions)}; delivered updates {dict(kinds)}; bot requests {len(requests)}; "
          f"failed requests {Counter(r.error[:60] for r in requests if not r.ok)}")
    handlers = Counter(line.rpartition("handler=")[2] for line in bot_logs.lines if "handler=" in line)
    print(f"{len(handlers)} handlers reached: {', '.join(f'{h} {n}' for h, n in handlers.most_common())}")
    problems = unanswered(world, requests)
    assert not problems, f"seed={seed}: {len(problems)} private actions unanswered:\n" + "\n".join(problems[:25])
    problems = await leaks(world, running_bot, secrets_by_workspace, recorder.requests)
    assert not problems, f"seed={seed}: records of one workspace shown to another:\n" + "\n".join(problems[:25])
    assert await running_bot.query("PRAGMA integrity_check") == [("ok",)], f"seed={seed}"
    assert len(delivered) >= FUZZ_ACTIONS * 0.9, f"seed={seed}: only {len(delivered)} updates reached the bot"
