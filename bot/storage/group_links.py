"""Group link tokens (the `startgroup` payload of the check-in set-up) and relink requests between workspaces."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.checkins import WeeklyTime
from bot.domain.group_links import LINK_PREFIX, LINK_TTL, RELINK_REQUEST_TTL, LinkState, link_state
from bot.storage.checkins import NewSchedule, stamp
from bot.storage.db import Database
from bot.storage.invites import hash_token  # one way to keep a token: its hash

# 24 random bytes = 192 bits; token_urlsafe gives 32 characters, so "gs_<token>" is 35 ≤ 64.
TOKEN_BYTES = 24

_LINK_COLUMNS = (
    "id, workspace_id, partner_id, weekday, hour, minute, timezone, digest_hours, shared_doc, created_by, "
    "private_message_id, expires_at, used_at"
)
_REQUEST_COLUMNS = "id, link_id, chat_id, chat_title, from_workspace_id, requested_by, expires_at, decided_at"


@dataclass(frozen=True, slots=True)
class GroupLink:
    id: int
    created_by: int
    private_message_id: int | None
    schedule: NewSchedule
    expires_at: datetime
    used_at: datetime | None


@dataclass(frozen=True, slots=True)
class Claim:
    state: LinkState
    link: GroupLink | None = None


@dataclass(frozen=True, slots=True)
class RelinkRequest:
    id: int
    link_id: int
    chat_id: int
    chat_title: str | None
    from_workspace_id: int
    requested_by: int
    expires_at: datetime
    decided: bool


def _link(row: Any) -> GroupLink:
    when = WeeklyTime(row["weekday"], row["hour"], row["minute"], row["timezone"])
    schedule = NewSchedule(row["workspace_id"], row["partner_id"], when, row["digest_hours"], row["shared_doc"])
    used = row["used_at"]
    return GroupLink(row["id"], row["created_by"], row["private_message_id"], schedule,
                     datetime.fromisoformat(row["expires_at"]), datetime.fromisoformat(used) if used else None)


def _request(row: Any) -> RelinkRequest:
    return RelinkRequest(row["id"], row["link_id"], row["chat_id"], row["chat_title"], row["from_workspace_id"],
                         row["requested_by"], datetime.fromisoformat(row["expires_at"]), row["decided_at"] is not None)


class GroupLinkRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, schedule: NewSchedule, created_by: int, now: datetime) -> tuple[str, int]:
        """A fresh payload (returned once, never stored) and the link's row id."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        when = schedule.when
        link_id = await self._db.execute(
            "INSERT INTO group_link_tokens (token_hash, workspace_id, partner_id, weekday, hour, minute, timezone, "
            "digest_hours, shared_doc, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (hash_token(token), schedule.workspace_id, schedule.partner_id, when.weekday, when.hour, when.minute,
             when.timezone, schedule.digest_hours, schedule.shared_doc, created_by, stamp(now),
             stamp(now + LINK_TTL)),
        )
        return LINK_PREFIX + token, link_id

    async def set_message(self, link_id: int, message_id: int) -> None:
        await self._db.execute(
            "UPDATE group_link_tokens SET private_message_id = ? WHERE id = ?", (message_id, link_id)
        )

    async def lookup(self, payload: str, now: datetime) -> Claim:
        """What the payload of a `/start@bot gs_…` in a group stands for; nothing is changed."""
        row = await self._db.fetchone(f"SELECT {_LINK_COLUMNS} FROM group_link_tokens WHERE token_hash = ?",
                                      (hash_token(payload.removeprefix(LINK_PREFIX)),))
        link = None if row is None else _link(row)
        state = link_state(link is not None, link.expires_at if link else None, link.used_at if link else None, now)
        return Claim(state, link if state is LinkState.VALID else None)

    async def use(self, link_id: int, chat_id: int, now: datetime) -> bool:
        """Spend the link; False if someone spent it first (single use, even under a race)."""
        count = await self._db.execute_rowcount(
            "UPDATE group_link_tokens SET used_at = ?, used_in_chat = ? WHERE id = ? AND used_at IS NULL",
            (stamp(now), chat_id, link_id),
        )
        return count > 0

    async def link(self, link_id: int) -> GroupLink | None:
        row = await self._db.fetchone(f"SELECT {_LINK_COLUMNS} FROM group_link_tokens WHERE id = ?", (link_id,))
        return None if row is None else _link(row)

    async def request_relink(self, link_id: int, chat_id: int, chat_title: str | None, from_workspace_id: int,
                             requested_by: int, now: datetime) -> int:
        return await self._db.execute(
            "INSERT INTO group_relink_requests (link_id, chat_id, chat_title, from_workspace_id, requested_by, "
            "created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (link_id, chat_id, chat_title, from_workspace_id, requested_by, stamp(now),
             stamp(now + RELINK_REQUEST_TTL)),
        )

    async def request(self, request_id: int) -> RelinkRequest | None:
        row = await self._db.fetchone(f"SELECT {_REQUEST_COLUMNS} FROM group_relink_requests WHERE id = ?",
                                      (request_id,))
        return None if row is None else _request(row)

    async def decide(self, request_id: int, decision: str, now: datetime) -> bool:
        """Record the answer once; False if it was already answered (a double press, a replay)."""
        count = await self._db.execute_rowcount(
            "UPDATE group_relink_requests SET decided_at = ?, decision = ? WHERE id = ? AND decided_at IS NULL",
            (stamp(now), decision, request_id),
        )
        return count > 0
