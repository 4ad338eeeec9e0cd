"""Conversation drafts as typed models (issue 15): stored FSM data is input, and drafts saved by the dataclass
version (before this change) still load after an upgrade."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import pytest
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.memory import MemoryStorage
from pydantic import Field, ValidationError

from bot.handlers.assessments import GutCheckDraft, ScorecardDraft
from bot.handlers.campaign_scope import ScopeFormDraft
from bot.handlers.checkins import AnswerDraft, SetupDraft
from bot.handlers.debrief import DebriefDraft
from bot.handlers.drafts import DraftModel, Entry, holds, one_of
from bot.handlers.evidence import EvidenceDraft
from bot.handlers.references import ReferenceDraft, ReferenceRequestDraft


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


class Sample(DraftModel):
    count: int = 0
    name: str = ""
    flag: bool = False
    colour: Annotated[str, one_of(Colour, "")] = ""
    small: Annotated[int, holds(lambda v: 1 <= v <= 5)] | None = None
    colours: list[Annotated[str, one_of(Colour), Entry]] = Field(default_factory=list)
    scores: dict[Annotated[str, one_of(Colour), Entry], Annotated[int, holds(lambda v: 1 <= v <= 5), Entry]] = Field(
        default_factory=dict
    )

    KEY = "sample"


def fsm() -> FSMContext:
    return FSMContext(storage=MemoryStorage(), key=StorageKey(bot_id=1, chat_id=2, user_id=3))


async def stored_as(raw: object, model: type[DraftModel] = Sample) -> DraftModel:
    state = fsm()
    await state.update_data({model.KEY: raw})
    return await model.load(state)


async def test_nothing_stored_is_an_empty_draft() -> None:
    assert await Sample.load(fsm()) == Sample()
    assert await stored_as("not a dict") == Sample()
    assert await stored_as([1, 2]) == Sample()


async def test_a_draft_round_trips_through_json_as_plain_values() -> None:
    state = fsm()
    draft = Sample(count=3, name="x", flag=True, colour="red", small=2, colours=["blue"], scores={"red": 4})
    await draft.save(state)
    stored = (await state.get_data())[Sample.KEY]
    assert stored == json.loads(json.dumps(stored))  # plain JSON, as the SQLite storage writes it
    assert stored == {"count": 3, "name": "x", "flag": True, "colour": "red", "small": 2, "colours": ["blue"],
                      "scores": {"red": 4}}
    assert await Sample.load(state) == draft


async def test_other_keys_in_fsm_data_stay_when_a_draft_is_saved() -> None:
    state = fsm()
    await state.update_data({"other": 1})
    await Sample(count=1).save(state)
    assert (await state.get_data())["other"] == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("count", True),  # a bool is not an int
        ("count", "5"),  # lax parsing would read it as 5
        ("count", 5.0),
        ("count", None),
        ("name", 5),
        ("flag", 1),  # lax parsing would read it as True
        ("flag", "true"),
        ("colour", "green"),  # not a Colour value
        ("small", 9),  # out of the domain's range
        ("small", False),
        ("colours", "red"),  # not a list
        ("scores", ["red"]),
    ],
)
async def test_a_wrong_field_falls_back_to_its_default_and_the_rest_stays(field: str, value: object) -> None:
    draft = await stored_as({"count": 2, "name": "kept", "flag": True, "colour": "blue", "small": 3, field: value})
    expected = Sample(count=2, name="kept", flag=True, colour="blue", small=3)
    default = Sample.model_fields[field].get_default(call_default_factory=True)
    assert draft == expected.model_copy(update={field: default})


async def test_an_invalid_entry_is_dropped_alone() -> None:
    draft = await stored_as({"colours": ["red", "green", 5, "blue"], "scores": {"red": 2, "green": 3, "blue": True}})
    assert draft == Sample(colours=["red", "blue"], scores={"red": 2})


async def test_unknown_keys_are_ignored_and_missing_ones_take_defaults() -> None:
    assert await stored_as({"count": 1, "gone": "a field an older version had"}) == Sample(count=1)


def test_in_code_a_wrong_value_is_a_bug_and_raises() -> None:
    with pytest.raises(ValidationError):
        Sample(count="5")  # type: ignore[arg-type]
    draft = Sample()
    with pytest.raises(ValidationError):
        draft.colour = "green"
    with pytest.raises(ValidationError):
        draft.count = True


# Each draft as the dataclass version saved it (asdict of a draft in the middle of its conversation).
OLD_SHAPES: list[tuple[type[DraftModel], dict[str, object]]] = [
    (DebriefDraft, {"partner_id": 4, "campaign_id": 7, "what_worked": "hooks", "what_didnt": "", "problem": "comm",
                    "quality": 4, "recommendation": "rerun", "reasons": ["comm_problem"], "decision": ""}),
    (EvidenceDraft, {"partner_id": 4, "market": "ru", "brand": "Acme", "outcome": "success", "months": 8,
                     "text": ""}),
    (SetupDraft, {"workspace_id": 1, "partner_id": 4, "partner_name": "Studio", "weekday": 2, "hour": 10,
                  "minute": 30, "timezone": "Europe/Moscow", "digest_hours": 48}),
    (AnswerDraft, {"round_id": 5, "shipped": "two videos", "next": "", "blockers": None}),
    (ReferenceDraft, {"link_hash": "ab12", "partner_id": 4, "editing": False, "duration": "6to12",
                      "months": 8, "market": "both", "ratings": {"consistency": 4}, "comments": {"consistency": "ok"},
                      "again": None, "anything_else": None, "started_at": "2026-12-01T10:00:00+00:00"}),
    (ReferenceRequestDraft, {"partner_id": 4}),  # as request_reference set it by hand
    (ScopeFormDraft, {"partner_id": 4, "partner_name": "Studio", "rung": 2, "creators": 3, "bigger_confirmed": False,
                      "deliverable": "3 videos", "start_date": "2026-12-07", "days": 14, "metrics": "CTR",
                      "metrics_agreed": True, "payment_terms": "50/50", "revision_limit": 2, "market": "us",
                      "checklist": ["contract", "usage_rights"], "charter_success": None, "charter_failure": None,
                      "charter_renegotiate": None, "editing": False}),
]


@pytest.mark.parametrize(("model", "old"), OLD_SHAPES, ids=lambda v: v.__name__ if isinstance(v, type) else "")
async def test_a_draft_saved_by_the_dataclass_version_loads_unchanged(model: type[DraftModel], old: dict) -> None:
    draft = await stored_as(old, model)
    assert draft == model(**old)
    state = fsm()
    await draft.save(state)
    assert (await state.get_data())[model.KEY] == old  # saved again in the same shape


async def test_a_debrief_draft_of_the_fsm_version_loads_without_its_message_id() -> None:
    """The FSM debrief kept the id of the message whose buttons were live; the dialog keeps its own."""
    shape = next(old for model, old in OLD_SHAPES if model is DebriefDraft)
    assert await stored_as(dict(shape, message_id=31), DebriefDraft) == DebriefDraft(**shape)


async def test_a_debrief_draft_keeps_only_values_the_domain_knows() -> None:
    draft = await stored_as({"partner_id": 4, "problem": "bogus", "quality": 9, "recommendation": "rerun",
                             "reasons": ["comm_problem", "no_such_reason", 3], "decision": True}, DebriefDraft)
    assert draft == DebriefDraft(partner_id=4, recommendation="rerun", reasons=["comm_problem"])
    assert (await stored_as({"quality": True}, DebriefDraft)).quality == 0


async def test_an_evidence_draft_drops_a_market_or_outcome_that_is_not_one() -> None:
    draft = await stored_as({"partner_id": 4, "market": "mars", "outcome": 1, "months": "8"}, EvidenceDraft)
    assert draft == EvidenceDraft(partner_id=4)


async def test_checkin_drafts_take_no_lax_numbers() -> None:
    setup = await stored_as({"workspace_id": 1, "partner_id": "4", "weekday": True, "hour": 10.0, "timezone": 3},
                            SetupDraft)
    assert setup == SetupDraft(workspace_id=1)
    assert await stored_as({"round_id": 5, "blockers": 0}, AnswerDraft) == AnswerDraft(round_id=5)


async def test_a_reference_draft_of_the_fsm_version_loads_without_its_step_and_message_id() -> None:
    """The FSM questionnaire kept its step and the id of the message whose buttons were live in the draft; the
    dialog's state is the step and the dialog keeps its own message (references.py reads an earlier version's
    step from the raw data when it resumes one)."""
    shape = next(old for model, old in OLD_SHAPES if model is ReferenceDraft)
    assert await stored_as({**shape, "step": "r", "message_id": 31}, ReferenceDraft) == ReferenceDraft(**shape)


async def test_a_reference_draft_keeps_only_known_steps_ratings_and_answers() -> None:
    draft = await stored_as({"partner_id": 4, "step": ["mo"], "editing": 1, "market": "mars", "again": "never",
                             "ratings": {"consistency": 4, "respect": 6, "growth": True, "charm": 5},
                             "comments": {"respect": "kind", "growth": 7, "charm": "x"}, "message_id": "31"},
                            ReferenceDraft)
    assert draft == ReferenceDraft(partner_id=4, ratings={"consistency": 4}, comments={"respect": "kind"})


@pytest.mark.parametrize(
    ("stored", "duration"),
    [
        ({"months": 8}, "6to12"),  # saved before ranges were kept: the range its months fall in
        ({"months": 8, "duration": "bogus"}, "6to12"),
        ({"months": 8, "duration": ["6to12"]}, "6to12"),  # unhashable: no TypeError
        ({"months": True}, None),
        ({"months": -1}, None),
        ({"months": "8"}, None),
        ({"duration": "lt3", "months": 30}, "lt3"),  # a range tapped stays what was tapped
    ],
)
async def test_a_reference_draft_without_a_range_takes_the_one_its_months_fall_in(stored: dict, duration: str) -> None:
    assert (await stored_as(stored, ReferenceDraft)).duration == duration


async def test_a_reference_request_for_a_forged_partner_has_none() -> None:
    assert (await stored_as({"partner_id": True}, ReferenceRequestDraft)).partner_id is None  # was 1 by hand


async def test_assessment_drafts_drop_answers_and_ratings_that_are_not_ones() -> None:
    gut = await stored_as({"partner_id": 4, "answers": {"ugc": 1, "markets": True, "mood": False}}, GutCheckDraft)
    assert gut == GutCheckDraft(partner_id=4, answers={"markets": True})
    card = await stored_as({"ratings": {"workflows": "5", "onboarding": 0, "metrics": 4}, "previous": []},
                           ScorecardDraft)
    assert card == ScorecardDraft(ratings={"metrics": 4})


async def test_a_scope_draft_takes_no_wrong_typed_answers() -> None:
    draft = await stored_as({"partner_id": 4, "rung": True, "creators": "3", "days": 14, "metrics_agreed": 1,
                             "market": "eu", "checklist": ["contract", "free_lunch", 2], "deliverable": 5},
                            ScopeFormDraft)
    assert draft == ScopeFormDraft(partner_id=4, days=14, checklist=["contract"])
