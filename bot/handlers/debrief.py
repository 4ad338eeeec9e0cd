"""Phase 3, the debrief: what worked, what didn't, the problem, quality; the recommendation; the decision."""

from __future__ import annotations

from typing import Annotated, Any

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from pydantic import Field

from bot import texts
from bot.clock import Clock
from bot.domain.campaigns import (
    QUALITY_MAX,
    QUALITY_MIN,
    Decision,
    LadderPosition,
    ProblemKind,
    Recommendation,
    RecommendationResult,
    RecReason,
    decision_differs,
    is_valid_quality,
    ladder_position,
    recommend,
    rung_of_stage,
    stage_after_decision,
    stage_of_rung,
)
from bot.domain.numbers import whole_or_none
from bot.domain.partners import Stage
from bot.handlers.campaign_log import campaign_number, running_campaign
from bot.handlers.cancel_notes import on_cancel
from bot.handlers.drafts import DraftModel, Entry, holds, one_of
from bot.handlers.filters import TYPED
from bot.handlers.partners import not_found_text, partner_or_say, show_partner_card
from bot.handlers.replies import drop_keyboard, edit_or_send, reply_here, say_stale, typed_text
from bot.handlers.workspace_guard import private_workspace_router
from bot.keyboards.callbacks import PartnerAction, PartnerCallback
from bot.keyboards.campaign_callbacks import DebriefDecisionCallback, DebriefProblemCallback, DebriefQualityCallback
from bot.keyboards.grid import ButtonGrid
from bot.storage.campaigns import Campaign, CampaignRepo, Debrief
from bot.storage.partners import Partner, PartnerRepo
from bot.storage.workspaces import Workspace
from bot.views import debrief_texts
from bot.views.debrief_texts import ANSWER_MAX_LEN, REASON_MAX_LEN
from bot.views.formatting import user_text
from bot.views.partner_card import PartnerCards


class DebriefForm(StatesGroup):
    waiting_for_what_worked = State()
    waiting_for_what_didnt = State()
    waiting_for_problem = State()
    waiting_for_quality = State()
    waiting_for_decision = State()
    waiting_for_override_reason = State()


class DebriefDraft(DraftModel):
    """A debrief in progress (FSM data, plain JSON): enum values as strings ("" until answered), the recommendation
    as shown."""

    partner_id: int = 0
    campaign_id: int = 0
    what_worked: str = ""
    what_didnt: str = ""
    problem: Annotated[str, one_of(ProblemKind, "")] = ""
    quality: Annotated[int, holds(lambda q: q == 0 or is_valid_quality(q))] = 0  # 0 until answered
    recommendation: Annotated[str, one_of(Recommendation, "")] = ""
    reasons: list[Annotated[str, one_of(RecReason), Entry]] = Field(default_factory=list)
    decision: Annotated[str, one_of(Decision, "")] = ""
    message_id: int | None = None  # the message whose buttons are live

    KEY = "debrief"

    def result(self) -> RecommendationResult | None:
        if not self.recommendation:
            return None
        return RecommendationResult(Recommendation(self.recommendation), tuple(RecReason(r) for r in self.reasons))


def _debrief_cancelled(_data: dict[str, Any]) -> str:
    return _("Cancelled: the debrief was not saved. The campaign still waits for it on the card.")


on_cancel(DebriefForm, _debrief_cancelled, back_to_card_of=DebriefDraft.KEY)


# The kinds of button data this feature's handlers take.
PRESSES = (PartnerCallback, DebriefProblemCallback, DebriefQualityCallback, DebriefDecisionCallback)


def router() -> Router:
    r = private_workspace_router("debrief", PRESSES)

    r.callback_query.register(debrief_start, PartnerCallback.filter(F.action == PartnerAction.DEBRIEF))
    r.message.register(what_worked_entered, StateFilter(DebriefForm.waiting_for_what_worked), TYPED)
    r.message.register(what_didnt_entered, StateFilter(DebriefForm.waiting_for_what_didnt), TYPED)
    r.callback_query.register(problem_chosen, DebriefProblemCallback.filter())
    r.callback_query.register(quality_chosen, DebriefQualityCallback.filter())
    r.message.register(quality_typed, StateFilter(DebriefForm.waiting_for_quality), TYPED)
    r.callback_query.register(decision_chosen, DebriefDecisionCallback.filter())
    r.message.register(override_reason_entered, StateFilter(DebriefForm.waiting_for_override_reason), TYPED)
    r.message.register(step_repeated, StateFilter(DebriefForm.waiting_for_what_worked))
    r.message.register(step_repeated, StateFilter(DebriefForm.waiting_for_what_didnt))
    r.message.register(step_repeated, StateFilter(DebriefForm.waiting_for_problem))
    r.message.register(step_repeated, StateFilter(DebriefForm.waiting_for_quality))
    r.message.register(step_repeated, StateFilter(DebriefForm.waiting_for_decision))
    r.message.register(step_repeated, StateFilter(DebriefForm.waiting_for_override_reason))
    return r


# ---- prompts -------------------------------------------------------------------------------------------


def _problem_keyboard(campaign_id: int) -> InlineKeyboardMarkup:
    b = ButtonGrid()
    for kind in ProblemKind:
        b.button(
            text=debrief_texts.problem(kind),
            callback_data=DebriefProblemCallback(campaign_id=campaign_id, problem=kind),
        )
    b.adjust(1)
    return b.as_markup()


def _quality_keyboard(campaign_id: int) -> InlineKeyboardMarkup:
    b = ButtonGrid()
    for quality in range(QUALITY_MIN, QUALITY_MAX + 1):
        b.button(text=str(quality), callback_data=DebriefQualityCallback(campaign_id=campaign_id, quality=quality))
    b.adjust(QUALITY_MAX - QUALITY_MIN + 1)
    return b.as_markup()


def _decision_keyboard(campaign_id: int, recommended: Recommendation) -> InlineKeyboardMarkup:
    b = ButtonGrid()
    for decision in Decision:
        text = debrief_texts.decision_button(decision)
        if not decision_differs(recommended, decision):
            text += " " + _("(recommended)")
        b.button(text=text, callback_data=DebriefDecisionCallback(campaign_id=campaign_id, decision=decision))
    b.adjust(2)
    return b.as_markup()


def _recap(draft: DebriefDraft) -> list[str]:
    kind = ProblemKind(draft.problem) if draft.problem else None
    return debrief_texts.recap(draft.what_worked, draft.what_didnt, kind, draft.quality)


def _recommendation_text(draft: DebriefDraft, heading: str, position: LadderPosition) -> str:
    result = draft.result()
    assert result is not None
    return debrief_texts.recommendation_text(heading, _recap(draft), result, position)


def _ask_override(draft: DebriefDraft) -> str:
    result = draft.result()
    chosen = Decision(draft.decision) if draft.decision else None
    return debrief_texts.ask_override(chosen, result.recommendation if result else None)


async def _send_step(
    message: Message,
    state: FSMContext,
    draft: DebriefDraft,
    partner: Partner,
    campaign: Campaign,
    campaigns: CampaignRepo,
    workspace: Workspace,
    *,
    edit: bool = False,
    hint: str | None = None,
) -> None:
    """Shows the current step (its question and buttons) and remembers the message whose buttons are live."""
    current = await state.get_state()
    number = await campaign_number(campaigns, workspace.id, campaign)
    title = debrief_texts.title(partner, campaign, number)
    markup: InlineKeyboardMarkup | None = None
    if current == DebriefForm.waiting_for_what_worked.state:
        text = debrief_texts.ask_what_worked()
    elif current == DebriefForm.waiting_for_what_didnt.state:
        text = debrief_texts.ask_what_didnt()
    elif current == DebriefForm.waiting_for_problem.state:
        text = "\n".join([title, "", *_recap(draft), "", debrief_texts.ask_problem()])
        markup = _problem_keyboard(campaign.id)
    elif current == DebriefForm.waiting_for_quality.state:
        text = "\n".join([title, "", *_recap(draft), "", debrief_texts.ask_quality()])
        markup = _quality_keyboard(campaign.id)
    elif current == DebriefForm.waiting_for_decision.state:
        _stage, position = await _ladder(partner, campaign, campaigns, workspace)
        text = _recommendation_text(draft, title, position)
        result = draft.result()
        markup = _decision_keyboard(campaign.id, result.recommendation) if result else None
    else:
        text = _ask_override(draft)
    if hint:
        text = hint + "\n\n" + text
    if edit and markup is not None:
        await edit_or_send(message, text, markup)
        draft.message_id = message.message_id
    else:
        sent = await message.answer(text, reply_markup=markup)
        draft.message_id = sent.message_id if markup else None
    await draft.save(state)


async def _ladder(
    partner: Partner, campaign: Campaign, campaigns: CampaignRepo, workspace: Workspace
) -> tuple[Stage, LadderPosition]:
    """The partner's ladder stage and the position on the rung the decision applies to, before this campaign."""
    stage = partner.stage if rung_of_stage(partner.stage) is not None else stage_of_rung(campaign.rung)
    rung = rung_of_stage(stage) or campaign.rung
    return stage, ladder_position(await campaigns.finished_on_ladder(workspace.id, partner.id), rung)


async def _load(
    workspace: Workspace, partners: PartnerRepo, campaigns: CampaignRepo, campaign_id: int
) -> tuple[Partner, Campaign] | None:
    """The campaign and its partner, read through the caller's workspace."""
    campaign = await campaigns.get(workspace.id, campaign_id)
    partner = None if campaign is None else await partners.get(workspace.id, campaign.partner_id)
    if campaign is None or partner is None:
        return None
    return partner, campaign


# ---- start ---------------------------------------------------------------------------------------------


async def debrief_start(
    callback: CallbackQuery,
    callback_data: PartnerCallback,
    state: FSMContext,
    bot: Bot,
    partners: PartnerRepo,
    campaigns: CampaignRepo,
    workspace: Workspace,
) -> None:
    """The card's (or the reminder's) "Debrief" button: step 1, or the step where an unfinished one stopped."""
    message = callback.message
    if not isinstance(message, Message):
        return
    partner = await partner_or_say(message, partners, workspace, callback_data.partner_id)
    if partner is None:
        return
    campaign = await running_campaign(campaigns, workspace.id, partner.id)
    if campaign is None:
        await message.answer(
            _("No campaign of <b>{name}</b> is waiting for a debrief.").format(name=user_text(partner.name))
        )
        return
    current = await state.get_state()
    draft = await DebriefDraft.load(state)
    if current in DebriefForm.__state_names__ and draft.campaign_id == campaign.id:
        await drop_keyboard(bot, message.chat.id, draft.message_id)
        resumed = _("Let's continue the debrief where you left off.")
        await _send_step(message, state, draft, partner, campaign, campaigns, workspace, hint=resumed)
        return
    if draft.message_id is not None:
        await drop_keyboard(bot, message.chat.id, draft.message_id)
    await state.set_data({})
    await state.set_state(DebriefForm.waiting_for_what_worked)
    draft = DebriefDraft(partner_id=partner.id, campaign_id=campaign.id)
    number = await campaign_number(campaigns, workspace.id, campaign)
    steps = _("Five short steps; what you enter is kept even if you stop halfway.")
    intro = debrief_texts.title(partner, campaign, number) + "\n" + steps
    await _send_step(message, state, draft, partner, campaign, campaigns, workspace, hint=intro)


# ---- text steps ----------------------------------------------------------------------------------------


async def _draft_in_workspace(
    message: Message, state: FSMContext, workspace: Workspace, partners: PartnerRepo, campaigns: CampaignRepo
) -> tuple[DebriefDraft, Partner, Campaign] | None:
    """The draft and what it debriefs, still ours and still running; otherwise the debrief ends with a word."""
    draft = await DebriefDraft.load(state)
    loaded = await _load(workspace, partners, campaigns, draft.campaign_id)
    if loaded is None:
        await state.clear()
        await message.answer(not_found_text())
        return None
    partner, campaign = loaded
    if not campaign.running:
        await state.clear()
        await message.answer(debrief_texts.already_debriefed(partner))
        return None
    return draft, partner, campaign


async def what_worked_entered(
    message: Message, state: FSMContext, partners: PartnerRepo, campaigns: CampaignRepo, workspace: Workspace
) -> None:
    """Step 1: what worked."""
    answer = await typed_text(message, ANSWER_MAX_LEN, when_empty=texts.text_expected(ANSWER_MAX_LEN))
    if answer is None:
        return
    loaded = await _draft_in_workspace(message, state, workspace, partners, campaigns)
    if loaded is None:
        return
    draft, partner, campaign = loaded
    draft.what_worked = answer
    await state.set_state(DebriefForm.waiting_for_what_didnt)
    await _send_step(message, state, draft, partner, campaign, campaigns, workspace)


async def what_didnt_entered(
    message: Message, state: FSMContext, partners: PartnerRepo, campaigns: CampaignRepo, workspace: Workspace
) -> None:
    """Step 2: what didn't work; then the problem kind buttons."""
    answer = await typed_text(message, ANSWER_MAX_LEN, when_empty=texts.text_expected(ANSWER_MAX_LEN))
    if answer is None:
        return
    loaded = await _draft_in_workspace(message, state, workspace, partners, campaigns)
    if loaded is None:
        return
    draft, partner, campaign = loaded
    draft.what_didnt = answer
    await state.set_state(DebriefForm.waiting_for_problem)
    await _send_step(message, state, draft, partner, campaign, campaigns, workspace)


# ---- button steps --------------------------------------------------------------------------------------


async def _button_step(
    callback: CallbackQuery,
    campaign_id: int,
    expected: State,
    state: FSMContext,
    partners: PartnerRepo,
    campaigns: CampaignRepo,
    workspace: Workspace,
) -> tuple[Message, DebriefDraft, Partner, Campaign] | None:
    """Checks a step's button: the campaign is ours and running, and the debrief is at this step for it."""
    message = callback.message
    if not isinstance(message, Message):
        return None
    loaded = await _load(workspace, partners, campaigns, campaign_id)
    if loaded is None:
        await message.answer(not_found_text())
        return None
    partner, campaign = loaded
    draft = await DebriefDraft.load(state)
    if await state.get_state() != expected.state or draft.campaign_id != campaign.id:
        await say_stale(message)
        return None
    if not campaign.running:
        await state.clear()
        await message.answer(debrief_texts.already_debriefed(partner))
        return None
    return message, draft, partner, campaign


async def problem_chosen(
    callback: CallbackQuery,
    callback_data: DebriefProblemCallback,
    state: FSMContext,
    partners: PartnerRepo,
    campaigns: CampaignRepo,
    workspace: Workspace,
) -> None:
    """Step 3: the kind of problem."""
    checked = await _button_step(
        callback, callback_data.campaign_id, DebriefForm.waiting_for_problem, state, partners, campaigns, workspace
    )
    if checked is None:
        return
    message, draft, partner, campaign = checked
    draft.problem = callback_data.problem.value
    await state.set_state(DebriefForm.waiting_for_quality)
    await _send_step(message, state, draft, partner, campaign, campaigns, workspace, edit=True)


async def quality_chosen(
    callback: CallbackQuery,
    callback_data: DebriefQualityCallback,
    state: FSMContext,
    partners: PartnerRepo,
    campaigns: CampaignRepo,
    workspace: Workspace,
) -> None:
    """Step 4: quality by button; then the recommendation."""
    checked = await _button_step(
        callback, callback_data.campaign_id, DebriefForm.waiting_for_quality, state, partners, campaigns, workspace
    )
    if checked is None:
        return
    message, draft, partner, campaign = checked
    if not is_valid_quality(callback_data.quality):
        await say_stale(message)
        return
    await _recommend(message, state, draft, partner, campaign, campaigns, workspace, callback_data.quality, edit=True)


async def quality_typed(
    message: Message, state: FSMContext, partners: PartnerRepo, campaigns: CampaignRepo, workspace: Workspace
) -> None:
    """Step 4: quality typed as one digit."""
    quality = whole_or_none(message.text, QUALITY_MIN, QUALITY_MAX) or 0
    loaded = await _draft_in_workspace(message, state, workspace, partners, campaigns)
    if loaded is None:
        return
    draft, partner, campaign = loaded
    if not is_valid_quality(quality):
        await _send_step(message, state, draft, partner, campaign, campaigns, workspace, hint=_quality_hint())
        return
    await _recommend(message, state, draft, partner, campaign, campaigns, workspace, quality, edit=False)


def _quality_hint() -> str:
    return _("Please rate from {min} to {max}: tap a button or type one digit.").format(
        min=QUALITY_MIN, max=QUALITY_MAX
    )


async def _recommend(
    message: Message,
    state: FSMContext,
    draft: DebriefDraft,
    partner: Partner,
    campaign: Campaign,
    campaigns: CampaignRepo,
    workspace: Workspace,
    quality: int,
    *,
    edit: bool,
) -> None:
    """The recommendation from this campaign's events, the answers and the partner's earlier debriefs."""
    if not draft.problem:  # damaged FSM data: ask for the problem kind again
        await state.set_state(DebriefForm.waiting_for_problem)
        await _send_step(message, state, draft, partner, campaign, campaigns, workspace, edit=edit)
        return
    events = [
        e.kind for e in await campaigns.events_for_partner(workspace.id, partner.id) if e.campaign_id == campaign.id
    ]
    history = await campaigns.history(workspace.id, partner.id, campaign.id)
    result = recommend(events, ProblemKind(draft.problem), quality, history)
    draft.quality = quality
    draft.recommendation = result.recommendation.value
    draft.reasons = [r.value for r in result.reasons]
    await state.set_state(DebriefForm.waiting_for_decision)
    await _send_step(message, state, draft, partner, campaign, campaigns, workspace, edit=edit)


async def decision_chosen(
    callback: CallbackQuery,
    callback_data: DebriefDecisionCallback,
    state: FSMContext,
    bot: Bot,
    partners: PartnerRepo,
    campaigns: CampaignRepo,
    cards: PartnerCards,
    workspace: Workspace,
    clock: Clock,
    i18n: I18n,
) -> None:
    """Step 5: the decision; one that departs from the recommendation needs a reason first."""
    checked = await _button_step(
        callback, callback_data.campaign_id, DebriefForm.waiting_for_decision, state, partners, campaigns, workspace
    )
    if checked is None:
        return
    message, draft, partner, campaign = checked
    result = draft.result()
    if result is None or not draft.problem or not draft.quality:  # damaged FSM data
        await state.clear()
        await say_stale(message)
        return
    draft.decision = callback_data.decision.value
    if decision_differs(result.recommendation, callback_data.decision):
        await drop_keyboard(bot, message.chat.id, message.message_id)
        await state.set_state(DebriefForm.waiting_for_override_reason)
        await _send_step(message, state, draft, partner, campaign, campaigns, workspace)
        return
    await _save(
        message, callback.from_user.id, state, draft, partner, campaign, None, campaigns, cards, workspace, clock, i18n
    )


async def override_reason_entered(
    message: Message,
    state: FSMContext,
    partners: PartnerRepo,
    campaigns: CampaignRepo,
    cards: PartnerCards,
    workspace: Workspace,
    clock: Clock,
    i18n: I18n,
) -> None:
    """Why the decision departs from the recommendation (required); then the debrief is saved."""
    reason = await typed_text(message, REASON_MAX_LEN, when_empty=texts.text_expected(REASON_MAX_LEN))
    if reason is None:
        return
    loaded = await _draft_in_workspace(message, state, workspace, partners, campaigns)
    if loaded is None:
        return
    draft, partner, campaign = loaded
    if draft.result() is None or not draft.decision or not draft.problem or not draft.quality:
        await state.clear()
        await say_stale(message)
        return
    user_id = message.from_user.id if message.from_user else 0
    await _save(message, user_id, state, draft, partner, campaign, reason, campaigns, cards, workspace, clock, i18n)


async def step_repeated(
    message: Message, state: FSMContext, partners: PartnerRepo, campaigns: CampaignRepo, workspace: Workspace
) -> None:
    """Anything else during the debrief: say what the current step needs, and ask it again."""
    if message.text and message.text.startswith("/"):
        await message.answer(texts.mid_conversation_command())
        return
    loaded = await _draft_in_workspace(message, state, workspace, partners, campaigns)
    if loaded is None:
        return
    draft, partner, campaign = loaded
    current = await state.get_state()
    hints = {
        DebriefForm.waiting_for_what_worked.state: texts.text_expected(ANSWER_MAX_LEN),
        DebriefForm.waiting_for_what_didnt.state: texts.text_expected(ANSWER_MAX_LEN),
        DebriefForm.waiting_for_problem.state: _("Please choose the kind of problem with the buttons."),
        DebriefForm.waiting_for_quality.state: _quality_hint(),
        DebriefForm.waiting_for_decision.state: _("Please choose your decision with the buttons."),
        DebriefForm.waiting_for_override_reason.state: texts.text_expected(REASON_MAX_LEN),
    }
    await _send_step(message, state, draft, partner, campaign, campaigns, workspace, hint=hints.get(current or ""))


# ---- saving --------------------------------------------------------------------------------------------


async def _save(
    message: Message,
    user_id: int,
    state: FSMContext,
    draft: DebriefDraft,
    partner: Partner,
    campaign: Campaign,
    override_reason: str | None,
    campaigns: CampaignRepo,
    cards: PartnerCards,
    workspace: Workspace,
    clock: Clock,
    i18n: I18n,
) -> None:
    """Debrief, campaign status and the stage the ladder allows, at once; then what happens next, and the card."""
    result = draft.result()
    assert result is not None
    decision = Decision(draft.decision)
    stage, before = await _ladder(partner, campaign, campaigns, workspace)
    position = before.after(decision)
    new_stage = stage_after_decision(stage, decision, position.counted)
    now = clock.now()
    debrief = Debrief(
        campaign_id=campaign.id,
        what_worked=draft.what_worked,
        what_didnt=draft.what_didnt,
        problem=ProblemKind(draft.problem),
        quality=draft.quality,
        recommendation=result,
        decision=decision,
        override_reason=override_reason,
        created_at=now.isoformat(),
    )
    saved = await campaigns.save_debrief(workspace.id, campaign.id, debrief, user_id, new_stage, now)
    await state.clear()
    if not saved:
        await message.answer(debrief_texts.already_debriefed(partner))
        return
    lines = [
        _("✅ Debrief saved for <b>{name}</b>. Your decision: {decision}.").format(
            name=user_text(partner.name), decision=debrief_texts.decision(decision)
        )
    ]
    if override_reason:
        lines.append(_("Why: {reason}").format(reason=user_text(override_reason)))
    lines.append(debrief_texts.next_text(partner, decision, position, new_stage))
    await reply_here(message, "\n".join(lines))
    await show_partner_card(message, user_id, partner.id, cards, workspace, i18n, edit=False)
