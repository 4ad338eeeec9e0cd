"""Feature routers; `routers()` lists them in the order they must be tried."""

from __future__ import annotations

from aiogram import Router


def routers() -> list[Router]:
    """Commands that work anywhere come first, catch-alls last."""
    from bot.handlers import basics, fallback, groups, start

    return [basics.router(), start.router(), groups.router(), fallback.router()]
