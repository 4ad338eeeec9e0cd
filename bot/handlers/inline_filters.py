"""Pure filters run on the event loop instead of a worker thread.

aiogram hands every filter that is not a coroutine to `asyncio.to_thread` — magic `F.…` expressions and FSM
states included. Those checks take microseconds and touch nothing outside the update, while the thread hop
costs far more and, with dozens of filters per update, was a large share of the bot's time under load.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.handler import FilterObject
from aiogram.fsm.state import State


def run_pure_filters_inline(root: Router) -> None:
    """Make the magic-filter and state checks of `root` and every router below it awaitable in place."""
    for filter_object in _filters(root):
        if not filter_object.awaitable and _is_pure(filter_object):
            filter_object.callback = _as_coroutine(filter_object.callback)
            filter_object.awaitable = True


def sync_filters(root: Router) -> list[FilterObject]:
    """Filters that would still be sent to a worker thread."""
    return [f for f in _filters(root) if not f.awaitable]


def _filters(root: Router) -> Iterator[FilterObject]:
    for router in root.chain_tail:
        for observer in router.observers.values():
            root_handler = getattr(observer, "_handler", None)  # the router-level `.filter(...)` checks
            for handler in [root_handler, *observer.handlers]:
                if handler is not None:
                    yield from handler.filters or []


def _is_pure(filter_object: FilterObject) -> bool:
    return filter_object.magic is not None or isinstance(filter_object.callback, State)


def _as_coroutine(check: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(check)
    async def inline(*args: Any, **kwargs: Any) -> Any:
        return check(*args, **kwargs)

    return inline
