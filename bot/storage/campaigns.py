"""Campaigns (the pilot and later rungs), their event log and debriefs; scoped through the partner's workspace."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from bot.domain.campaigns import (
    CampaignOutcome,
    ChecklistItem,
    Decision,
    EventKind,
    FinishedCampaign,
    ProblemKind,
    Recommendation,
    RecommendationResult,
    RecReason,
    ScopeWarning,
)
from bot.domain.partners import MarketCoverage, Stage
from bot.storage.db import Database

_CAMPAIGN_COLUMNS = (
    "c.id, c.partner_id, c.rung, c.creators, c.bigger_confirmed, c.deliverable, c.start_date, c.days, c.due_date, "
    "c.metrics, c.metrics_agreed, c.payment_terms, c.revision_limit, c.creators_market, c.checklist, "
    "c.charter_success, c.charter_failure, c.charter_renegotiate, c.warnings, c.manager_id, c.status, "
    "c.reminder_sent_at, c.created_at"
)
_IN_WORKSPACE = "JOIN partners p ON p.id = c.partner_id AND p.workspace_id = ?"


@dataclass(frozen=True, slots=True)
class CampaignScope:
    """A confirmed scope, ready to be stored."""

    creators: int
    bigger_confirmed: bool
    deliverable: str
    start_date: date
    days: int
    due_date: date
    metrics: str
    metrics_agreed: bool
    payment_terms: str
    revision_limit: int
    creators_market: MarketCoverage
    checklist: tuple[ChecklistItem, ...]
    charter_success: str
    charter_failure: str
    charter_renegotiate: str
    warnings: tuple[ScopeWarning, ...]


@dataclass(frozen=True, slots=True)
class Campaign:
    id: int
    partner_id: int
    rung: int
    scope: CampaignScope
    manager_id: int | None
    status: str
    reminder_sent_at: str | None
    created_at: str

    @property
    def running(self) -> bool:
        return self.status == "running"


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    id: int
    campaign_id: int
    kind: EventKind
    note: str | None
    source: str
    created_at: str


@dataclass(frozen=True, slots=True)
class Debrief:
    campaign_id: int
    what_worked: str
    what_didnt: str
    problem: ProblemKind
    quality: int
    recommendation: RecommendationResult
    decision: Decision
    override_reason: str | None
    created_at: str


@dataclass(frozen=True, slots=True)
class DueReminder:
    campaign_id: int
    workspace_id: int
    partner_id: int
    partner_name: str
    manager_id: int
    due_date: date


class CampaignAlreadyRunning(Exception):
    """The partner already has a running campaign: one at a time (a teammate may have just saved one)."""


class CampaignRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self,
        workspace_id: int,
        partner_id: int,
        rung: int,
        scope: CampaignScope,
        manager_id: int,
        new_stage: Stage,
        now: datetime,
    ) -> int | None:
        """Store the campaign and move the partner to its rung's stage at once; None for another workspace.

        Raises CampaignAlreadyRunning when one is running already, checked inside the same transaction."""
        async with self._db.transaction() as tx:
            owned = await tx.fetchval(
                "SELECT 1 FROM partners WHERE id = ? AND workspace_id = ?", (partner_id, workspace_id)
            )
            if owned is None:
                return None
            if await tx.fetchval("SELECT 1 FROM campaigns WHERE partner_id = ? AND status = 'running'", (partner_id,)):
                raise CampaignAlreadyRunning(partner_id)
            campaign_id = await tx.execute(
                "INSERT INTO campaigns (partner_id, rung, creators, bigger_confirmed, deliverable, start_date, days, "
                "due_date, metrics, metrics_agreed, payment_terms, revision_limit, creators_market, checklist, "
                "charter_success, charter_failure, charter_renegotiate, warnings, manager_id, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    partner_id,
                    rung,
                    scope.creators,
                    int(scope.bigger_confirmed),
                    scope.deliverable,
                    scope.start_date.isoformat(),
                    scope.days,
                    scope.due_date.isoformat(),
                    scope.metrics,
                    int(scope.metrics_agreed),
                    scope.payment_terms,
                    scope.revision_limit,
                    scope.creators_market.value,
                    json.dumps([i.value for i in scope.checklist]),
                    scope.charter_success,
                    scope.charter_failure,
                    scope.charter_renegotiate,
                    json.dumps([w.value for w in scope.warnings]),
                    manager_id,
                    now.isoformat(),
                ),
            )
            await tx.execute(
                "UPDATE partners SET stage = ?, updated_at = ? WHERE id = ?",
                (new_stage.value, now.isoformat(), partner_id),
            )
        return campaign_id

    async def get(self, workspace_id: int, campaign_id: int) -> Campaign | None:
        row = await self._db.fetchone(
            f"SELECT {_CAMPAIGN_COLUMNS} FROM campaigns c {_IN_WORKSPACE} WHERE c.id = ?", (workspace_id, campaign_id)
        )
        return None if row is None else _campaign(row)

    async def for_partner(self, workspace_id: int, partner_id: int) -> list[Campaign]:
        """The partner's campaigns, oldest first."""
        rows = await self._db.fetchall(
            f"SELECT {_CAMPAIGN_COLUMNS} FROM campaigns c {_IN_WORKSPACE} WHERE c.partner_id = ? ORDER BY c.id",
            (workspace_id, partner_id),
        )
        return [_campaign(r) for r in rows]

    async def running_in_workspace(self, workspace_id: int, limit: int) -> list[tuple[str, Campaign]]:
        """Running campaigns of active partners with the partner's name, soonest due first."""
        rows = await self._db.fetchall(
            f"SELECT p.name AS partner_name, {_CAMPAIGN_COLUMNS} FROM campaigns c {_IN_WORKSPACE} "
            "WHERE c.status = 'running' AND p.archived = 0 ORDER BY c.due_date, c.id LIMIT ?",
            (workspace_id, limit),
        )
        return [(r["partner_name"], _campaign(r)) for r in rows]

    async def add_event(
        self,
        workspace_id: int,
        campaign_id: int,
        kind: EventKind,
        note: str | None,
        by: int | None,
        now: datetime,
        source: str = "manager",
    ) -> int | None:
        async with self._db.session() as s:
            count = await s.execute_rowcount(
                "INSERT INTO campaign_events (campaign_id, kind, note, source, logged_by, created_at) "
                "SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM campaigns c "
                f"{_IN_WORKSPACE} WHERE c.id = ?)",
                (campaign_id, kind.value, note, source, by, now.isoformat(), workspace_id, campaign_id),
            )
            return await s.fetchval("SELECT last_insert_rowid()") if count == 1 else None

    async def set_event_note(self, workspace_id: int, event_id: int, note: str) -> bool:
        count = await self._db.execute_rowcount(
            "UPDATE campaign_events SET note = ? WHERE id = ? AND campaign_id IN "
            f"(SELECT c.id FROM campaigns c {_IN_WORKSPACE})",
            (note, event_id, workspace_id),
        )
        return count == 1

    async def events_for_partner(self, workspace_id: int, partner_id: int) -> list[LoggedEvent]:
        """Every logged event of every campaign of the partner, oldest first."""
        rows = await self._db.fetchall(
            "SELECT e.id, e.campaign_id, e.kind, e.note, e.source, e.created_at FROM campaign_events e "
            f"JOIN campaigns c ON c.id = e.campaign_id {_IN_WORKSPACE} WHERE c.partner_id = ? ORDER BY e.id",
            (workspace_id, partner_id),
        )
        return [
            LoggedEvent(r["id"], r["campaign_id"], EventKind(r["kind"]), r["note"], r["source"], r["created_at"])
            for r in rows
        ]

    async def debriefs_for_partner(self, workspace_id: int, partner_id: int) -> list[Debrief]:
        rows = await self._db.fetchall(
            "SELECT d.* FROM debriefs d JOIN campaigns c ON c.id = d.campaign_id "
            f"{_IN_WORKSPACE} WHERE c.partner_id = ? ORDER BY c.id",
            (workspace_id, partner_id),
        )
        return [_debrief(r) for r in rows]

    async def finished_on_ladder(self, workspace_id: int, partner_id: int) -> list[FinishedCampaign]:
        """The partner's debriefed campaigns, oldest first: each one's rung and its debrief's decision."""
        rows = await self._db.fetchall(
            f"SELECT c.rung, d.decision FROM campaigns c {_IN_WORKSPACE} "
            "LEFT JOIN debriefs d ON d.campaign_id = c.id "
            "WHERE c.partner_id = ? AND c.status != 'running' ORDER BY c.id",
            (workspace_id, partner_id),
        )
        return [FinishedCampaign(r["rung"], Decision(r["decision"]) if r["decision"] else None) for r in rows]

    async def history(self, workspace_id: int, partner_id: int, before_campaign: int) -> list[CampaignOutcome]:
        """Debriefed campaigns before this one, oldest first, as the recommendation rules read them."""
        events = await self.events_for_partner(workspace_id, partner_id)
        outcomes = []
        for debrief in await self.debriefs_for_partner(workspace_id, partner_id):
            if debrief.campaign_id >= before_campaign:
                continue
            own = tuple(e.kind for e in events if e.campaign_id == debrief.campaign_id)
            outcomes.append(CampaignOutcome(own, debrief.problem, debrief.quality))
        return outcomes

    async def save_debrief(
        self,
        workspace_id: int,
        campaign_id: int,
        debrief: Debrief,
        decided_by: int,
        new_stage: Stage,
        now: datetime,
    ) -> bool:
        """Debrief, campaign status and partner stage in one transaction; False if already debriefed or not ours."""
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                f"SELECT c.partner_id FROM campaigns c {_IN_WORKSPACE} WHERE c.id = ? AND c.status = 'running'",
                (workspace_id, campaign_id),
            )
            if row is None:
                return False
            await tx.execute(
                "INSERT INTO debriefs (campaign_id, what_worked, what_didnt, problem, quality, recommendation, "
                "reasons, decision, override_reason, decided_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    campaign_id,
                    debrief.what_worked,
                    debrief.what_didnt,
                    debrief.problem.value,
                    debrief.quality,
                    debrief.recommendation.recommendation.value,
                    json.dumps([r.value for r in debrief.recommendation.reasons]),
                    debrief.decision.value,
                    debrief.override_reason,
                    decided_by,
                    now.isoformat(),
                ),
            )
            await tx.execute("UPDATE campaigns SET status = 'debriefed' WHERE id = ?", (campaign_id,))
            await tx.execute(
                "UPDATE partners SET stage = ?, updated_at = ? WHERE id = ?",
                (new_stage.value, now.isoformat(), row["partner_id"]),
            )
        return True

    async def due_reminders(self, today: date) -> list[DueReminder]:
        """Running campaigns due by `today` whose manager has not been reminded yet (all workspaces)."""
        rows = await self._db.fetchall(
            "SELECT c.id, p.workspace_id, p.id AS partner_id, p.name, c.manager_id, c.due_date FROM campaigns c "
            "JOIN partners p ON p.id = c.partner_id "
            "WHERE c.status = 'running' AND c.reminder_sent_at IS NULL AND c.due_date <= ? "
            "AND c.manager_id IS NOT NULL",
            (today.isoformat(),),
        )
        return [
            DueReminder(
                r["id"],
                r["workspace_id"],
                r["partner_id"],
                r["name"],
                r["manager_id"],
                date.fromisoformat(r["due_date"]),
            )
            for r in rows
        ]

    async def claim_reminder(self, campaign_id: int, now: datetime) -> bool:
        """Marks the reminder as sent; True only for the one caller that marked it (never sent twice)."""
        count = await self._db.execute_rowcount(
            "UPDATE campaigns SET reminder_sent_at = ? WHERE id = ? AND reminder_sent_at IS NULL",
            (now.isoformat(), campaign_id),
        )
        return count == 1

    async def workspace_outcomes(self, workspace_id: int) -> list[tuple[int, Stage, list[Debrief]]]:
        """Per partner of the workspace with at least one debrief: its stage and debriefs, oldest first."""
        rows = await self._db.fetchall(
            "SELECT p.id AS partner_id, p.stage, d.* FROM debriefs d JOIN campaigns c ON c.id = d.campaign_id "
            "JOIN partners p ON p.id = c.partner_id WHERE p.workspace_id = ? ORDER BY p.id, c.id",
            (workspace_id,),
        )
        grouped: dict[int, tuple[Stage, list[Debrief]]] = {}
        for r in rows:
            grouped.setdefault(r["partner_id"], (Stage(r["stage"]), []))[1].append(_debrief(r))
        return [(pid, stage, debriefs) for pid, (stage, debriefs) in grouped.items()]


def _campaign(r: object) -> Campaign:
    row = r  # aiosqlite.Row
    scope = CampaignScope(
        creators=row["creators"],  # type: ignore[index]
        bigger_confirmed=bool(row["bigger_confirmed"]),  # type: ignore[index]
        deliverable=row["deliverable"],  # type: ignore[index]
        start_date=date.fromisoformat(row["start_date"]),  # type: ignore[index]
        days=row["days"],  # type: ignore[index]
        due_date=date.fromisoformat(row["due_date"]),  # type: ignore[index]
        metrics=row["metrics"],  # type: ignore[index]
        metrics_agreed=bool(row["metrics_agreed"]),  # type: ignore[index]
        payment_terms=row["payment_terms"],  # type: ignore[index]
        revision_limit=row["revision_limit"],  # type: ignore[index]
        creators_market=MarketCoverage(row["creators_market"]),  # type: ignore[index]
        checklist=tuple(ChecklistItem(i) for i in json.loads(row["checklist"])),  # type: ignore[index]
        charter_success=row["charter_success"],  # type: ignore[index]
        charter_failure=row["charter_failure"],  # type: ignore[index]
        charter_renegotiate=row["charter_renegotiate"],  # type: ignore[index]
        warnings=tuple(ScopeWarning(w) for w in json.loads(row["warnings"])),  # type: ignore[index]
    )
    return Campaign(
        row["id"],
        row["partner_id"],
        row["rung"],
        scope,
        row["manager_id"],
        row["status"],  # type: ignore[index]
        row["reminder_sent_at"],
        row["created_at"],  # type: ignore[index]
    )


def _debrief(r: object) -> Debrief:
    row = r
    result = RecommendationResult(
        Recommendation(row["recommendation"]),  # type: ignore[index]
        tuple(RecReason(x) for x in json.loads(row["reasons"])),  # type: ignore[index]
    )
    return Debrief(
        row["campaign_id"],
        row["what_worked"],
        row["what_didnt"],
        ProblemKind(row["problem"]),  # type: ignore[index]
        row["quality"],
        result,
        Decision(row["decision"]),
        row["override_reason"],
        row["created_at"],  # type: ignore[index]
    )
