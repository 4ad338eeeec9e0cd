"""A router skips a button press none of its handlers could take, without trying each of them.

aiogram offers a press to every router in turn, and each tries every one of its handlers; a gut-check answer
went through about sixty handler checks. A router whose every button handler filters on a CallbackData
prefix can only take a press with one of those prefixes, so a router-level filter on the prefix changes
nothing but the work: presses it could not take are turned away in one step.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Filter
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.types import CallbackQuery


class PrefixIn(Filter):
    def __init__(self, prefixes: frozenset[tuple[str, str]]) -> None:
        self.prefixes = prefixes  # (prefix, separator)

    async def __call__(self, event: CallbackQuery) -> bool:
        data = event.data
        return bool(data) and any(data.split(sep, 1)[0] == prefix for prefix, sep in self.prefixes)


def gate_button_presses(root: Router) -> list[Router]:
    """Add the prefix filter to every router below `root` where it is exact; returns those routers."""
    gated = []
    for router in root.sub_routers:
        prefixes = _only_prefixes(router)
        if prefixes and not router.sub_routers:
            router.callback_query.filter(PrefixIn(prefixes))
            gated.append(router)
    return gated


def _only_prefixes(router: Router) -> frozenset[tuple[str, str]] | None:
    """The prefixes of its button handlers, or None when one of them could take a press without one."""
    prefixes = set()
    for handler in router.callback_query.handlers:
        data_filters = [f.callback for f in handler.filters or [] if isinstance(f.callback, CallbackQueryFilter)]
        if not data_filters:
            return None
        for data_filter in data_filters:
            prefixes.add((data_filter.callback_data.__prefix__, data_filter.callback_data.__separator__))
    return frozenset(prefixes) or None
