"""Feature routers; `routers()` lists them in the order they must be tried."""

from __future__ import annotations

from aiogram import Router


def routers() -> list[Router]:
    """Commands that work anywhere come first, catch-alls last."""
    from bot.handlers import (
        assessments,
        basics,
        evidence,
        fallback,
        groups,
        partners,
        start,
        team,
    )

    return [
        basics.router(),
        team.router(),
        start.router(),
        partners.router(),
        assessments.router(),
        evidence.router(),
        groups.router(),
        fallback.router(),
    ]
