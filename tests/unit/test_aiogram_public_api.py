"""aiogram through its public API only: no private attributes read or rewritten, every filter on the event loop,
and each feature router's press check (PressOf) covering every kind of button data its handlers take.

The registrations are seen by wrapping aiogram's public `register` / `filter` methods while `routers()` builds the
routers, so nothing here reads aiogram's internals either.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.filters import Filter
from aiogram.filters.callback_data import CallbackData, CallbackQueryFilter
from aiogram.types import CallbackQuery, Chat, Message, Update, User

from bot.handlers import routers
from bot.handlers.filters import PressOf, Pure
from bot.plumbing.dialogs import DialogPress, EarlierStepPress, OpenDialogPress

BOT_SOURCE = Path(__file__).resolve().parents[2] / "bot"

# What reaching into aiogram looked like (bot/handlers/press_switch.py and inline_filters.py read the observers'
# `_handler`, walked `handlers` and their `filters`, and rewrote `FilterObject.awaitable`).
PRIVATE_ACCESS = [
    (re.compile(r"\b(?!self\b|cls\b)[A-Za-z_]\w*\._[A-Za-z]\w*"), "a private attribute of another object"),
    (re.compile(r"getattr\([^)]*[\"']_[A-Za-z]"), "a private attribute through getattr"),
    (re.compile(r"\.awaitable\b"), "FilterObject/HandlerObject.awaitable"),
    (re.compile(r"\b\w*(?:query|message|member|post|poll|update|errors?|observer)\.handlers\b"),
     "an observer's handler list"),
    (re.compile(r"\bhandlers\["), "an observer's handler list"),
    (re.compile(r"\bhandler\.filters\b"), "a registered handler's filters"),
    (re.compile(r"\b(?:FilterObject|HandlerObject|CallableObject)\b"), "aiogram's handler internals"),
    (re.compile(r"aiogram\.dispatcher\.event\b"), "aiogram's handler internals"),
]


def source_lines() -> Iterator[tuple[str, int, str]]:
    for path in sorted(BOT_SOURCE.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            code = line.split("#", 1)[0]
            yield f"{path.relative_to(BOT_SOURCE.parent)}:{number}", number, code


def test_no_code_in_bot_reaches_into_aiograms_private_parts() -> None:
    found = [
        f"{where}: {why}: {code.strip()}"
        for where, _number, code in source_lines()
        for pattern, why in PRIVATE_ACCESS
        if pattern.search(code)
    ]
    assert found == []


@pytest.mark.parametrize("line", [
    "if root.callback_query.handlers or root.callback_query._handler.filters:",
    'root_handler = getattr(observer, "_handler", None)',
    "filter_object.awaitable = True",
    "for handler in router.callback_query.handlers:",
    "first = observer.handlers[0]",
    "data_filters = [f.callback for f in handler.filters or []]",
    "from aiogram.dispatcher.event.handler import FilterObject",
])
def test_the_scan_would_catch_what_the_press_switch_did(line: str) -> None:
    assert any(pattern.search(line) for pattern, _why in PRIVATE_ACCESS)


def test_the_scan_lets_ordinary_code_through() -> None:
    for line in ("self._live[slot] = message_id", "from bot.handlers import routers", "cls._prefixes = []",
                 "for old in list(root.handlers):", "for name, observer in dispatcher.observers.items():",
                 "r.callback_query.register(open_card, PartnerCallback.filter(F.action == PartnerAction.OPEN))"):
        assert not any(pattern.search(line) for pattern, _why in PRIVATE_ACCESS), line


Registration = tuple[Router, str, Any, tuple[Any, ...]]  # router, event name, handler (None: router level), filters


@pytest.fixture
def registrations(monkeypatch: pytest.MonkeyPatch) -> list[Registration]:
    """Every handler and router-level filter `routers()` registers, seen through aiogram's public methods."""
    seen: list[Registration] = []
    observer_type = type(Router().message)
    register, add_filter = observer_type.register, observer_type.filter

    def spy_register(self: Any, callback: Any, *filters: Any, **kwargs: Any) -> Any:
        seen.append((self.router, self.event_name, callback, filters))
        return register(self, callback, *filters, **kwargs)

    def spy_filter(self: Any, *filters: Any) -> None:
        seen.append((self.router, self.event_name, None, filters))
        add_filter(self, *filters)

    monkeypatch.setattr(observer_type, "register", spy_register)
    monkeypatch.setattr(observer_type, "filter", spy_filter)
    routers()
    assert len(seen) > 100
    return seen


def runs_on_the_loop(check: Any) -> bool:
    """What aiogram awaits in place; anything else it sends to a worker thread."""
    return isinstance(check, Filter) or inspect.iscoroutinefunction(check)


def test_every_filter_and_handler_runs_on_the_event_loop(registrations: list[Registration]) -> None:
    off_loop = [
        f"{router.name}.{event}: {getattr(handler, '__name__', 'router filter')}: {check!r}"
        for router, event, handler, filters in registrations
        for check in filters
        if not runs_on_the_loop(check)
    ]
    off_loop += [f"{router.name}.{event}: handler {handler.__name__}"
                 for router, event, handler, _filters in registrations
                 if handler is not None and not inspect.iscoroutinefunction(handler)]
    assert off_loop == []


def test_each_routers_press_check_covers_every_kind_its_handlers_take(registrations: list[Registration]) -> None:
    """A kind left out of a PressOf would make handlers below it unreachable: every press of it turned away. And
    a kind no handler below takes would only cost a look at routers that cannot take it."""
    checked: dict[Router, set[type[CallbackData]]] = {}
    taken: dict[Router, set[type[CallbackData]]] = {}
    catch_all: set[str] = set()
    # A dialog takes presses on its own buttons (DialogPress), whatever else they carry; so does the router after
    # it that answers its buttons of earlier steps (EarlierStepPress).
    dialogs = {router for router, event, handler, filters in registrations
               if event == "callback_query" and handler is None
               and any(isinstance(f, (DialogPress, EarlierStepPress)) for f in filters)}
    for router, event, handler, filters in registrations:
        if event != "callback_query":
            continue
        if handler is None:
            for check in filters:
                if isinstance(check, PressOf):
                    checked.setdefault(router, set()).update(check.kinds)
            continue
        kinds = {check.callback_data for check in filters if isinstance(check, CallbackQueryFilter)}
        if not kinds and (router in dialogs or any(isinstance(check, OpenDialogPress) for check in filters)):
            continue
        if not kinds:
            catch_all.add(router.name)
        taken.setdefault(router, set()).update(kinds)
    assert catch_all == {"fallback"}, "only the last router takes a press whatever its data"

    def below(router: Router) -> set[type[CallbackData]]:
        return taken.get(router, set()).union(*(below(sub) for sub in router.sub_routers))

    for router in taken:
        if router.name in catch_all:
            assert router not in checked and router.parent_router is None
            continue
        assert router in checked, f"{router.name} takes presses but does not turn others away first"
    for router, kinds in checked.items():
        assert kinds == below(router), f"{router.name}: PressOf {kinds} but its handlers take {below(router)}"
    assert {r.name for r in checked if r.parent_router is None} == {"anywhere", "workspace"}


class Alpha(CallbackData, prefix="al1"):
    n: int


class Beta(CallbackData, prefix="be1", sep="|"):
    n: int


def press(data: str | None) -> CallbackQuery:
    user = User(id=1, is_bot=False, first_name="A")
    return CallbackQuery(id="1", from_user=user, chat_instance="c", data=data)


@pytest.mark.parametrize(("data", "let_in"), [
    ("al1:5", True), ("be1|5", True), ("al1", True), ("al10:5", False), ("be1:5", False), ("al1|5", False),
    ("zz9:1", False), ("", False), (None, False), ("al", False),
])
async def test_press_of_looks_only_at_the_prefix(data: str | None, let_in: bool) -> None:
    assert await PressOf(Alpha, Beta)(press(data)) is let_in


async def test_press_of_turns_away_what_is_not_a_press() -> None:
    message = Message(message_id=1, date=0, chat=Chat(id=1, type="private"), text="al1:5")
    assert await PressOf(Alpha)(message) is False
    with pytest.raises(ValueError):
        PressOf()


async def test_pure_gives_what_the_magic_filter_gives() -> None:
    message = Message(message_id=1, date=0, chat=Chat(id=1, type="private"), text="hello")
    assert await Pure(F.text)(message) == "hello"
    assert await Pure(F.text.startswith("/"))(message) is False
    assert await Pure(F.text.as_("typed"))(message) == {"typed": "hello"}
    assert not await Pure(F.caption)(message)


async def test_a_router_included_after_presses_began_takes_its_presses() -> None:
    """What the press switch got wrong: it fixed the routes when installed, so a router included afterwards never
    saw a press. Plain aiogram routing offers each press to whatever routers are there when it comes — below a
    feature router (whose PressOf then applies to it too) or beside the others."""
    taken: list[str] = []

    async def first(callback: CallbackQuery, callback_data: Alpha) -> None:
        taken.append(f"first {callback_data.n}")

    async def later(callback: CallbackQuery, callback_data: Alpha) -> None:
        taken.append(f"later {callback_data.n}")

    async def beside(callback: CallbackQuery, callback_data: Beta) -> None:
        taken.append(f"beside {callback_data.n}")

    feature, below, beside_router = Router(name="feature"), Router(name="below"), Router(name="beside")
    feature.callback_query.filter(PressOf(Alpha))
    feature.callback_query.register(first, Alpha.filter(F.n == 1))
    below.callback_query.register(later, Alpha.filter(F.n >= 2))
    beside_router.callback_query.filter(PressOf(Beta))
    beside_router.callback_query.register(beside, Beta.filter())
    dp = Dispatcher()
    dp.include_router(feature)
    bot = Bot("123456:" + "A" * 35)
    try:
        presses = iter(range(1, 100))

        async def feed(data: str) -> None:
            await dp.feed_update(bot, Update(update_id=next(presses), callback_query=press(data)))

        for data in ("al1:1", "al1:2", "be1|3"):
            await feed(data)
        assert taken == ["first 1"]  # nobody there yet for the other two
        feature.include_router(below)
        dp.include_router(beside_router)
        for data in ("al1:4", "be1|5", "al1:1"):
            await feed(data)
    finally:
        await bot.session.close()
    assert taken == ["first 1", "later 4", "beside 5", "first 1"]
