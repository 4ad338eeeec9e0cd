"""Who may link or relink a group, and which group links still work (bot/domain/group_links.py)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.group_links import (
    PAYLOAD_PATTERN,
    LinkAttempt,
    LinkDecision,
    LinkState,
    decide_link,
    link_state,
    may_answer_relink,
)

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
A, B = 1, 2


@pytest.mark.parametrize(
    ("linked", "admin", "member", "owner", "expected"),
    [
        (None, True, True, False, LinkDecision.LINK),  # a free group
        (None, False, True, False, LinkDecision.NOT_ALLOWED),  # not a group admin
        (None, True, False, False, LinkDecision.NOT_ALLOWED),  # a forwarded link: not in the link's team
        (A, True, True, True, LinkDecision.LINK),  # the owner changes their own group
        (A, True, True, False, LinkDecision.LINK_AND_TELL_OWNER),  # a teammate changes it: the owner hears
        (B, True, True, False, LinkDecision.ASK_OWNER),  # another team's group: never silently taken over
        (B, True, True, True, LinkDecision.ASK_OWNER),  # owning the other team too changes nothing here
        (B, False, True, False, LinkDecision.NOT_ALLOWED),
    ],
)
def test_decide_link(linked: int | None, admin: bool, member: bool, owner: bool, expected: LinkDecision) -> None:
    attempt = LinkAttempt(link_workspace_id=A, linked_workspace_id=linked, actor_is_group_admin=admin,
                          actor_in_link_workspace=member, actor_owns_linked_workspace=owner)
    assert decide_link(attempt) is expected


@pytest.mark.parametrize(
    ("found", "expires", "used", "expected"),
    [
        (False, None, None, LinkState.UNKNOWN),
        (True, NOW + timedelta(hours=1), None, LinkState.VALID),
        (True, NOW, None, LinkState.EXPIRED),  # the last moment is already too late
        (True, NOW - timedelta(hours=1), None, LinkState.EXPIRED),
        (True, NOW + timedelta(hours=1), NOW - timedelta(minutes=1), LinkState.USED),
        (True, NOW - timedelta(hours=1), NOW - timedelta(hours=2), LinkState.USED),  # spent says more than expired
    ],
)
def test_link_state(found: bool, expires: datetime | None, used: datetime | None, expected: LinkState) -> None:
    assert link_state(found, expires, used, NOW) is expected


@pytest.mark.parametrize(
    ("presser", "owner", "decided", "expires", "expected"),
    [
        (7, 7, False, NOW + timedelta(days=1), True),
        (8, 7, False, NOW + timedelta(days=1), False),  # someone else: a forged press
        (7, None, False, NOW + timedelta(days=1), False),
        (7, 7, True, NOW + timedelta(days=1), False),  # answered already
        (7, 7, False, NOW, False),  # expired
    ],
)
def test_may_answer_relink(presser: int, owner: int | None, decided: bool, expires: datetime, expected: bool) -> None:
    assert may_answer_relink(presser, owner, decided, expires, NOW) is expected


@pytest.mark.parametrize(
    ("payload", "ok"),
    [("gs_" + "a" * 32, True), ("gs_" + "A-_9" * 4, True), ("gs_" + "a" * 61, True), ("gs_" + "a" * 62, False),
     ("gs_short", False), ("ci_" + "a" * 32, False), ("gs_" + "a" * 31 + "!", False)],
)
def test_payload_pattern_fits_telegram(payload: str, ok: bool) -> None:
    assert bool(re.fullmatch(PAYLOAD_PATTERN, payload)) is ok
    if ok:
        assert len(payload) <= 64
