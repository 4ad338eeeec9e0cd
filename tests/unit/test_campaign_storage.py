"""CampaignRepo rules that live in SQL: workspace scoping, one running campaign, a reminder claimed once."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.domain.campaigns import Decision, FinishedCampaign, ProblemKind, Recommendation, RecommendationResult
from bot.domain.partners import MarketCoverage, PartnerKind, Stage
from bot.storage.campaigns import CampaignAlreadyRunning, CampaignRepo, CampaignScope, Debrief
from bot.storage.db import Database
from bot.storage.partners import NewPartner, PartnerRepo
from bot.storage.users import UserRepo
from bot.storage.workspaces import Workspace, WorkspaceRepo

NOW = datetime(2026, 11, 24, 9, tzinfo=UTC)
SCOPE = CampaignScope(
    creators=1,
    bigger_confirmed=False,
    deliverable="1 video",
    start_date=date(2026, 11, 24),
    days=14,
    due_date=date(2026, 12, 8),
    metrics="CTR",
    metrics_agreed=True,
    payment_terms="50/50",
    revision_limit=2,
    creators_market=MarketCoverage.US,
    checklist=(),
    charter_success="s",
    charter_failure="f",
    charter_renegotiate="r",
    warnings=(),
)


async def _two_workspaces_and_a_partner(db: Database) -> tuple[Workspace, Workspace, int]:
    """Workspaces of users 1 and 2, and a partner in the first."""
    await UserRepo(db).touch(1, "en", NOW)
    await UserRepo(db).touch(2, "en", NOW)
    mine = await WorkspaceRepo(db).create_for_owner("Mine", 1, NOW)
    other = await WorkspaceRepo(db).create_for_owner("Other", 2, NOW)
    partner = await PartnerRepo(db).create(
        mine.id, NewPartner("P", PartnerKind.AGENCY, MarketCoverage.BOTH, None, ()), 1, NOW
    )
    return mine, other, partner


async def test_one_running_campaign_per_partner_and_reminder_once(db: Database) -> None:
    mine, other, partner = await _two_workspaces_and_a_partner(db)
    campaigns = CampaignRepo(db)
    assert await campaigns.create(other.id, partner, 1, SCOPE, 2, Stage.PILOT, NOW) is None
    first = await campaigns.create(mine.id, partner, 1, SCOPE, 1, Stage.PILOT, NOW)
    assert first is not None
    with pytest.raises(CampaignAlreadyRunning):
        await campaigns.create(mine.id, partner, 1, SCOPE, 1, Stage.PILOT, NOW)
    assert await db.fetchval("SELECT COUNT(*) FROM campaigns") == 1

    assert await campaigns.due_reminders(date(2026, 12, 7)) == []
    due = await campaigns.due_reminders(date(2026, 12, 8))
    assert [r.campaign_id for r in due] == [first]
    assert await campaigns.claim_reminder(first, NOW) is True
    assert await campaigns.claim_reminder(first, NOW) is False
    assert await campaigns.due_reminders(date(2026, 12, 9)) == []


async def test_finished_on_ladder_gives_each_debriefed_campaign_its_rung_and_decision(db: Database) -> None:
    mine, other, partner = await _two_workspaces_and_a_partner(db)
    campaigns = CampaignRepo(db)
    result = RecommendationResult(Recommendation.EXPAND, ())
    for rung, decision in ((1, Decision.EXPAND), (2, Decision.RERUN), (2, Decision.PAUSE), (2, Decision.EXPAND)):
        campaign_id = await campaigns.create(mine.id, partner, rung, SCOPE, 1, Stage.PILOT, NOW)
        assert campaign_id is not None
        debrief = Debrief(campaign_id, "a", "b", ProblemKind.NONE, 4, result, decision, None, NOW.isoformat())
        assert await campaigns.save_debrief(mine.id, campaign_id, debrief, 1, Stage.RUNG2, NOW)
    await campaigns.create(mine.id, partner, 2, SCOPE, 1, Stage.RUNG2, NOW)  # running: not on the record yet

    assert await campaigns.finished_on_ladder(mine.id, partner) == [
        FinishedCampaign(1, Decision.EXPAND),
        FinishedCampaign(2, Decision.RERUN),
        FinishedCampaign(2, Decision.PAUSE),
        FinishedCampaign(2, Decision.EXPAND),
    ]
    assert await campaigns.finished_on_ladder(other.id, partner) == []  # read through the workspace only
