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
        checkin_links,
        checkins,
        debrief,
        evidence,
        fallback,
        groups,
        partners,
        personal_data,
        references,
        reports,
        start,
        stats,
        team,
    )

    return [
        checkin_links.router(),  # first: `/start@bot gs_<token>` in a group links it (else /start is help)
        basics.router(),
        personal_data.router(),  # /mydata and /deletemydata work anywhere, even mid-conversation
        team.router(),
        references.router(),  # before start: `/start ref_<token>` is a reference link
        checkins.router(),  # before start: `/start ci_<token>` answers a group's check-in
        start.router(),
        partners.router(),
        assessments.router(),
        evidence.router(),
        campaign_scope.router(),
        campaign_log.router(),
        debrief.router(),
        stats.router(),
        reports.router(),
        groups.router(),
        fallback.router(),
    ]
