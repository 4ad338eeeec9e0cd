"""Team invite links: unguessable tokens, stored only as a hash, valid for a week unless revoked.

A link is a team link: it can be forwarded and works for everyone who opens it until it expires or is revoked
(issue "Team workspaces"). Because of that, removing a member revokes every live link of the workspace — any of
them could bring the person back — and a removed person's own link answers "ask for a new invite"."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.storage.db import Database
from bot.storage.workspaces import Role

# Issue "Team workspaces": an invite link expires in 7 days.
INVITE_TTL = timedelta(days=7)
# 24 random bytes = 192 bits; token_urlsafe gives 32 characters of A-Za-z0-9_-, so "join_<token>" is 37 ≤ 64.
TOKEN_BYTES = 24
START_PREFIX = "join_"


class Redeemed(StrEnum):
    JOINED = "joined"
    ALREADY_MEMBER = "already_member"
    EXPIRED = "expired"
    REVOKED = "revoked"
    REMOVED = "removed"  # they joined through this link and were removed since: a new invite is needed
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class RedeemResult:
    status: Redeemed
    workspace_id: int | None = None
    created_by: str | None = None  # the display name of whoever created the link, when known
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class JoinedVia:
    creator_name: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Invite:
    id: int  # the row id: short enough for a button
    workspace_id: int
    created_by: int | None
    created_at: datetime
    expires_at: datetime
    creator_name: str | None = None
    joined: tuple[str | None, ...] = ()  # display names of those who joined through it, in order



def hash_token(token: str) -> str:
    """What the database keeps instead of the token, so a leaked copy opens no workspace."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


class InviteRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, workspace_id: int, created_by: int, now: datetime) -> tuple[str, datetime]:
        """A fresh token (returned once, never stored) and the moment it expires."""
        token = new_token()
        expires = now + INVITE_TTL
        await self._db.execute(
            "INSERT INTO invites (token_hash, workspace_id, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
            (hash_token(token), workspace_id, created_by, now.isoformat(), expires.isoformat()),
        )
        return token, expires

    async def redeem(self, token: str, user_id: int, now: datetime) -> RedeemResult:
        """Join the invite's workspace and make it the user's current one, all in one transaction."""
        token_hash = hash_token(token)
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT i.workspace_id, i.created_at, i.expires_at, i.revoked_at, u.display_name FROM invites i "
                "LEFT JOIN users u ON u.id = i.created_by WHERE i.token_hash = ?",
                (token_hash,),
            )
            if row is None:
                return RedeemResult(Redeemed.UNKNOWN)
            workspace_id = int(row["workspace_id"])
            member = await tx.fetchval(
                "SELECT 1 FROM memberships WHERE workspace_id = ? AND user_id = ?", (workspace_id, user_id)
            )
            joined_before = await tx.fetchval(
                "SELECT 1 FROM invite_joins WHERE invite_hash = ? AND user_id = ?", (token_hash, user_id)
            )
            if member is None and joined_before is not None:
                return RedeemResult(Redeemed.REMOVED, workspace_id)
            if row["revoked_at"] is not None:
                return RedeemResult(Redeemed.REVOKED, workspace_id)
            if datetime.fromisoformat(row["expires_at"]) <= now:
                return RedeemResult(Redeemed.EXPIRED, workspace_id)
            if member is None:
                await tx.execute(
                    "INSERT INTO memberships (workspace_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)",
                    (workspace_id, user_id, Role.MEMBER.value, now.isoformat()),
                )
                await tx.execute(
                    "INSERT OR REPLACE INTO invite_joins (invite_hash, user_id, joined_at) VALUES (?, ?, ?)",
                    (token_hash, user_id, now.isoformat()),
                )
            # Opening the team's link again is also how a member gets back into that workspace.
            await tx.execute("UPDATE users SET current_workspace_id = ? WHERE id = ?", (workspace_id, user_id))
        return RedeemResult(
            Redeemed.JOINED if member is None else Redeemed.ALREADY_MEMBER,
            workspace_id,
            row["display_name"],
            datetime.fromisoformat(row["created_at"]),
        )

    async def active(self, workspace_id: int, now: datetime) -> list[Invite]:
        """Links that still work, newest first, each with its creator and who joined through it."""
        rows = await self._db.fetchall(
            "SELECT i.rowid AS id, i.token_hash, i.workspace_id, i.created_by, i.created_at, i.expires_at, "
            "u.display_name FROM invites i LEFT JOIN users u ON u.id = i.created_by "
            "WHERE i.workspace_id = ? AND i.revoked_at IS NULL ORDER BY i.created_at DESC, i.rowid DESC",
            (workspace_id,),
        )
        live = [r for r in rows if datetime.fromisoformat(r["expires_at"]) > now]
        joins = await self._db.fetchall(
            "SELECT j.invite_hash, u.display_name FROM invite_joins j JOIN invites i ON i.token_hash = j.invite_hash "
            "LEFT JOIN users u ON u.id = j.user_id WHERE i.workspace_id = ? ORDER BY j.joined_at, j.user_id",
            (workspace_id,),
        )
        joined: dict[str, list[str | None]] = {}
        for j in joins:
            joined.setdefault(j["invite_hash"], []).append(j["display_name"])
        return [
            Invite(
                r["id"],
                r["workspace_id"],
                r["created_by"],
                datetime.fromisoformat(r["created_at"]),
                datetime.fromisoformat(r["expires_at"]),
                r["display_name"],
                tuple(joined.get(r["token_hash"], ())),
            )
            for r in live
        ]

    async def joined_via(self, workspace_id: int) -> dict[int, JoinedVia]:
        """Per member who came in through a link (live, expired or revoked): that link's creator and date."""
        rows = await self._db.fetchall(
            "SELECT j.user_id, u.display_name, i.created_at FROM invite_joins j "
            "JOIN invites i ON i.token_hash = j.invite_hash LEFT JOIN users u ON u.id = i.created_by "
            "WHERE i.workspace_id = ? ORDER BY j.joined_at",
            (workspace_id,),
        )
        return {r["user_id"]: JoinedVia(r["display_name"], datetime.fromisoformat(r["created_at"])) for r in rows}

    async def revoke(self, workspace_id: int, invite_id: int, now: datetime) -> bool:
        """Revoke one link of this workspace; False when there is no such live link here."""
        count = await self._db.execute_rowcount(
            "UPDATE invites SET revoked_at = ? WHERE rowid = ? AND workspace_id = ? AND revoked_at IS NULL",
            (now.isoformat(), invite_id, workspace_id),
        )
        return count > 0

    async def revoke_all(self, workspace_id: int, now: datetime) -> int:
        """Revoke every link of the workspace that still works; returns how many."""
        async with self._db.transaction() as tx:
            rows = await tx.fetchall(
                "SELECT rowid AS id, expires_at FROM invites WHERE workspace_id = ? AND revoked_at IS NULL",
                (workspace_id,),
            )
            live = [r["id"] for r in rows if datetime.fromisoformat(r["expires_at"]) > now]
            for invite_id in live:
                await tx.execute("UPDATE invites SET revoked_at = ? WHERE rowid = ?", (now.isoformat(), invite_id))
        return len(live)
