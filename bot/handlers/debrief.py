"""Phase 3, the debrief: what worked, what didn't, the problem, quality; the recommendation; the decision.

Declared as data: an aiogram-dialog Dialog whose windows are the steps (bot/handlers/dialog_steps.py has what every
step does with what it cannot take). The draft is kept in the dialog's records, so a debrief stopped halfway — or
across a restart — resumes at its step when "Debrief" is pressed again for the same campaign.
"""

from __future__ import annotations

from typing import Annotated, Any

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager, ShowMode, StartMode, Window
from aiogram_dialog.widgets.input import MessageInput, TextInput
from aiogram_dialog.widgets.kbd import Column, Group, Select
from aiogram_dialog.widgets.text import Format
from pydantic import Field

from bot import texts
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
from bot.handlers.dialog_steps import (
    NOT_A_COMMAND,
    note,
    pressed_message,
    refused,
    screen,
    stale,
    text_expected,
    typed_answer,
)
from bot.handlers.drafts import DraftModel, Entry, holds, one_of
from bot.handlers.partners import not_found_text, partner_or_say, show_partner_card
from bot.handlers.replies import drop_keyboard, reply_here
from bot.handlers.workspace_guard import dialogs_in_workspace, private_workspace_router
from bot.keyboards.callbacks import PartnerAction, PartnerCallback
from bot.plumbing.dialogs import presses_of_its_own
from bot.plumbing.middlewares import notify_press
from bot.storage.campaigns import Campaign, CampaignRepo, Debrief
from bot.storage.partners import Partner, PartnerRepo
from bot.storage.workspaces import Workspace
from bot.views import debrief_texts
from bot.views.debrief_texts import ANSWER_MAX_LEN, REASON_MAX_LEN
from bot.views.formatting import button_label, user_text


class DebriefForm(StatesGroup):
    waiting_for_what_worked = State()
    waiting_for_what_didnt = State()
    waiting_for_problem = State()
    waiting_for_quality = State()
    waiting_for_decision = State()
    waiting_for_override_reason = State()


class DebriefDraft(DraftModel):
    """A debrief in progress (the dialog's data, plain JSON): enum values as strings ("" until answered), the
    recommendation as shown."""

    partner_id: int = 0
    campaign_id: int = 0
    what_worked: str = ""
    what_didnt: str = ""
    problem: Annotated[str, one_of(ProblemKind, "")] = ""
    quality: Annotated[int, holds(lambda q: q == 0 or is_valid_quality(q))] = 0  # 0 until answered
    recommendation: Annotated[str, one_of(Recommendation, "")] = ""
    reasons: list[Annotated[str, one_of(RecReason), Entry]] = Field(default_factory=list)
    decision: Annotated[str, one_of(Decision, "")] = ""

    KEY = "debrief"

    def result(self) -> RecommendationResult | None:
        if not self.recommendation:
            return None
        return RecommendationResult(Recommendation(self.recommendation), tuple(RecReason(r) for r in self.reasons))


def _debrief_cancelled(_data: dict[str, Any]) -> str:
    return _("Cancelled: the debrief was not saved. The campaign still waits for it on the card.")


on_cancel(DebriefForm, _debrief_cancelled, back_to_card_of=DebriefDraft.KEY)


# The kinds of button data that start (or resume) a debrief; the steps' own buttons are the dialog's.
PRESSES = (PartnerCallback,)


def router() -> Router:
    r = private_workspace_router("debrief", PRESSES)
    r.callback_query.register(debrief_start, PartnerCallback.filter(F.action == PartnerAction.DEBRIEF))
    return r


def conversations() -> Router:
    """The debrief's steps, apart from `router()`: their presses carry the dialog's own data."""
    return dialogs_in_workspace("debrief_form", dialog())


# ---- start ---------------------------------------------------------------------------------------------


async def debrief_start(
    callback: CallbackQuery,
    pressed: Message,
    callback_data: PartnerCallback,
    state: FSMContext,
    dialog_manager: DialogManager,
    partners: PartnerRepo,
    campaigns: CampaignRepo,
    workspace: Workspace,
) -> None:
    """The card's (or the reminder's) "Debrief" button: step 1 as a new message, or the step where an unfinished
    debrief of the same campaign stopped."""
    message = pressed
    partner = await partner_or_say(message, partners, workspace, callback_data.partner_id)
    if partner is None:
        return
    campaign = await running_campaign(campaigns, workspace.id, partner.id)
    if campaign is None:  # a reminder or an old card pressed after the debrief: a pop-up, and its button goes
        nothing = _("No campaign of {name} is waiting for a debrief.").format(name=button_label(partner.name, 60))
        if not notify_press(nothing):
            await message.answer(nothing)
        await _retire_prompt(callback, dialog_manager)
        return
    await _retire_prompt(callback, dialog_manager)
    resumed = _("Let's continue the debrief where you left off.")
    if _open_debrief(dialog_manager, campaign.id):
        bot: Bot = dialog_manager.middleware_data["bot"]
        await drop_keyboard(bot, message.chat.id, dialog_manager.current_stack().last_message_id)
        note(dialog_manager, resumed)
        await dialog_manager.show(ShowMode.SEND)
        return
    step, draft = await _left_by_an_earlier_version(state, campaign.id)
    await state.clear()
    if step is not None and draft is not None:
        await _start(dialog_manager, step, draft, resumed)
        return
    number = await campaign_number(campaigns, workspace.id, campaign)
    steps = _("Five short steps; what you enter is kept even if you stop halfway.")
    intro = debrief_texts.title(partner, campaign, number) + "\n" + steps
    draft = DebriefDraft(partner_id=partner.id, campaign_id=campaign.id)
    await _start(dialog_manager, DebriefForm.waiting_for_what_worked, draft, intro)


async def _retire_prompt(callback: CallbackQuery, manager: DialogManager) -> None:
    """A message whose only button is this "Debrief" (the due-date reminder) has done its job once the debrief
    starts: it keeps its text, its button comes off. A card keeps its buttons."""
    message = pressed_message(manager)
    markup = message.reply_markup
    buttons = [button for row in markup.inline_keyboard for button in row] if markup else []
    if len(buttons) == 1 and buttons[0].callback_data == callback.data:
        await drop_keyboard(manager.middleware_data["bot"], message.chat.id, message.message_id)


def _open_debrief(manager: DialogManager, campaign_id: int) -> bool:
    """Whether the person's open dialog is a debrief of this campaign."""
    if not manager.has_context():
        return False
    context = manager.current_context()
    if context.state.group is not DebriefForm:
        return False
    return DebriefDraft.from_stored(context.dialog_data.get(DebriefDraft.KEY)).campaign_id == campaign_id


async def _left_by_an_earlier_version(state: FSMContext, campaign_id: int) -> tuple[State | None, DebriefDraft | None]:
    """A debrief of this campaign that an earlier version kept in FSM state and data: its step and its draft."""
    current = await state.get_state()
    step = next((s for s in DebriefForm.__states__ if s.state == current), None)
    draft = await DebriefDraft.load(state) if step is not None else None
    if draft is None or draft.campaign_id != campaign_id:
        return None, None
    return step, draft


async def _start(manager: DialogManager, step: State, draft: DebriefDraft, intro: str) -> None:
    await manager.start(
        step, data={DebriefDraft.KEY: draft.model_dump(mode="json"), "intro": intro},
        mode=StartMode.RESET_STACK, show_mode=ShowMode.SEND,
    )


async def _on_start(start_data: Any, manager: DialogManager) -> None:
    data = start_data if isinstance(start_data, dict) else {}
    DebriefDraft.from_stored(data.get(DebriefDraft.KEY)).keep_in_dialog(manager)
    note(manager, str(data.get("intro", "")))


# ---- what each step shows --------------------------------------------------------------------------------


async def _subject(manager: DialogManager) -> tuple[DebriefDraft, Partner, Campaign] | None:
    """The draft and what it debriefs, read through the caller's workspace."""
    draft = DebriefDraft.in_dialog(manager)
    data = manager.middleware_data
    workspace: Workspace = data["workspace"]
    campaigns: CampaignRepo = data["campaigns"]
    campaign = await campaigns.get(workspace.id, draft.campaign_id)
    partner = None if campaign is None else await data["partners"].get(workspace.id, campaign.partner_id)
    if campaign is None or partner is None:
        return None
    return draft, partner, campaign


async def _heading(manager: DialogManager) -> tuple[DebriefDraft, Partner, Campaign, str] | None:
    subject = await _subject(manager)
    if subject is None:
        return None
    draft, partner, campaign = subject
    workspace: Workspace = manager.middleware_data["workspace"]
    number = await campaign_number(manager.middleware_data["campaigns"], workspace.id, campaign)
    return draft, partner, campaign, debrief_texts.title(partner, campaign, number)


def _recap(draft: DebriefDraft) -> list[str]:
    kind = ProblemKind(draft.problem) if draft.problem else None
    return debrief_texts.recap(draft.what_worked, draft.what_didnt, kind, draft.quality)


async def what_worked_view(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    return screen(dialog_manager, debrief_texts.ask_what_worked())


async def what_didnt_view(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    return screen(dialog_manager, debrief_texts.ask_what_didnt())


async def problem_view(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    shown = await _heading(dialog_manager)
    text = "" if shown is None else "\n".join([shown[3], "", *_recap(shown[0]), "", debrief_texts.ask_problem()])
    problems = [(debrief_texts.problem(kind), kind.value) for kind in ProblemKind]
    return {**screen(dialog_manager, text), "problems": problems}


async def quality_view(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    shown = await _heading(dialog_manager)
    text = "" if shown is None else "\n".join([shown[3], "", *_recap(shown[0]), "", debrief_texts.ask_quality()])
    return {**screen(dialog_manager, text), "qualities": [str(q) for q in range(QUALITY_MIN, QUALITY_MAX + 1)]}


async def decision_view(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    shown = await _heading(dialog_manager)
    if shown is None or (result := shown[0].result()) is None:
        return {**screen(dialog_manager, ""), "decisions": []}
    draft, partner, campaign, heading = shown
    _stage, position = await _ladder(partner, campaign, dialog_manager)
    text = debrief_texts.recommendation_text(heading, _recap(draft), result, position)
    decisions = []
    for decision in Decision:
        label = debrief_texts.decision_button(decision)
        if not decision_differs(result.recommendation, decision):
            label += " " + _("(recommended)")
        decisions.append((label, decision.value))
    return {**screen(dialog_manager, text), "decisions": decisions}


async def override_view(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    draft = DebriefDraft.in_dialog(dialog_manager)
    result = draft.result()
    chosen = Decision(draft.decision) if draft.decision else None
    question = debrief_texts.ask_override(chosen, result.recommendation if result else None)
    return screen(dialog_manager, question)


async def _ladder(partner: Partner, campaign: Campaign, manager: DialogManager) -> tuple[Stage, LadderPosition]:
    """The partner's ladder stage and the position on the rung the decision applies to, before this campaign."""
    workspace: Workspace = manager.middleware_data["workspace"]
    campaigns: CampaignRepo = manager.middleware_data["campaigns"]
    stage = partner.stage if rung_of_stage(partner.stage) is not None else stage_of_rung(campaign.rung)
    rung = rung_of_stage(stage) or campaign.rung
    return stage, ladder_position(await campaigns.finished_on_ladder(workspace.id, partner.id), rung)


# ---- what each step takes --------------------------------------------------------------------------------


async def _still_open(message: Message, manager: DialogManager) -> tuple[DebriefDraft, Partner, Campaign] | None:
    """The draft and what it debriefs, still ours and still running; otherwise the debrief ends with a word."""
    subject = await _subject(manager)
    if subject is None or not subject[2].running:
        await manager.done(show_mode=ShowMode.NO_UPDATE)
        await message.answer(not_found_text() if subject is None else debrief_texts.already_debriefed(subject[1]))
        return None
    return subject


async def what_worked_entered(message: Message, _widget: Any, manager: DialogManager, answer: str) -> None:
    """Step 1: what worked."""
    if (subject := await _still_open(message, manager)) is None:
        return
    draft = subject[0]
    draft.what_worked = answer
    draft.keep_in_dialog(manager)
    await manager.switch_to(DebriefForm.waiting_for_what_didnt)


async def what_didnt_entered(message: Message, _widget: Any, manager: DialogManager, answer: str) -> None:
    """Step 2: what didn't work; then the problem kind buttons."""
    if (subject := await _still_open(message, manager)) is None:
        return
    draft = subject[0]
    draft.what_didnt = answer
    draft.keep_in_dialog(manager)
    await manager.switch_to(DebriefForm.waiting_for_problem)


async def problem_chosen(callback: CallbackQuery, _widget: Any, manager: DialogManager, value: str) -> None:
    """Step 3: the kind of problem."""
    if value not in {kind.value for kind in ProblemKind}:
        await stale(callback, manager)
        return
    if (subject := await _still_open(pressed_message(manager), manager)) is None:
        return
    draft = subject[0]
    draft.problem = value
    draft.keep_in_dialog(manager)
    await manager.switch_to(DebriefForm.waiting_for_quality)


def _quality_hint() -> str:
    return _("Please rate from {min} to {max}: tap a button or type one digit.").format(
        min=QUALITY_MIN, max=QUALITY_MAX
    )


def parse_quality(typed: str) -> int:
    quality = whole_or_none(typed, QUALITY_MIN, QUALITY_MAX)
    if quality is None or not is_valid_quality(quality):
        raise ValueError(_quality_hint())
    return quality


async def quality_chosen(callback: CallbackQuery, _widget: Any, manager: DialogManager, value: str) -> None:
    """Step 4: quality by button; then the recommendation, in place."""
    quality = whole_or_none(value, QUALITY_MIN, QUALITY_MAX)
    if quality is None:
        await stale(callback, manager)
        return
    await _recommend(pressed_message(manager), manager, quality)


async def quality_typed(message: Message, _widget: Any, manager: DialogManager, quality: int) -> None:
    """Step 4: quality typed as one digit; the recommendation follows as a new message."""
    await _recommend(message, manager, quality)


async def _recommend(message: Message, manager: DialogManager, quality: int) -> None:
    """The recommendation from this campaign's events, the answers and the partner's earlier debriefs."""
    if (subject := await _still_open(message, manager)) is None:
        return
    draft, partner, campaign = subject
    if not draft.problem:  # a draft that lost its answer: ask for the problem kind again
        await manager.switch_to(DebriefForm.waiting_for_problem)
        return
    workspace: Workspace = manager.middleware_data["workspace"]
    campaigns: CampaignRepo = manager.middleware_data["campaigns"]
    events = [
        e.kind for e in await campaigns.events_for_partner(workspace.id, partner.id) if e.campaign_id == campaign.id
    ]
    history = await campaigns.history(workspace.id, partner.id, campaign.id)
    result = recommend(events, ProblemKind(draft.problem), quality, history)
    draft.quality = quality
    draft.recommendation = result.recommendation.value
    draft.reasons = [r.value for r in result.reasons]
    draft.keep_in_dialog(manager)
    await manager.switch_to(DebriefForm.waiting_for_decision)


async def decision_chosen(callback: CallbackQuery, _widget: Any, manager: DialogManager, value: str) -> None:
    """Step 5: the decision; one that departs from the recommendation needs a reason first (asked below, the
    recommendation stays in the chat without its buttons)."""
    message = pressed_message(manager)
    if value not in {d.value for d in Decision}:
        await stale(callback, manager)
        return
    if (subject := await _still_open(message, manager)) is None:
        return
    draft = subject[0]
    result = draft.result()
    if result is None or not draft.problem or not draft.quality:  # a draft that lost its answers
        await manager.done(show_mode=ShowMode.NO_UPDATE)
        await stale(callback, manager)
        return
    draft.decision = value
    draft.keep_in_dialog(manager)
    if decision_differs(result.recommendation, Decision(value)):
        bot: Bot = manager.middleware_data["bot"]
        await drop_keyboard(bot, message.chat.id, message.message_id)
        await manager.switch_to(DebriefForm.waiting_for_override_reason, show_mode=ShowMode.SEND)
        return
    await _save(message, callback.from_user.id, manager, subject, None)


async def override_reason_entered(message: Message, _widget: Any, manager: DialogManager, reason: str) -> None:
    """Why the decision departs from the recommendation (required); then the debrief is saved."""
    if (subject := await _still_open(message, manager)) is None:
        return
    draft = subject[0]
    if draft.result() is None or not draft.decision or not draft.problem or not draft.quality:
        await manager.done(show_mode=ShowMode.NO_UPDATE)
        await message.answer(debrief_texts.already_debriefed(subject[1]))
        return
    await _save(message, message.from_user.id if message.from_user else 0, manager, subject, reason)


# ---- saving --------------------------------------------------------------------------------------------


async def _save(
    message: Message,
    user_id: int,
    manager: DialogManager,
    subject: tuple[DebriefDraft, Partner, Campaign],
    override_reason: str | None,
) -> None:
    """Debrief, campaign status and the stage the ladder allows, at once; then what happens next, and the card."""
    draft, partner, campaign = subject
    result = draft.result()
    assert result is not None
    data = manager.middleware_data
    workspace: Workspace = data["workspace"]
    campaigns: CampaignRepo = data["campaigns"]
    decision = Decision(draft.decision)
    stage, before = await _ladder(partner, campaign, manager)
    position = before.after(decision)
    new_stage = stage_after_decision(stage, decision, position.counted)
    now = data["clock"].now()
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
    await manager.done(show_mode=ShowMode.NO_UPDATE)
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
    await show_partner_card(message, user_id, partner.id, data["cards"], workspace, data["i18n"], edit=False)


# ---- the debrief, as data --------------------------------------------------------------------------------


def _text_step(state: State, key: str, limit: int, on_success: Any, view: Any) -> Window:
    return Window(
        Format("{text}"),
        TextInput(key, type_factory=typed_answer(limit), on_success=on_success, on_error=refused,
                  filter=NOT_A_COMMAND),
        MessageInput(text_expected(lambda: texts.text_expected(limit))),
        state=state,
        getter=view,
    )


def dialog() -> Dialog:
    screen_text = Format("{text}")
    form = Dialog(
        _text_step(DebriefForm.waiting_for_what_worked, "worked", ANSWER_MAX_LEN, what_worked_entered,
                   what_worked_view),
        _text_step(DebriefForm.waiting_for_what_didnt, "didnt", ANSWER_MAX_LEN, what_didnt_entered, what_didnt_view),
        Window(
            screen_text,
            Column(Select(Format("{item[0]}"), id="problem", item_id_getter=lambda item: item[1], items="problems",
                          on_click=problem_chosen)),
            MessageInput(text_expected(lambda: _("Please choose the kind of problem with the buttons."))),
            state=DebriefForm.waiting_for_problem,
            getter=problem_view,
        ),
        Window(
            screen_text,
            Group(Select(Format("{item}"), id="quality", item_id_getter=str, items="qualities",
                         on_click=quality_chosen), width=QUALITY_MAX - QUALITY_MIN + 1),
            TextInput("quality_typed", type_factory=parse_quality, on_success=quality_typed, on_error=refused,
                      filter=NOT_A_COMMAND),
            MessageInput(text_expected(_quality_hint)),
            state=DebriefForm.waiting_for_quality,
            getter=quality_view,
        ),
        Window(
            screen_text,
            Group(Select(Format("{item[0]}"), id="decision", item_id_getter=lambda item: item[1], items="decisions",
                         on_click=decision_chosen), width=2),
            MessageInput(text_expected(lambda: _("Please choose your decision with the buttons."))),
            state=DebriefForm.waiting_for_decision,
            getter=decision_view,
        ),
        _text_step(DebriefForm.waiting_for_override_reason, "why", REASON_MAX_LEN, override_reason_entered,
                   override_view),
        on_start=_on_start,
    )
    return presses_of_its_own(form)
