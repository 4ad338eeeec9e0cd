"""Scoping a campaign (Phase 2): the pilot, or the next campaign of the ladder, one question per message."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from pydantic import Field

from bot import labels, texts
from bot.clock import Clock
from bot.domain.campaigns import (
    CREATORS_INPUT_MAX,
    DAYS_INPUT_MAX,
    PILOT_DEFAULT_DAYS,
    PILOT_MAX_CREATORS,
    PILOT_MAX_DAYS,
    PILOT_MIN_CREATORS,
    REVISIONS_INPUT_MAX,
    ChecklistItem,
    ScopeDraft,
    ScopeWarning,
    campaigns_planned,
    creators_need_confirmation,
    due_date,
    ladder_position,
    market_checklist,
    next_rung,
    parse_creators,
    parse_days,
    parse_revision_limit,
    rung_of_stage,
    scope_warnings,
    stage_of_rung,
)
from bot.domain.numbers import ID_MAX, spelt_by_bot
from bot.domain.partners import MarketCoverage, Stage
from bot.domain.text import clean_block
from bot.handlers.cancel_notes import on_cancel
from bot.handlers.drafts import DraftModel, Entry, one_of
from bot.handlers.filters import TYPED
from bot.handlers.partners import not_found_text, partner_or_say, show_partner_card
from bot.handlers.replies import answer_stale, edit_or_send
from bot.handlers.scope_dates import QuickStart, parse_start_date, quick_start
from bot.handlers.workspace_guard import private_workspace_router
from bot.keyboards.callbacks import PartnerAction, PartnerCallback
from bot.keyboards.grid import ButtonGrid
from bot.keyboards.scope_callbacks import (
    CHECKLIST_DONE,
    ScopeChoice,
    ScopeField,
    ScopeStep,
    SummaryAction,
    YesNo,
)
from bot.plumbing.middlewares import notify_press
from bot.storage.campaigns import CampaignAlreadyRunning, CampaignRepo, CampaignScope
from bot.storage.partners import Partner, PartnerRepo
from bot.storage.workspaces import Workspace
from bot.views.formatting import short_date, user_text
from bot.views.partner_card import PartnerCards

# Issue 4 input sanity: longest texts accepted for the scope's written fields.
DELIVERABLE_MAX_LEN = 300
METRICS_MAX_LEN = 500
PAYMENT_MAX_LEN = 300
CHARTER_MAX_LEN = 500

CREATOR_BUTTONS = (1, 2)
REVISION_BUTTONS = (0, 1, 2, 3)


class ScopeForm(StatesGroup):
    waiting_for_creators = State()
    waiting_for_bigger_confirmation = State()
    waiting_for_deliverable = State()
    waiting_for_start_date = State()
    waiting_for_days = State()
    waiting_for_metrics = State()
    waiting_for_metrics_agreed = State()
    waiting_for_payment_terms = State()
    waiting_for_revision_limit = State()
    waiting_for_market = State()
    waiting_for_checklist = State()
    waiting_for_charter_success = State()
    waiting_for_charter_failure = State()
    waiting_for_charter_renegotiate = State()
    waiting_for_confirmation = State()
    waiting_for_field_to_edit = State()


# The questions in the order they are asked; the checklist follows the market, outside this list.
ORDER: tuple[ScopeField, ...] = tuple(ScopeField)
FIELD_STATE: dict[ScopeField, State] = {
    ScopeField.CREATORS: ScopeForm.waiting_for_creators,
    ScopeField.DELIVERABLE: ScopeForm.waiting_for_deliverable,
    ScopeField.START: ScopeForm.waiting_for_start_date,
    ScopeField.DAYS: ScopeForm.waiting_for_days,
    ScopeField.METRICS: ScopeForm.waiting_for_metrics,
    ScopeField.AGREED: ScopeForm.waiting_for_metrics_agreed,
    ScopeField.PAYMENT: ScopeForm.waiting_for_payment_terms,
    ScopeField.REVISIONS: ScopeForm.waiting_for_revision_limit,
    ScopeField.MARKET: ScopeForm.waiting_for_market,
    ScopeField.SUCCESS: ScopeForm.waiting_for_charter_success,
    ScopeField.FAILURE: ScopeForm.waiting_for_charter_failure,
    ScopeField.RENEGOTIATE: ScopeForm.waiting_for_charter_renegotiate,
}
STATE_FIELD: dict[str | None, ScopeField] = {s.state: f for f, s in FIELD_STATE.items()}
# Typed-text fields: the draft attribute each one fills and its length limit.
TEXT_FIELDS: dict[ScopeField, tuple[str, int]] = {
    ScopeField.DELIVERABLE: ("deliverable", DELIVERABLE_MAX_LEN),
    ScopeField.METRICS: ("metrics", METRICS_MAX_LEN),
    ScopeField.PAYMENT: ("payment_terms", PAYMENT_MAX_LEN),
    ScopeField.SUCCESS: ("charter_success", CHARTER_MAX_LEN),
    ScopeField.FAILURE: ("charter_failure", CHARTER_MAX_LEN),
    ScopeField.RENEGOTIATE: ("charter_renegotiate", CHARTER_MAX_LEN),
}


class ScopeFormDraft(DraftModel):
    """The scope being written (FSM data, plain JSON; survives restarts with the SQLite FSM storage)."""

    partner_id: int = 0
    partner_name: str = ""
    rung: int = 1
    creators: int | None = None
    bigger_confirmed: bool = False
    deliverable: str | None = None
    start_date: str | None = None  # ISO date
    days: int | None = None
    metrics: str | None = None
    metrics_agreed: bool | None = None
    payment_terms: str | None = None
    revision_limit: int | None = None
    market: Annotated[str, one_of(MarketCoverage)] | None = None
    checklist: list[Annotated[str, one_of(ChecklistItem), Entry]] = Field(default_factory=list)
    charter_success: str | None = None
    charter_failure: str | None = None
    charter_renegotiate: str | None = None
    editing: bool = False  # answering one field from the summary's Edit menu

    KEY = "campaign_scope"

    @property
    def start(self) -> date | None:
        try:
            return date.fromisoformat(self.start_date) if self.start_date else None
        except ValueError:
            return None

    @property
    def coverage(self) -> MarketCoverage | None:
        return MarketCoverage(self.market) if self.market else None

    @property
    def due(self) -> date | None:
        start = self.start
        return due_date(start, self.days) if start is not None and self.days is not None else None

    def domain(self) -> ScopeDraft:
        return ScopeDraft(
            creators=self.creators or PILOT_MIN_CREATORS,
            days=self.days or PILOT_DEFAULT_DAYS,
            metrics=self.metrics,
            metrics_agreed=self.metrics_agreed,
            payment_terms=self.payment_terms,
            revision_limit=self.revision_limit,
            market=self.coverage,
            charter_success=self.charter_success,
            charter_failure=self.charter_failure,
            charter_renegotiate=self.charter_renegotiate,
        )

    def checklist_items(self) -> tuple[ChecklistItem, ...]:
        coverage = self.coverage
        if coverage is None:
            return ()
        return tuple(item for item in market_checklist(coverage) if item.value in self.checklist)

    def to_scope(self) -> CampaignScope | None:
        """The confirmed scope, or None when a field is missing (damaged FSM data)."""
        start, coverage, due = self.start, self.coverage, self.due
        if (
            self.creators is None
            or not self.deliverable
            or start is None
            or self.days is None
            or due is None
            or not self.metrics
            or self.metrics_agreed is None
            or not self.payment_terms
            or self.revision_limit is None
            or coverage is None
            or not (self.charter_success and self.charter_failure and self.charter_renegotiate)
        ):
            return None
        return CampaignScope(
            creators=self.creators,
            bigger_confirmed=self.bigger_confirmed,
            deliverable=self.deliverable,
            start_date=start,
            days=self.days,
            due_date=due,
            metrics=self.metrics,
            metrics_agreed=self.metrics_agreed,
            payment_terms=self.payment_terms,
            revision_limit=self.revision_limit,
            creators_market=coverage,
            checklist=self.checklist_items(),
            charter_success=self.charter_success,
            charter_failure=self.charter_failure,
            charter_renegotiate=self.charter_renegotiate,
            warnings=scope_warnings(self.domain()),
        )


def _scope_cancelled(_data: dict[str, Any]) -> str:
    return _("Cancelled: the scope was not saved.")


on_cancel(ScopeForm, _scope_cancelled, back_to_card_of=ScopeFormDraft.KEY)


# The kinds of button data this feature's handlers take.
PRESSES = (PartnerCallback, ScopeChoice)


def router() -> Router:
    r = private_workspace_router("campaign_scope", PRESSES)

    r.callback_query.register(scope_start, PartnerCallback.filter(F.action == PartnerAction.SCOPE))

    r.message.register(creators_typed, StateFilter(ScopeForm.waiting_for_creators), TYPED)
    r.callback_query.register(
        creators_pressed, ScopeChoice.filter(F.step == ScopeStep.CREATORS), StateFilter(ScopeForm.waiting_for_creators)
    )
    r.callback_query.register(
        bigger_answered,
        ScopeChoice.filter(F.step == ScopeStep.BIGGER),
        StateFilter(ScopeForm.waiting_for_bigger_confirmation),
    )
    for field_, state in FIELD_STATE.items():
        if field_ in TEXT_FIELDS:
            r.message.register(text_answered, StateFilter(state), TYPED)
    r.message.register(start_typed, StateFilter(ScopeForm.waiting_for_start_date), TYPED)
    r.callback_query.register(
        start_pressed, ScopeChoice.filter(F.step == ScopeStep.START), StateFilter(ScopeForm.waiting_for_start_date)
    )
    r.message.register(days_typed, StateFilter(ScopeForm.waiting_for_days), TYPED)
    r.callback_query.register(
        days_pressed,
        ScopeChoice.filter(F.step == ScopeStep.DAYS),
        StateFilter(ScopeForm.waiting_for_days),
    )
    r.callback_query.register(
        agreed_answered,
        ScopeChoice.filter(F.step == ScopeStep.AGREED),
        StateFilter(ScopeForm.waiting_for_metrics_agreed),
    )
    r.message.register(revisions_typed, StateFilter(ScopeForm.waiting_for_revision_limit), TYPED)
    r.callback_query.register(
        revisions_pressed,
        ScopeChoice.filter(F.step == ScopeStep.REVISIONS),
        StateFilter(ScopeForm.waiting_for_revision_limit),
    )
    r.callback_query.register(
        market_chosen, ScopeChoice.filter(F.step == ScopeStep.MARKET), StateFilter(ScopeForm.waiting_for_market)
    )
    r.callback_query.register(
        checklist_pressed,
        ScopeChoice.filter(F.step == ScopeStep.CHECKLIST),
        StateFilter(ScopeForm.waiting_for_checklist),
    )
    r.callback_query.register(
        summary_pressed,
        ScopeChoice.filter(F.step == ScopeStep.SUMMARY),
        StateFilter(ScopeForm.waiting_for_confirmation),
    )
    r.callback_query.register(
        edit_field_chosen,
        ScopeChoice.filter(F.step == ScopeStep.EDIT),
        StateFilter(ScopeForm.waiting_for_field_to_edit),
    )
    r.message.register(step_repeated, StateFilter(*ScopeForm.__states__))
    r.callback_query.register(stale_scope_button, ScopeChoice.filter())
    return r


# ---- who may scope what ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """Why no campaign can be scoped now, and the button that helps, if any."""

    text: str
    markup: InlineKeyboardMarkup | None = None


def _button(text: str, data: PartnerCallback) -> InlineKeyboardMarkup:
    b = ButtonGrid()
    b.button(text=text, callback_data=data)
    return b.as_markup()


async def rung_to_scope(partner: Partner, campaigns: CampaignRepo, workspace_id: int, locale: str) -> int | Refusal:
    """The rung the next campaign belongs to, or why there is none to scope now."""
    name = user_text(partner.name)
    pid = partner.id
    if partner.stage in (Stage.CANDIDATE, Stage.GUT_FAILED):
        if partner.stage is Stage.CANDIDATE:
            text = _(
                "<b>{name}</b> has not had the gut check yet. The method moves to a pilot only after a 3/3 gut "
                "check: do they understand UGC, do they know both markets, did they ask good questions about "
                "our goals?"
            ).format(name=name)
        else:
            text = _(
                "<b>{name}</b> did not pass the last gut check. The method moves to a pilot only at 3/3; run "
                "it again if something has changed since."
            ).format(name=name)
        gut = PartnerCallback(action=PartnerAction.GUT_CHECK, partner_id=pid)
        return Refusal(text, _button(_("✅ Run the gut check"), gut))
    if partner.stage is Stage.WALKED:
        return Refusal(
            _(
                "You walked away from <b>{name}</b>, so there is no next campaign. If things have really "
                "changed, add them as a new partner and vet them again from the start."
            ).format(name=name)
        )
    history = await campaigns.for_partner(workspace_id, pid)
    running = next((c for c in reversed(history) if c.running), None)
    if running is not None:
        debrief = PartnerCallback(action=PartnerAction.DEBRIEF, partner_id=pid)
        return Refusal(
            _(
                "<b>{name}</b> has a campaign running (due {date}). Debrief it first: one campaign at a time, "
                "and each debrief decides what comes next."
            ).format(name=name, date=short_date(running.scope.due_date, locale)),
            _button(_("🏁 Debrief"), debrief),
        )
    if partner.stage is Stage.READY_PILOT:
        rung = 1
    elif partner.stage is Stage.PAUSED:
        rung = history[-1].rung if history else 1
    else:
        rung = rung_of_stage(partner.stage) or 1
    position = ladder_position(await campaigns.finished_on_ladder(workspace_id, pid), rung)
    planned = position.planned
    # The top rung has no next one to open: the partnership keeps going at that scale. A re-run or a pause
    # leaves its place open (bot/domain/campaigns.py counts_toward_rung), so the next campaign is not blocked.
    if position.full and next_rung(rung) is not None:
        return Refusal(
            ngettext(
                "Rung {rung} of <b>{name}</b> already has its {count} campaign. The next rung opens only with a "
                "debrief that decides “expand”.",
                "Rung {rung} of <b>{name}</b> already has its {count} campaigns. The next rung opens only with "
                "a debrief that decides “expand”.",
                planned,
            ).format(rung=rung, name=name, count=planned)
        )
    return rung


async def scope_start(
    callback: CallbackQuery,
    callback_data: PartnerCallback,
    state: FSMContext,
    partners: PartnerRepo,
    campaigns: CampaignRepo,
    workspace: Workspace,
    clock: Clock,
    i18n: I18n,
) -> None:
    """The card's "🚀 Pilot" / "🚀 Next campaign": checks the stage, then the first question."""
    message = callback.message
    if not isinstance(message, Message):
        return
    partner = await partner_or_say(message, partners, workspace, callback_data.partner_id)
    if partner is None:
        return
    rung = await rung_to_scope(partner, campaigns, workspace.id, i18n.current_locale)
    if isinstance(rung, Refusal):
        await message.answer(rung.text, reply_markup=rung.markup)
        return
    await state.set_data({})
    draft = ScopeFormDraft(partner_id=partner.id, partner_name=partner.name, rung=rung)
    await draft.save(state)
    if rung == 1:
        intro = _("<b>Pilot with {name}</b>").format(name=user_text(partner.name))
    else:
        planned = campaigns_planned(rung)
        intro = ngettext(
            "<b>Next campaign with {name}</b>: rung {rung} of 3 ({count} campaign)",
            "<b>Next campaign with {name}</b>: rung {rung} of 3 ({count} campaigns)",
            planned,
        ).format(name=user_text(partner.name), rung=rung, count=planned)
    intro += "\n" + _(
        "One small scope: 1–2 creators, one deliverable, two weeks, with the success metrics, payment terms and "
        "revision limit written down, and the expectations agreed before the start. {count} questions, one at a "
        "time; /cancel stops without saving."
    ).format(count=len(ORDER))
    await message.answer(intro)
    await _ask(Turn(message, state, draft, clock.now().date(), i18n.current_locale), ScopeField.CREATORS)


# ---- asking ----------------------------------------------------------------------------------------------


@dataclass
class Turn:
    """One step of the conversation: where to answer, the FSM, the draft, and today in the user's locale."""

    message: Message
    state: FSMContext
    draft: ScopeFormDraft
    today: date
    locale: str
    in_place: bool = False  # a press: the first reply replaces the pressed step, so the flow keeps one live message

    async def send(self, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
        if self.in_place:
            self.in_place = False
            await edit_or_send(self.message, text, markup)
            return
        await self.message.answer(text, reply_markup=markup)


async def _turn(message: Message, state: FSMContext, clock: Clock, i18n: I18n) -> Turn:
    return Turn(message, state, await ScopeFormDraft.load(state), clock.now().date(), i18n.current_locale)


def _choice(draft: ScopeFormDraft, step: ScopeStep, value: str) -> ScopeChoice:
    return ScopeChoice(partner_id=draft.partner_id, step=step, value=value)


def _markup(b: ButtonGrid) -> InlineKeyboardMarkup | None:
    return b.as_markup() if list(b.buttons) else None


def _question(draft: ScopeFormDraft, which: ScopeField, today: date) -> tuple[str, InlineKeyboardMarkup | None]:
    """The text and buttons of one question."""
    b = ButtonGrid()
    if which is ScopeField.CREATORS:
        text = _("How many creators will take part? The method's pilot has 1–2. Tap a number or type it.")
        for count in CREATOR_BUTTONS:
            b.button(text=str(count), callback_data=_choice(draft, ScopeStep.CREATORS, str(count)))
        b.adjust(len(CREATOR_BUTTONS))
    elif which is ScopeField.DELIVERABLE:
        text = _(
            "What is the one deliverable? Describe it so both sides read it the same way, e.g. “2 UGC videos, "
            "30 s, vertical, for TikTok”."
        )
    elif which is ScopeField.START:
        text = _("When does it start? Tap a button or type a date: {full}, {short} or {iso}.").format(
            full=today.strftime("%d.%m.%Y"), short=today.strftime("%d.%m"), iso=today.isoformat()
        )
        for choice, label in (
            (QuickStart.TODAY, _("Today")),
            (QuickStart.TOMORROW, _("Tomorrow")),
            (QuickStart.NEXT_MONDAY, _("Next Monday")),
        ):
            b.button(text=label, callback_data=_choice(draft, ScopeStep.START, choice.value))
        b.adjust(3)
    elif which is ScopeField.DAYS:
        text = _("How many days until the result is due? The method's pilot takes two weeks. Tap or type a number.")
        b.button(
            text=_("{count} days (recommended)").format(count=PILOT_DEFAULT_DAYS),
            callback_data=_choice(draft, ScopeStep.DAYS, str(PILOT_DEFAULT_DAYS)),
        )
    elif which is ScopeField.METRICS:
        text = _(
            "What are the success metrics? Write them as you will check them at the debrief, e.g. “both videos "
            "approved by the brand without a third revision, CTR at least 1.5%”."
        )
    elif which is ScopeField.AGREED:
        text = _("Were these metrics agreed with the partner before the start?")
        b.button(text=_("Yes, agreed"), callback_data=_choice(draft, ScopeStep.AGREED, YesNo.YES.value))
        b.button(text=_("No, not yet"), callback_data=_choice(draft, ScopeStep.AGREED, YesNo.NO.value))
        b.adjust(2)
    elif which is ScopeField.PAYMENT:
        text = _(
            "What are the payment terms? Amount, currency, when and how, e.g. “$600: half upfront, half on delivery”."
        )
    elif which is ScopeField.REVISIONS:
        text = _("How many revision rounds are included? A number from 0 to {max}.").format(max=REVISIONS_INPUT_MAX)
        for count in REVISION_BUTTONS:
            b.button(text=str(count), callback_data=_choice(draft, ScopeStep.REVISIONS, str(count)))
        b.adjust(len(REVISION_BUTTONS))
    elif which is ScopeField.MARKET:
        text = _("Which market are the creators in? The checklist that follows depends on it.")
        for coverage in MarketCoverage:
            b.button(text=labels.coverage(coverage), callback_data=_choice(draft, ScopeStep.MARKET, coverage.value))
        b.adjust(2, 1)
    elif which is ScopeField.SUCCESS:
        text = _(
            "Now the expectations, to agree with the partner before the start (1 of 3).\nWhat does success look like?"
        )
    elif which is ScopeField.FAILURE:
        text = _(
            "Expectations (2 of 3): what failure is acceptable? E.g. “one video below target is fine if we know why”."
        )
    else:
        text = _(
            "Expectations (3 of 3): when do we renegotiate? E.g. “if the brief changes or a deadline slips by more "
            "than 3 days”."
        )
    return text, _markup(b)


async def _ask(turn: Turn, which: ScopeField, prefix: str = "") -> None:
    """Set the state for `which` and send its question, after `prefix` (a hint or a note) if any."""
    await turn.state.set_state(FIELD_STATE[which])
    text, markup = _question(turn.draft, which, turn.today)
    if not turn.draft.editing:
        text = f"<b>{ORDER.index(which) + 1}/{len(ORDER)}</b> · {text}"
    await turn.send(f"{prefix}\n\n{text}" if prefix else text, markup)


async def _after(turn: Turn, answered: ScopeField, note: str = "") -> None:
    """After an answer: back to the summary when editing, else the next question (the summary after the last)."""
    index = ORDER.index(answered)
    if turn.draft.editing or index + 1 >= len(ORDER):
        turn.draft.editing = False
        await turn.draft.save(turn.state)
        await _show_summary(turn, note)
        return
    await turn.draft.save(turn.state)
    await _ask(turn, ORDER[index + 1], note)


async def _ask_bigger(turn: Turn, prefix: str = "") -> None:
    await turn.state.set_state(ScopeForm.waiting_for_bigger_confirmation)
    count = turn.draft.creators or 0
    text = ngettext(
        "{count} creator is more than the 1–2 of a small pilot. A bigger scope is harder to read: when it goes "
        "wrong, you will not know why. Go ahead anyway? It will be flagged.",
        "{count} creators are more than the 1–2 of a small pilot. A bigger scope is harder to read: when it goes "
        "wrong, you will not know why. Go ahead anyway? It will be flagged.",
        count,
    ).format(count=count)
    b = ButtonGrid()
    b.button(text=_bigger_label(turn.draft), callback_data=_choice(turn.draft, ScopeStep.BIGGER, YesNo.YES.value))
    b.button(
        text=_("No, {max} at most").format(max=PILOT_MAX_CREATORS),
        callback_data=_choice(turn.draft, ScopeStep.BIGGER, YesNo.NO.value),
    )
    b.adjust(1)
    await turn.send(f"{prefix}\n\n{text}" if prefix else text, b.as_markup())


def _bigger_label(draft: ScopeFormDraft) -> str:
    return _("Yes, a bigger pilot") if draft.rung == 1 else _("Yes, a bigger campaign")


def _checklist_view(draft: ScopeFormDraft) -> tuple[str, InlineKeyboardMarkup]:
    coverage = draft.coverage or MarketCoverage.BOTH
    text = _(
        "Checklist for creators in {market}. Tick what is settled with the partner, then press Continue.\n"
        "US creators expect clear contracts and boundaries; Russian creators expect fast turnarounds and "
        "flexibility. A cross-market partner has to work both ways."
    ).format(market=labels.coverage(coverage))
    b = ButtonGrid()
    items = market_checklist(coverage)
    for item in items:
        mark = "✅" if item.value in draft.checklist else "▫️"
        b.button(text=f"{mark} {checklist_label(item)}", callback_data=_choice(draft, ScopeStep.CHECKLIST, item.value))
    b.button(text=_("Continue ▶"), callback_data=_choice(draft, ScopeStep.CHECKLIST, CHECKLIST_DONE))
    b.adjust(1)
    return text, b.as_markup()


async def _ask_checklist(turn: Turn, prefix: str = "") -> None:
    await turn.state.set_state(ScopeForm.waiting_for_checklist)
    text, markup = _checklist_view(turn.draft)
    await turn.send(f"{prefix}\n\n{text}" if prefix else text, markup)


async def _reask(turn: Turn, prefix: str) -> None:
    """The current step again, after `prefix` (what was wrong with the last input)."""
    current = await turn.state.get_state()
    if current == ScopeForm.waiting_for_bigger_confirmation.state:
        await _ask_bigger(turn, prefix)
    elif current == ScopeForm.waiting_for_checklist.state:
        await _ask_checklist(turn, prefix)
    elif current == ScopeForm.waiting_for_confirmation.state:
        await _show_summary(turn, prefix)
    elif current == ScopeForm.waiting_for_field_to_edit.state:
        await turn.send(prefix + "\n\n" + _("Which field do you want to change?"), _edit_menu(turn.draft))
    elif current in STATE_FIELD:
        await _ask(turn, STATE_FIELD[current], prefix)
    elif not notify_press(texts.stale_button()):
        await turn.send(texts.stale_button())


async def _callback_turn(
    callback: CallbackQuery, callback_data: ScopeChoice, state: FSMContext, clock: Clock, i18n: I18n
) -> Turn | None:
    """The turn of a button press, or None (after saying so) when the button is not for this scope."""
    if not isinstance(callback.message, Message):
        return None
    turn = await _turn(callback.message, state, clock, i18n)
    turn.in_place = True
    if callback_data.partner_id != turn.draft.partner_id:
        await _stale_press(turn)
        return None
    return turn


async def _stale_press(turn: Turn) -> None:
    """A button of an earlier step: a pop-up notice on the press; the step asked again only when there is no press
    to put it on."""
    if not notify_press(_stale_step_text()):
        await _reask(turn, _stale_step_text())


def _stale_step_text() -> str:
    return _("That button belongs to an earlier step. Please answer the question below.")


# ---- the answers -----------------------------------------------------------------------------------------


async def _creators(turn: Turn, count: int) -> None:
    turn.draft.creators = count
    turn.draft.bigger_confirmed = False
    if creators_need_confirmation(count):
        await turn.draft.save(turn.state)
        await _ask_bigger(turn)
        return
    await _after(turn, ScopeField.CREATORS)


async def creators_typed(message: Message, state: FSMContext, clock: Clock, i18n: I18n) -> None:
    """Creators, typed: a whole number 1–50."""
    turn = await _turn(message, state, clock, i18n)
    count = parse_creators(message.text)
    if count is None:
        await _ask(turn, ScopeField.CREATORS, _creators_hint())
        return
    await _creators(turn, count)


def _pressed(value: str, parse: Callable[[str], int | None]) -> int | None:
    """A number from a button: spelt exactly as the bot writes it (no spaces or signs a forged press could add),
    then in the step's range."""
    return parse(value) if spelt_by_bot(value, 0, ID_MAX) is not None else None


def _creators_hint() -> str:
    return _("Please send a whole number of creators from {min} to {max}, or tap a button.").format(
        min=PILOT_MIN_CREATORS, max=CREATORS_INPUT_MAX
    )


async def creators_pressed(
    callback: CallbackQuery, callback_data: ScopeChoice, state: FSMContext, clock: Clock, i18n: I18n
) -> None:
    """Creators, tapped: 1 or 2."""
    turn = await _callback_turn(callback, callback_data, state, clock, i18n)
    if turn is None:
        return
    count = _pressed(callback_data.value, parse_creators)
    if count is None:
        await _stale_press(turn)
        return
    await _creators(turn, count)


async def bigger_answered(
    callback: CallbackQuery, callback_data: ScopeChoice, state: FSMContext, clock: Clock, i18n: I18n
) -> None:
    """ "Yes, a bigger pilot" keeps the count (flagged); "No" asks for the number again."""
    turn = await _callback_turn(callback, callback_data, state, clock, i18n)
    if turn is None:
        return
    if callback_data.value == YesNo.YES.value and turn.draft.creators is not None:
        turn.draft.bigger_confirmed = True
        await _after(turn, ScopeField.CREATORS)
        return
    turn.draft.creators = None
    await turn.draft.save(turn.state)
    await _ask(turn, ScopeField.CREATORS)


async def text_answered(message: Message, state: FSMContext, clock: Clock, i18n: I18n) -> None:
    """A written field: the deliverable, the metrics, the payment terms or one of the three expectations."""
    turn = await _turn(message, state, clock, i18n)
    which = STATE_FIELD[await state.get_state()]
    attribute, limit = TEXT_FIELDS[which]
    value = clean_block(message.text, limit)
    if value is None:
        got = len((message.text or "").strip())
        hint = texts.text_too_long(limit, got) if got > limit else texts.text_expected(limit)
        await _ask(turn, which, hint)
        return
    setattr(turn.draft, attribute, value)
    await _after(turn, which)


async def _start(turn: Turn, start: date) -> None:
    turn.draft.start_date = start.isoformat()
    note = _("Start: {date}").format(date=short_date(start, turn.locale))
    await _after(turn, ScopeField.START, note)


async def start_typed(message: Message, state: FSMContext, clock: Clock, i18n: I18n) -> None:
    """Start date, typed: dd.mm.yyyy, dd.mm or yyyy-mm-dd."""
    turn = await _turn(message, state, clock, i18n)
    start = parse_start_date(message.text, turn.today)
    if start is None:
        hint = _(
            "I could not read that as a date. Please send a real date within a year from today, like {full}, "
            "{short} or {iso}, or tap a button."
        ).format(full=turn.today.strftime("%d.%m.%Y"), short=turn.today.strftime("%d.%m"), iso=turn.today.isoformat())
        await _ask(turn, ScopeField.START, hint)
        return
    await _start(turn, start)


async def start_pressed(
    callback: CallbackQuery, callback_data: ScopeChoice, state: FSMContext, clock: Clock, i18n: I18n
) -> None:
    """Start date, tapped: today, tomorrow or next Monday."""
    turn = await _callback_turn(callback, callback_data, state, clock, i18n)
    if turn is None:
        return
    try:
        start = quick_start(QuickStart(callback_data.value), turn.today)
    except ValueError:
        await _stale_press(turn)
        return
    await _start(turn, start)


async def _days(turn: Turn, days: int) -> None:
    turn.draft.days = days
    due = turn.draft.due
    note = _("Due for the debrief: {date}").format(date=short_date(due, turn.locale)) if due else ""
    if days > PILOT_MAX_DAYS:
        note += "\n" + ngettext(
            "⚠️ {count} day is longer than the method's two-week pilot; the summary will flag it.",
            "⚠️ {count} days is longer than the method's two-week pilot; the summary will flag it.",
            days,
        ).format(count=days)
    await _after(turn, ScopeField.DAYS, note)


async def days_typed(message: Message, state: FSMContext, clock: Clock, i18n: I18n) -> None:
    """Timeline, typed: whole days 1–365."""
    turn = await _turn(message, state, clock, i18n)
    days = parse_days(message.text)
    if days is None:
        hint = _("Please send a whole number of days from 1 to {max}, or tap the button.").format(max=DAYS_INPUT_MAX)
        await _ask(turn, ScopeField.DAYS, hint)
        return
    await _days(turn, days)


async def days_pressed(
    callback: CallbackQuery, callback_data: ScopeChoice, state: FSMContext, clock: Clock, i18n: I18n
) -> None:
    """Timeline, tapped: the recommended 14 days."""
    turn = await _callback_turn(callback, callback_data, state, clock, i18n)
    if turn is None:
        return
    days = _pressed(callback_data.value, parse_days)
    if days is None:
        await _stale_press(turn)
        return
    await _days(turn, days)


async def agreed_answered(
    callback: CallbackQuery, callback_data: ScopeChoice, state: FSMContext, clock: Clock, i18n: I18n
) -> None:
    """Were the metrics agreed with the partner? No is a red flag, said at once."""
    turn = await _callback_turn(callback, callback_data, state, clock, i18n)
    if turn is None:
        return
    if callback_data.value not in {v.value for v in YesNo}:
        await _stale_press(turn)
        return
    agreed = callback_data.value == YesNo.YES.value
    turn.draft.metrics_agreed = agreed
    note = (
        ""
        if agreed
        else _(
            "🚩 Red flag: metrics not agreed before the start. Agree them with the partner before the work begins; "
            "the summary keeps the flag."
        )
    )
    await _after(turn, ScopeField.AGREED, note)


async def _revisions(turn: Turn, limit: int) -> None:
    turn.draft.revision_limit = limit
    await _after(turn, ScopeField.REVISIONS)


async def revisions_typed(message: Message, state: FSMContext, clock: Clock, i18n: I18n) -> None:
    """Revision limit, typed: 0–20."""
    turn = await _turn(message, state, clock, i18n)
    limit = parse_revision_limit(message.text)
    if limit is None:
        hint = _("Please send a whole number of revision rounds from 0 to {max}, or tap a button.").format(
            max=REVISIONS_INPUT_MAX
        )
        await _ask(turn, ScopeField.REVISIONS, hint)
        return
    await _revisions(turn, limit)


async def revisions_pressed(
    callback: CallbackQuery, callback_data: ScopeChoice, state: FSMContext, clock: Clock, i18n: I18n
) -> None:
    """Revision limit, tapped: 0–3."""
    turn = await _callback_turn(callback, callback_data, state, clock, i18n)
    if turn is None:
        return
    limit = _pressed(callback_data.value, parse_revision_limit)
    if limit is None:
        await _stale_press(turn)
        return
    await _revisions(turn, limit)


async def market_chosen(
    callback: CallbackQuery, callback_data: ScopeChoice, state: FSMContext, clock: Clock, i18n: I18n
) -> None:
    """The creators' market: RU, US or both; its checklist follows."""
    turn = await _callback_turn(callback, callback_data, state, clock, i18n)
    if turn is None:
        return
    try:
        coverage = MarketCoverage(callback_data.value)
    except ValueError:
        await _stale_press(turn)
        return
    turn.draft.market = coverage.value
    allowed = {item.value for item in market_checklist(coverage)}
    turn.draft.checklist = [item for item in turn.draft.checklist if item in allowed]
    await turn.draft.save(state)
    await _ask_checklist(turn)


async def checklist_pressed(
    callback: CallbackQuery, callback_data: ScopeChoice, state: FSMContext, clock: Clock, i18n: I18n
) -> None:
    """A checklist item toggled in place, or Continue."""
    turn = await _callback_turn(callback, callback_data, state, clock, i18n)
    if turn is None or not isinstance(callback.message, Message):
        return
    coverage = turn.draft.coverage
    if callback_data.value == CHECKLIST_DONE and coverage is not None:
        await _after(turn, ScopeField.MARKET)
        return
    if coverage is None or callback_data.value not in {item.value for item in market_checklist(coverage)}:
        await _stale_press(turn)
        return
    if callback_data.value in turn.draft.checklist:
        turn.draft.checklist.remove(callback_data.value)
    else:
        turn.draft.checklist.append(callback_data.value)
    await turn.draft.save(state)
    _text, markup = _checklist_view(turn.draft)
    with suppress(TelegramBadRequest):
        await callback.message.edit_reply_markup(reply_markup=markup)


# ---- summary, edit, save ---------------------------------------------------------------------------------


def field_label(which: ScopeField) -> str:
    return {
        ScopeField.CREATORS: _("Creators"),
        ScopeField.DELIVERABLE: _("Deliverable"),
        ScopeField.START: _("Start"),
        ScopeField.DAYS: _("Timeline"),
        ScopeField.METRICS: _("Success metrics"),
        ScopeField.AGREED: _("Metrics agreed with the partner"),
        ScopeField.PAYMENT: _("Payment terms"),
        ScopeField.REVISIONS: _("Revision limit"),
        ScopeField.MARKET: _("Creators' market and checklist"),
        ScopeField.SUCCESS: _("Success looks like"),
        ScopeField.FAILURE: _("Acceptable failure"),
        ScopeField.RENEGOTIATE: _("We renegotiate when"),
    }[which]


def checklist_label(item: ChecklistItem) -> str:
    return {
        ChecklistItem.WRITTEN_CONTRACT: _("Written contract"),
        ChecklistItem.BOUNDARIES: _("Boundaries: what creators will and will not do"),
        ChecklistItem.USAGE_RIGHTS: _("Usage rights: where and how long the content is used"),
        ChecklistItem.TURNAROUND: _("Turnaround time agreed"),
        ChecklistItem.FLEXIBILITY: _("Flexibility window for changes"),
    }[item]


def warning_label(warning: ScopeWarning) -> str:
    return {
        ScopeWarning.TOO_MANY_CREATORS: _("⚠️ More than 1–2 creators: a bigger scope than a small pilot"),
        ScopeWarning.TOO_MANY_DELIV: _("⚠️ More than one deliverable"),
        ScopeWarning.LONG_TIMELINE: _("⚠️ Longer than the two-week timeline"),
        ScopeWarning.NO_METRICS: _("⚠️ No success metrics written down"),
        ScopeWarning.METRICS_NOT_AGREED: _("🚩 Red flag: the metrics were not agreed with the partner in advance"),
        ScopeWarning.NO_PAYMENT_TERMS: _("⚠️ No payment terms written down"),
        ScopeWarning.NO_REVISION_LIMIT: _("⚠️ No revision limit agreed"),
        ScopeWarning.NO_CHARTER: _("⚠️ The expectations are not all written down"),
    }[warning]


def _value(turn: Turn, which: ScopeField) -> str:
    """A field as the summary shows it; user text escaped."""
    d = turn.draft
    missing = "—"
    if which is ScopeField.CREATORS:
        if d.creators is None:
            return missing
        shown = ngettext("{count} creator", "{count} creators", d.creators).format(count=d.creators)
        return shown + (" (" + _("a bigger scope, confirmed") + ")" if d.bigger_confirmed else "")
    if which is ScopeField.START:
        return short_date(d.start, turn.locale) if d.start else missing
    if which is ScopeField.DAYS:
        if d.days is None:
            return missing
        shown = ngettext("{count} day", "{count} days", d.days).format(count=d.days)
        due = d.due
        return shown + (" · " + _("due {date}").format(date=short_date(due, turn.locale)) if due else "")
    if which is ScopeField.AGREED:
        return missing if d.metrics_agreed is None else (_("yes") if d.metrics_agreed else _("no"))
    if which is ScopeField.REVISIONS:
        if d.revision_limit is None:
            return missing
        return ngettext("{count} round", "{count} rounds", d.revision_limit).format(count=d.revision_limit)
    if which is ScopeField.MARKET:
        coverage = d.coverage
        if coverage is None:
            return missing
        items = [
            f"\n  {'✅' if item.value in d.checklist else '▫️'} {checklist_label(item)}"
            for item in market_checklist(coverage)
        ]
        return labels.coverage(coverage) + "".join(items)
    attribute, _limit = TEXT_FIELDS[which]
    return user_text(getattr(d, attribute)) or missing


def summary_text(turn: Turn) -> str:
    d = turn.draft
    name = user_text(d.partner_name)
    if d.rung == 1:
        title = _("<b>Pilot scope: {name}</b>").format(name=name)
    else:
        title = _("<b>Campaign scope: {name}</b> (rung {rung} of 3)").format(name=name, rung=d.rung)
    lines = [title, ""]
    for which in ORDER:
        if which is ScopeField.SUCCESS:
            lines.extend(["", "<b>" + _("Expectations") + "</b>"])
        lines.append(f"<b>{field_label(which)}:</b> {_value(turn, which)}")
    warnings = scope_warnings(d.domain())
    lines.append("")
    if warnings:
        lines.append("<b>" + _("Warnings") + "</b>")
        lines.extend(warning_label(w) for w in warnings)
    else:
        lines.append(_("✅ A small, documented scope: nothing to flag."))
    lines.extend(["", _("Save it, change a field, or cancel.")])
    return "\n".join(lines)


def _summary_keyboard(draft: ScopeFormDraft) -> InlineKeyboardMarkup:
    b = ButtonGrid()
    b.button(text=_("✅ Save"), callback_data=_choice(draft, ScopeStep.SUMMARY, SummaryAction.SAVE.value))
    b.button(text=_("✏️ Edit"), callback_data=_choice(draft, ScopeStep.SUMMARY, SummaryAction.EDIT.value))
    b.button(text=_("Cancel"), callback_data=_choice(draft, ScopeStep.SUMMARY, SummaryAction.CANCEL.value))
    b.adjust(2, 1)
    return b.as_markup()


async def _show_summary(turn: Turn, prefix: str = "") -> None:
    await turn.state.set_state(ScopeForm.waiting_for_confirmation)
    text = summary_text(turn)
    await turn.send(f"{prefix}\n\n{text}" if prefix else text, _summary_keyboard(turn.draft))


def _edit_menu(draft: ScopeFormDraft) -> InlineKeyboardMarkup:
    b = ButtonGrid()
    for which in ORDER:
        b.button(text=field_label(which), callback_data=_choice(draft, ScopeStep.EDIT, which.value))
    b.button(text=_("« Back to the summary"), callback_data=_choice(draft, ScopeStep.EDIT, SummaryAction.BACK.value))
    b.adjust(2)
    return b.as_markup()


async def summary_pressed(
    callback: CallbackQuery,
    callback_data: ScopeChoice,
    state: FSMContext,
    partners: PartnerRepo,
    campaigns: CampaignRepo,
    cards: PartnerCards,
    workspace: Workspace,
    clock: Clock,
    i18n: I18n,
) -> None:
    """Save, Edit or Cancel under the summary."""
    turn = await _callback_turn(callback, callback_data, state, clock, i18n)
    if turn is None or not isinstance(callback.message, Message):
        return
    if callback_data.value == SummaryAction.EDIT.value:
        await state.set_state(ScopeForm.waiting_for_field_to_edit)
        with suppress(TelegramBadRequest):
            await callback.message.edit_reply_markup(reply_markup=_edit_menu(turn.draft))
        return
    if callback_data.value == SummaryAction.CANCEL.value:
        await state.clear()
        await turn.send(_("Cancelled: the scope was not saved."))
        return
    if callback_data.value != SummaryAction.SAVE.value:
        await _stale_press(turn)
        return
    await _save(callback, turn, partners, campaigns, cards, workspace, clock, i18n)


async def _save(
    callback: CallbackQuery,
    turn: Turn,
    partners: PartnerRepo,
    campaigns: CampaignRepo,
    cards: PartnerCards,
    workspace: Workspace,
    clock: Clock,
    i18n: I18n,
) -> None:
    """Re-check the partner through the workspace, store the campaign with the partner's new stage, show the card."""
    draft = turn.draft
    scope = draft.to_scope()
    if scope is None:
        await turn.state.clear()
        await turn.send(_("This scope was incomplete, so nothing was saved. Please start again from the card."))
        return
    partner = await partners.get(workspace.id, draft.partner_id)
    if partner is None:
        await turn.state.clear()
        await turn.send(not_found_text())
        return
    rung = await rung_to_scope(partner, campaigns, workspace.id, turn.locale)
    if isinstance(rung, Refusal) or rung != draft.rung:
        await turn.state.clear()
        text = rung.text if isinstance(rung, Refusal) else ""
        changed = _("Nothing was saved: the partner's stage changed while you were writing the scope.")
        await turn.send(f"{changed}\n{text}".strip(), rung.markup if isinstance(rung, Refusal) else None)
        return
    manager = callback.from_user.id
    try:
        created = await campaigns.create(
            workspace.id, partner.id, rung, scope, manager, stage_of_rung(rung), clock.now()
        )
    except CampaignAlreadyRunning:
        await turn.state.clear()
        refusal = await rung_to_scope(partner, campaigns, workspace.id, turn.locale)
        if isinstance(refusal, Refusal):
            await turn.send(refusal.text, refusal.markup)
        return
    await turn.state.clear()
    if created is None:
        await turn.send(not_found_text())
        return
    name, due = user_text(partner.name), short_date(scope.due_date, turn.locale)
    if rung == 1:
        saved = _(
            "Saved. The pilot with <b>{name}</b> is running. It is due on {date}; that day I will remind you to "
            "debrief it."
        )
    else:
        saved = _(
            "Saved. The campaign with <b>{name}</b> is running. It is due on {date}; that day I will remind you to "
            "debrief it."
        )
    await turn.send(saved.format(name=name, date=due))
    await show_partner_card(turn.message, manager, partner.id, cards, workspace, i18n, edit=False)


async def edit_field_chosen(
    callback: CallbackQuery, callback_data: ScopeChoice, state: FSMContext, clock: Clock, i18n: I18n
) -> None:
    """A field from the Edit menu: its question; the answer leads back to the summary."""
    turn = await _callback_turn(callback, callback_data, state, clock, i18n)
    if turn is None or not isinstance(callback.message, Message):
        return
    if callback_data.value == SummaryAction.BACK.value:
        await state.set_state(ScopeForm.waiting_for_confirmation)
        with suppress(TelegramBadRequest):
            await callback.message.edit_reply_markup(reply_markup=_summary_keyboard(turn.draft))
        return
    try:
        which = ScopeField(callback_data.value)
    except ValueError:
        await _stale_press(turn)
        return
    turn.draft.editing = True
    await turn.draft.save(state)
    await _ask(turn, which)


# ---- anything else ---------------------------------------------------------------------------------------


def _hint(current: str | None) -> str:
    which = STATE_FIELD.get(current)
    if which in TEXT_FIELDS:
        return texts.text_expected(TEXT_FIELDS[which][1])
    if which is ScopeField.CREATORS:
        return _creators_hint()
    if which is ScopeField.START:
        return _("Please type the date as text, or tap a button.")
    if which is ScopeField.DAYS:
        return _("Please send a whole number of days from 1 to {max}, or tap the button.").format(max=DAYS_INPUT_MAX)
    if which is ScopeField.REVISIONS:
        return _("Please send a whole number of revision rounds from 0 to {max}, or tap a button.").format(
            max=REVISIONS_INPUT_MAX
        )
    return _("Please answer with the buttons.")


async def step_repeated(message: Message, state: FSMContext, clock: Clock, i18n: I18n) -> None:
    """Anything else during the scope (a sticker, a photo, an unknown command): what this step needs, and it again."""
    if message.text and message.text.startswith("/"):
        await message.answer(texts.mid_conversation_command())
        return
    turn = await _turn(message, state, clock, i18n)
    await _reask(turn, _hint(await state.get_state()))


async def stale_scope_button(
    callback: CallbackQuery, callback_data: ScopeChoice, state: FSMContext, clock: Clock, i18n: I18n
) -> None:
    """A scope button from an earlier step or a finished scope."""
    if not isinstance(callback.message, Message):
        return
    current = await state.get_state()
    if current is None or current not in {s.state for s in ScopeForm.__states__}:
        await answer_stale(callback)
        return
    await _stale_press(await _turn(callback.message, state, clock, i18n))
