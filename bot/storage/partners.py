"""Partners of a workspace. Every read and write is scoped by the caller's workspace id."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from bot.domain.evidence import ConversationSignal, ConversationSignals
from bot.domain.partners import MarketCoverage, PartnerKind, Stage, normalize_name_for_duplicates
from bot.storage.db import Database

_COLUMNS = (
    "id, workspace_id, name, kind, markets, contact, links, shared_doc, stage, archived, "
    "talked_failures, systematic_process, asked_constraints, created_at"
)
_SIGNAL_COLUMNS = {
    ConversationSignal.TALKED_FAILURES: "talked_failures",
    ConversationSignal.SYSTEMATIC_PROCESS: "systematic_process",
    ConversationSignal.ASKED_CONSTRAINTS: "asked_constraints",
}


@dataclass(frozen=True, slots=True)
class Partner:
    id: int
    workspace_id: int
    name: str
    kind: PartnerKind
    markets: MarketCoverage
    contact: str | None
    links: tuple[str, ...]
    shared_doc: str | None
    stage: Stage
    archived: bool
    signals: ConversationSignals
    created_at: str


@dataclass(frozen=True, slots=True)
class NewPartner:
    name: str
    kind: PartnerKind
    markets: MarketCoverage
    contact: str | None
    links: tuple[str, ...]


class PartnerRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, workspace_id: int, new: NewPartner, created_by: int, now: datetime) -> int:
        stamp = now.isoformat()
        return await self._db.execute(
            "INSERT INTO partners (workspace_id, name, name_key, kind, markets, contact, links, "
            "created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                workspace_id,
                new.name,
                normalize_name_for_duplicates(new.name),
                new.kind.value,
                new.markets.value,
                new.contact,
                json.dumps(list(new.links)),
                created_by,
                stamp,
                stamp,
            ),
        )

    async def same_name(self, workspace_id: int, name: str) -> list[Partner]:
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM partners WHERE workspace_id = ? AND name_key = ?",
            (workspace_id, normalize_name_for_duplicates(name)),
        )
        return [_partner(r) for r in rows]

    async def get(self, workspace_id: int, partner_id: int) -> Partner | None:
        """None when the partner does not exist or belongs to another workspace."""
        row = await self._db.lookup(
            f"SELECT {_COLUMNS} FROM partners WHERE id = ? AND workspace_id = ?", (partner_id, workspace_id)
        )
        return None if row is None else _partner(row)

    async def page(
        self, workspace_id: int, archived: bool, offset: int, limit: int, viewer_id: int
    ) -> tuple[list[tuple[Partner, float | None]], int]:
        """One page of partners and the count; the team score (mean of each rater's latest total) only where
        the viewer has submitted their own, as on the card."""
        async with self._db.session() as s:
            total = await s.fetchval(
                "SELECT COUNT(*) FROM partners WHERE workspace_id = ? AND archived = ?",
                (workspace_id, int(archived)),
            )
            rows = await s.fetchall(
                f"SELECT {_COLUMNS}, (SELECT AVG(sc.total) FROM scorecards sc WHERE EXISTS "
                "(SELECT 1 FROM scorecards own WHERE own.partner_id = partners.id AND own.rater_id = ?) AND sc.id IN "
                "(SELECT MAX(id) FROM scorecards WHERE partner_id = partners.id AND rater_id IS NOT NULL "
                "GROUP BY rater_id)) AS team_score "
                "FROM partners WHERE workspace_id = ? AND archived = ? ORDER BY name_key, id LIMIT ? OFFSET ?",
                (viewer_id, workspace_id, int(archived), limit, offset),
            )
        return [(_partner(r), r["team_score"]) for r in rows], int(total)

    async def set_archived(self, workspace_id: int, partner_id: int, archived: bool, now: datetime) -> bool:
        return await self._update(workspace_id, partner_id, "archived = ?", (int(archived),), now)

    async def set_stage(self, workspace_id: int, partner_id: int, stage: Stage, now: datetime) -> bool:
        return await self._update(workspace_id, partner_id, "stage = ?", (stage.value,), now)

    async def set_signal(
        self, workspace_id: int, partner_id: int, signal: ConversationSignal, value: bool, now: datetime
    ) -> bool:
        column = _SIGNAL_COLUMNS[signal]
        return await self._update(workspace_id, partner_id, f"{column} = ?", (int(value),), now)

    async def _update(
        self, workspace_id: int, partner_id: int, assignment: str, values: tuple[object, ...], now: datetime
    ) -> bool:
        changed = await self._db.execute_rowcount(
            f"UPDATE partners SET {assignment}, updated_at = ? WHERE id = ? AND workspace_id = ?",
            (*values, now.isoformat(), partner_id, workspace_id),
        )
        return changed == 1


def _partner(row: object) -> Partner:
    r = row
    return Partner(
        id=r["id"],  # type: ignore[index]
        workspace_id=r["workspace_id"],  # type: ignore[index]
        name=r["name"],  # type: ignore[index]
        kind=PartnerKind(r["kind"]),  # type: ignore[index]
        markets=MarketCoverage(r["markets"]),  # type: ignore[index]
        contact=r["contact"],  # type: ignore[index]
        links=tuple(json.loads(r["links"] or "[]")),  # type: ignore[index]
        shared_doc=r["shared_doc"],  # type: ignore[index]
        stage=Stage(r["stage"]),  # type: ignore[index]
        archived=bool(r["archived"]),  # type: ignore[index]
        signals=ConversationSignals(
            bool(r["talked_failures"]),  # type: ignore[index]
            bool(r["systematic_process"]),  # type: ignore[index]
            bool(r["asked_constraints"]),  # type: ignore[index]
        ),
        created_at=r["created_at"],  # type: ignore[index]
    )
