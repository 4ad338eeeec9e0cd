"""Linking a group chat to a partnership: which links still work, and who may take a linked group over.

The rules of issue 14: the group only ever sees the partner being set up; a group linked to one workspace is
never silently taken over by another.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

# A group link is used within minutes; a day covers "I'll add it after lunch" without leaving old links alive.
LINK_TTL = timedelta(hours=24)
# The other team's owner may be away for a weekend; after three days the request is dropped.
RELINK_REQUEST_TTL = timedelta(days=3)
# /start payloads are at most 64 characters of A-Za-z0-9_-.
LINK_PREFIX = "gs_"
PAYLOAD_PATTERN = rf"^{LINK_PREFIX}[A-Za-z0-9_-]{{16,61}}$"


class LinkState(StrEnum):
    VALID = "valid"
    UNKNOWN = "unknown"  # never issued, or forged
    EXPIRED = "expired"
    USED = "used"


def link_state(found: bool, expires_at: datetime | None, used_at: datetime | None, now: datetime) -> LinkState:
    if not found or expires_at is None:
        return LinkState.UNKNOWN
    if used_at is not None:
        return LinkState.USED
    if expires_at <= now:
        return LinkState.EXPIRED
    return LinkState.VALID


class LinkDecision(StrEnum):
    NOT_ALLOWED = "not_allowed"  # not a group admin, or not in the link's workspace
    LINK = "link"
    LINK_AND_TELL_OWNER = "link_and_tell_owner"  # same team, someone other than its owner changed it
    ASK_OWNER = "ask_owner"  # the group belongs to another team: its owner decides


@dataclass(frozen=True, slots=True)
class LinkAttempt:
    link_workspace_id: int
    linked_workspace_id: int | None  # the workspace whose check-in is active in the group, if any
    actor_is_group_admin: bool
    actor_in_link_workspace: bool
    actor_owns_linked_workspace: bool


def decide_link(attempt: LinkAttempt) -> LinkDecision:
    """Who may (re)link a group, table-tested in tests/unit/test_group_links.py."""
    if not attempt.actor_is_group_admin or not attempt.actor_in_link_workspace:
        return LinkDecision.NOT_ALLOWED
    if attempt.linked_workspace_id is None:
        return LinkDecision.LINK
    if attempt.linked_workspace_id == attempt.link_workspace_id:
        return LinkDecision.LINK if attempt.actor_owns_linked_workspace else LinkDecision.LINK_AND_TELL_OWNER
    return LinkDecision.ASK_OWNER


def may_answer_relink(presser_id: int, owner_id: int | None, decided: bool, expires_at: datetime,
                      now: datetime) -> bool:
    """Only the linked workspace's owner answers a relink request, once, before it expires."""
    return owner_id is not None and presser_id == owner_id and not decided and now < expires_at
