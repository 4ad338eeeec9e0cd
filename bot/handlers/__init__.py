"""Feature routers; `routers()` lists them in the order they must be tried.

A press is offered to routers one at a time, and each look costs a router's walk (aiogram copies the update's
data for every router and filter); so the features are also gathered, in the same order, into two groups whose
`PressOf` is every kind their features take: a press for a partner's card passes the first group in one look.
A message passes through the groups unchecked, in the order listed. The flows declared as dialogs
(aiogram-dialog) come after both: a dialog's buttons carry the library's own data, so no `PressOf` names them.
"""

from __future__ import annotations

from types import ModuleType

from aiogram import Router
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import StatesGroup
from aiogram_dialog import Dialog

from bot.handlers.dialog_steps import earlier_step_pressed
from bot.handlers.filters import PressOf
from bot.plumbing.dialogs import OpenDialogPress


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
        new_partner,
        partners,
        personal_data,
        references,
        reports,
        start,
        stats,
        team,
    )

    anywhere = group(
        "anywhere",
        checkin_links,  # first: `/start@bot gs_<token>` in a group links it (else /start is help)
        basics,
        personal_data,  # /mydata and /deletemydata work anywhere, even mid-conversation
        team,
        references,  # before start: `/start ref_<token>` is a reference link
        checkins,  # before start: `/start ci_<token>` answers a group's check-in
        start,
    )
    workspace = group(
        "workspace",
        partners,
        new_partner,
        assessments,
        evidence,
        campaign_scope,
        campaign_log,
        debrief,
        stats,
        reports,
    )
    # The flows declared as aiogram-dialog dialogs (each takes only presses on its own buttons).
    conversations = Router(name="conversations")
    for feature in (new_partner, team, assessments, evidence, campaign_scope, campaign_log, debrief, checkins,
                    references):
        conversations.include_router(feature.conversations())
    earlier_steps = Router(name="earlier_steps")  # after the dialogs: a router's own handlers come before its children
    earlier_steps.callback_query.register(earlier_step_pressed, OpenDialogPress())
    conversations.include_router(earlier_steps)
    return [anywhere, workspace, conversations, groups.router(), fallback.router(dialog_state_groups(conversations))]


def group(name: str, *features: ModuleType) -> Router:
    """The features' routers, in order, below one whose presses are those of any of them."""
    r = Router(name=name)
    kinds: dict[type[CallbackData], None] = {}
    for feature in features:
        kinds.update(dict.fromkeys(getattr(feature, "PRESSES", ())))
        r.include_router(feature.router())
    if kinds:
        r.callback_query.filter(PressOf(*kinds))
    return r


def dialog_state_groups(root: Router) -> list[type[StatesGroup]]:
    """The StatesGroup of every Dialog below `root`."""
    found = [root.states_group()] if isinstance(root, Dialog) else []
    for sub in root.sub_routers:
        found += dialog_state_groups(sub)
    return found
