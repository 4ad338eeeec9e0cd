"""A button press goes straight to the routers that could take it, in their usual order.

aiogram offers a press to every router in turn: each wraps its middlewares, checks its own filters and tries its
handlers before the next one gets a look. A gut-check answer passed seven routers first, and that walk cost half a
millisecond, more than the handler. Every button this bot makes carries CallbackData with a prefix, and a
router whose button handlers all filter on prefixes can only take a press with one of them. So, once the routers
are in place, the switch works out for each prefix which routers could take it (those with a handler for that
prefix, and those with a handler that takes any press, such as "this button is out of date") and offers the press
to those only, in the same order and through the same `propagate_event` aiogram itself uses. Nothing else
changes: a press no router takes is unhandled, as before.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiogram import BaseMiddleware, Router
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.types import CallbackQuery, TelegramObject

Prefix = tuple[str, str]  # (prefix, separator) of a CallbackData class
ANY_PRESS = None  # what `_prefixes` returns for a router with a handler that may take any press


class PressSwitch(BaseMiddleware):
    """The dispatcher's outer button-press middleware; stands in for its walk over `routers`."""

    def __init__(self, routers: Sequence[Router]) -> None:
        taken = [(router, _prefixes(router)) for router in routers]
        known = {prefix for _router, prefixes in taken if prefixes is not ANY_PRESS for prefix in prefixes}
        self._separators = sorted({separator for _prefix, separator in known})
        self._routes: dict[Prefix, tuple[Router, ...]] = {
            prefix: tuple(r for r, prefixes in taken if prefixes is ANY_PRESS or prefix in prefixes)
            for prefix in known
        }
        self._unknown_route = tuple(r for r, prefixes in taken if prefixes is ANY_PRESS)

    @classmethod
    def install(cls, root: Router) -> PressSwitch:
        """Switch the presses `root` hands to its sub-routers; `root` itself must not take or filter presses."""
        if root.callback_query.handlers or root.callback_query._handler.filters:
            raise ValueError("the switch replaces the walk over sub-routers only; the root takes presses itself")
        switch = cls(root.sub_routers)
        root.callback_query.outer_middleware(switch)
        return switch

    def route(self, data: str | None) -> tuple[Router, ...]:
        """The routers that could take a press with this callback data, in order."""
        if data:
            for separator in self._separators:
                route = self._routes.get((data.split(separator, 1)[0], separator))
                if route is not None:
                    return route
        return self._unknown_route

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, CallbackQuery):
            return await handler(event, data)
        for router in self.route(event.data):
            response = await router.propagate_event(update_type="callback_query", event=event, **data)
            if response is not UNHANDLED:
                return response
        return UNHANDLED


def _prefixes(router: Router) -> frozenset[Prefix] | None:
    """The prefixes of every button handler in the router and below it, or ANY_PRESS when a handler there
    filters on something else (or on nothing) and so might take a press with any data."""
    prefixes: set[Prefix] = set()
    for handler in router.callback_query.handlers:
        data_filters = [f.callback for f in handler.filters or [] if isinstance(f.callback, CallbackQueryFilter)]
        if not data_filters:
            return ANY_PRESS
        for data_filter in data_filters:
            prefixes.add((data_filter.callback_data.__prefix__, data_filter.callback_data.__separator__))
    for sub_router in router.sub_routers:
        below = _prefixes(sub_router)
        if below is ANY_PRESS:
            return ANY_PRESS
        prefixes |= below
    return frozenset(prefixes)
