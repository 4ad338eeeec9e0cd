"""Case studies, testimonials and community activity of a partner; scoped through the partner's workspace."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Generic, TypeVar

from bot.domain.evidence import CaseStudy, CommunityActivity, Outcome, Testimonial
from bot.domain.partners import Market
from bot.storage.db import Database

# A row belongs to the caller only when its partner is in the caller's workspace.
T = TypeVar("T")

_OWNED = "partner_id IN (SELECT id FROM partners WHERE id = ? AND workspace_id = ?)"


class EvidenceKind(StrEnum):
    CASE = "case"
    TESTIMONIAL = "testi"
    COMMUNITY = "comm"


_TABLES = {
    EvidenceKind.CASE: "case_studies",
    EvidenceKind.TESTIMONIAL: "testimonials",
    EvidenceKind.COMMUNITY: "community_activities",
}


@dataclass(frozen=True, slots=True)
class Stored(Generic[T]):
    id: int
    item: T
    created_at: str


class EvidenceRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add_case(
        self, workspace_id: int, partner_id: int, case: CaseStudy, by: int, now: datetime
    ) -> int | None:
        """The new id, or None when the partner is not in this workspace."""
        return await self._insert(
            workspace_id,
            partner_id,
            "INSERT INTO case_studies (partner_id, market, brand, outcome, months, link, added_by, created_at) "
            "SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM partners WHERE id = ? AND workspace_id = ?)",
            (partner_id, case.market.value, case.brand, case.outcome.value, case.months, case.link, by),
            now,
        )

    async def add_testimonial(
        self, workspace_id: int, partner_id: int, item: Testimonial, by: int, now: datetime
    ) -> int | None:
        return await self._insert(
            workspace_id,
            partner_id,
            "INSERT INTO testimonials (partner_id, text, author, added_by, created_at) "
            "SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM partners WHERE id = ? AND workspace_id = ?)",
            (partner_id, item.text, item.author or "", by),
            now,
        )

    async def add_community(
        self, workspace_id: int, partner_id: int, item: CommunityActivity, by: int, now: datetime
    ) -> int | None:
        return await self._insert(
            workspace_id,
            partner_id,
            "INSERT INTO community_activities (partner_id, text, link, added_by, created_at) "
            "SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM partners WHERE id = ? AND workspace_id = ?)",
            (partner_id, item.text, item.link, by),
            now,
        )

    async def _insert(
        self, workspace_id: int, partner_id: int, sql: str, values: tuple[object, ...], now: datetime
    ) -> int | None:
        async with self._db.session() as s:
            count = await s.execute_rowcount(sql, (*values, now.isoformat(), partner_id, workspace_id))
            return await s.fetchval("SELECT last_insert_rowid()") if count == 1 else None

    async def cases(self, workspace_id: int, partner_id: int) -> list[Stored[CaseStudy]]:
        rows = await self._db.fetchall(
            f"SELECT id, market, brand, outcome, months, link, created_at FROM case_studies WHERE {_OWNED} "
            "ORDER BY id",
            (partner_id, workspace_id),
        )
        return [
            Stored(
                r["id"],
                CaseStudy(Market(r["market"]), r["brand"], Outcome(r["outcome"]), r["months"], r["link"]),
                r["created_at"],
            )
            for r in rows
        ]

    async def testimonials(self, workspace_id: int, partner_id: int) -> list[Stored[Testimonial]]:
        rows = await self._db.fetchall(
            f"SELECT id, text, author, created_at FROM testimonials WHERE {_OWNED} ORDER BY id",
            (partner_id, workspace_id),
        )
        return [Stored(r["id"], Testimonial(r["text"], r["author"] or None), r["created_at"]) for r in rows]

    async def community(self, workspace_id: int, partner_id: int) -> list[Stored[CommunityActivity]]:
        rows = await self._db.fetchall(
            f"SELECT id, text, link, created_at FROM community_activities WHERE {_OWNED} ORDER BY id",
            (partner_id, workspace_id),
        )
        return [Stored(r["id"], CommunityActivity(r["text"], r["link"]), r["created_at"]) for r in rows]

    async def delete(self, workspace_id: int, partner_id: int, kind: EvidenceKind, item_id: int) -> bool:
        """False when the item does not exist or is not this workspace's."""
        count = await self._db.execute_rowcount(
            f"DELETE FROM {_TABLES[kind]} WHERE id = ? AND {_OWNED}", (item_id, partner_id, workspace_id)
        )
        return count == 1
