"""Reference links and answers. Tokens are stored only as a hash; answers carry no Telegram id.

Who answered is a keyed respondent key (bot/storage/respondents.py), and the moments a creator causes — a link
opened, an answer started and finished — are stored as the UTC day only (`day_of`), so they cannot be lined up
with the moment an account wrote to the bot."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

import aiosqlite

from bot.domain.partners import MarketCoverage
from bot.domain.references import (
    DIMENSIONS,
    LINK_TTL,
    TOKEN_BYTES,
    Again,
    Dimension,
    Duration,
    LinkStatus,
    Reference,
    is_too_fast,
    link_status,
)
from bot.storage.db import Database
from bot.storage.invites import hash_token
from bot.storage.respondents import day_of

__all__ = ["ReferenceRepo", "hash_token"]


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def _moment(value: str | None) -> datetime | None:
    """A stored moment; a creator moment is a bare date (YYYY-MM-DD), read as that day's start in UTC."""
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ReferenceLink:
    id: int
    token_hash: str
    partner_id: int
    partner_name: str
    workspace_id: int
    workspace_name: str
    created_by: int | None
    label: str | None
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    opened_at: datetime | None
    opened_by_key: str | None
    answered_at: datetime | None

    def status(self, now: datetime, *, started: bool = False) -> LinkStatus:
        return link_status(
            exists=True,
            expires_at=self.expires_at,
            revoked_at=self.revoked_at,
            opened_at=self.opened_at,
            answered_at=self.answered_at,
            now=now,
            started=started,
        )


@dataclass(frozen=True, slots=True)
class NewAnswer:
    partner_id: int
    link_hash: str
    respondent_key: str
    duration: Duration
    months: int | None  # typed; a tapped range has none
    market: MarketCoverage
    ratings: dict[Dimension, int]
    comments: dict[Dimension, str]
    again: Again
    anything_else: str | None
    locale: str
    started_at: datetime
    finished_at: datetime

    @property
    def seconds_taken(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    id: int
    reference: Reference
    locale: str
    finished_at: datetime


class Submitted(StrEnum):
    SAVED = "saved"
    LINK_GONE = "link_gone"  # revoked, deleted, or used by someone else meanwhile
    ALREADY_ANSWERED = "already_answered"  # this account already answered about this partner


_LINK_COLUMNS = (
    "l.id, l.token_hash, l.partner_id, p.name AS partner_name, p.workspace_id, w.name AS workspace_name, "
    "l.created_by, l.label, l.created_at, l.expires_at, l.revoked_at, l.opened_at, l.opened_by_key, l.answered_at"
)
_LINK_FROM = "FROM reference_links l JOIN partners p ON p.id = l.partner_id JOIN workspaces w ON w.id = p.workspace_id"


def _link(row: aiosqlite.Row) -> ReferenceLink:
    return ReferenceLink(
        id=row["id"],
        token_hash=row["token_hash"],
        partner_id=row["partner_id"],
        partner_name=row["partner_name"],
        workspace_id=row["workspace_id"],
        workspace_name=row["workspace_name"],
        created_by=row["created_by"],
        label=row["label"],
        created_at=datetime.fromisoformat(row["created_at"]),
        expires_at=datetime.fromisoformat(row["expires_at"]),
        revoked_at=_moment(row["revoked_at"]),
        opened_at=_moment(row["opened_at"]),
        opened_by_key=row["opened_by_key"],
        answered_at=_moment(row["answered_at"]),
    )


class ReferenceRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    # ---- links ----------------------------------------------------------------------------------------------

    async def create(self, partner_id: int, created_by: int, label: str | None, now: datetime) -> tuple[str, datetime]:
        """A fresh token (returned once, never stored) and the moment it expires."""
        token = new_token()
        expires = now + LINK_TTL
        await self._db.execute(
            "INSERT INTO reference_links (token_hash, partner_id, created_by, label, created_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (hash_token(token), partner_id, created_by, label, now.isoformat(), expires.isoformat()),
        )
        return token, expires

    async def find(self, token: str) -> ReferenceLink | None:
        return await self.by_hash(hash_token(token))

    async def by_hash(self, token_hash: str) -> ReferenceLink | None:
        row = await self._db.fetchone(f"SELECT {_LINK_COLUMNS} {_LINK_FROM} WHERE l.token_hash = ?", (token_hash,))
        return None if row is None else _link(row)

    async def open(self, link_id: int, key: str, now: datetime) -> bool:
        """Bind the link to the first person who opens it; False when someone else already did. The day only."""
        count = await self._db.execute_rowcount(
            "UPDATE reference_links SET opened_at = COALESCE(opened_at, ?), opened_by_key = COALESCE(opened_by_key, ?) "
            "WHERE id = ? AND (opened_by_key IS NULL OR opened_by_key = ?)",
            (day_of(now), key, link_id, key),
        )
        return count > 0

    async def links(self, workspace_id: int, partner_id: int) -> list[ReferenceLink]:
        """The partner's links, oldest first, read through the workspace."""
        rows = await self._db.fetchall(
            f"SELECT {_LINK_COLUMNS} {_LINK_FROM} WHERE p.workspace_id = ? AND l.partner_id = ? ORDER BY l.id",
            (workspace_id, partner_id),
        )
        return [_link(r) for r in rows]

    async def revoke(self, workspace_id: int, partner_id: int, link_id: int, now: datetime) -> bool:
        """Revoke one unanswered link of this workspace's partner; False when there is no such link."""
        count = await self._db.execute_rowcount(
            "UPDATE reference_links SET revoked_at = ? WHERE id = ? AND partner_id = ? AND revoked_at IS NULL "
            "AND answered_at IS NULL AND partner_id IN (SELECT id FROM partners WHERE workspace_id = ?)",
            (now.isoformat(), link_id, partner_id, workspace_id),
        )
        return count > 0

    # ---- answers --------------------------------------------------------------------------------------------

    async def has_answered(self, partner_id: int, key: str) -> bool:
        found = await self._db.fetchval(
            "SELECT 1 FROM reference_answers WHERE partner_id = ? AND respondent_key = ?", (partner_id, key)
        )
        return found is not None

    async def answered_through(self, link_hash: str, key: str) -> bool:
        found = await self._db.fetchval(
            "SELECT 1 FROM reference_answers WHERE link_hash = ? AND respondent_key = ?", (link_hash, key)
        )
        return found is not None

    async def submit(self, answer: NewAnswer) -> Submitted:
        """Store the answer and use up the link, all or nothing; the moments as days, the speed as a flag."""
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT partner_id, expires_at, revoked_at, opened_at, opened_by_key, answered_at "
                "FROM reference_links WHERE token_hash = ?",
                (answer.link_hash,),
            )
            taken = await tx.fetchval(
                "SELECT 1 FROM reference_answers WHERE partner_id = ? AND respondent_key = ?",
                (answer.partner_id, answer.respondent_key),
            )
            if taken is not None:
                return Submitted.ALREADY_ANSWERED
            if row is None or row["partner_id"] != answer.partner_id or row["opened_by_key"] != answer.respondent_key:
                return Submitted.LINK_GONE
            status = link_status(
                exists=True,
                expires_at=datetime.fromisoformat(row["expires_at"]),
                revoked_at=_moment(row["revoked_at"]),
                opened_at=_moment(row["opened_at"]),
                answered_at=_moment(row["answered_at"]),
                now=answer.finished_at,
                started=True,
            )
            if not status.usable:
                return Submitted.LINK_GONE
            r, c = answer.ratings, answer.comments
            await tx.execute(
                "INSERT INTO reference_answers (partner_id, link_hash, respondent_key, worked_months, worked_range, "
                "market, consistency, consistency_comment, respect, respect_comment, reliability, reliability_comment, "
                "growth, growth_comment, again, anything_else, locale, started_at, finished_at, too_fast) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    answer.partner_id,
                    answer.link_hash,
                    answer.respondent_key,
                    answer.months,
                    answer.duration.value,
                    answer.market.value,
                    r[Dimension.CONSISTENCY],
                    c.get(Dimension.CONSISTENCY),
                    r[Dimension.RESPECT],
                    c.get(Dimension.RESPECT),
                    r[Dimension.RELIABILITY],
                    c.get(Dimension.RELIABILITY),
                    r[Dimension.GROWTH],
                    c.get(Dimension.GROWTH),
                    answer.again.value,
                    answer.anything_else,
                    answer.locale,
                    day_of(answer.started_at),
                    day_of(answer.finished_at),
                    int(is_too_fast(answer.seconds_taken)),
                ),
            )
            await tx.execute(
                "UPDATE reference_links SET answered_at = ? WHERE token_hash = ?",
                (day_of(answer.finished_at), answer.link_hash),
            )
        return Submitted.SAVED

    async def answers(self, workspace_id: int, partner_id: int) -> list[StoredAnswer]:
        """The partner's answers in the order they arrived: creator 1, 2, …"""
        rows = await self._db.fetchall(
            "SELECT a.* FROM reference_answers a JOIN partners p ON p.id = a.partner_id "
            "WHERE p.workspace_id = ? AND a.partner_id = ? ORDER BY a.finished_at, a.id",
            (workspace_id, partner_id),
        )
        stored = []
        for row in rows:
            finished = _moment(row["finished_at"])
            assert finished is not None
            reference = Reference(
                ratings={d: row[d.value] for d in DIMENSIONS},
                again=Again(row["again"]),
                duration=Duration(row["worked_range"]),
                months=row["worked_months"],
                market=MarketCoverage(row["market"]),
                comments={d: row[f"{d.value}_comment"] for d in DIMENSIONS if row[f"{d.value}_comment"]},
                anything_else=row["anything_else"],
                # Only whether it was implausibly fast is kept (the moments are days): 0 s or unknown.
                seconds_taken=0.0 if row["too_fast"] else None,
            )
            stored.append(StoredAnswer(row["id"], reference, row["locale"], finished))
        return stored
