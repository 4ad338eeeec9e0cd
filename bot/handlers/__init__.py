"""Feature routers; `routers()` lists them in the order they must be tried."""

from __future__ import annotations

from aiogram import Router


def routers() -> list[Router]:
    """Commands that work anywhere come first, catch-alls last."""
    from bot.handlers import (
        assessments,
        basics,
        campaign_log,
        campaign_scope,
        debrief,
        evidence,
        fallback,
        groups,
        partners,
        references,
        start,
        stats,
        team,
    )

    return [
        basics.router(),
        team.router(),
        references.router(),  # before start: `/start ref_<token>` is a reference link
        start.router(),
        partners.router(),
        assessments.router(),
        evidence.router(),
        campaign_scope.router(),
        campaign_log.router(),
        debrief.router(),
        stats.router(),
        groups.router(),
        fallback.router(),
    ]
