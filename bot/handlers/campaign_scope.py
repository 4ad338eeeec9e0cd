"""Scoping a campaign (Phase 2): the pilot, or the next campaign of the ladder, one question at a time.

Declared as data: an aiogram-dialog Dialog with a window per question, then the summary and its Edit menu. QUESTIONS
lists the questions in the order they are asked and what kind each is (free text with its draft attribute and
limit, a number typed or tapped, a choice); an answer goes to the next question, or back to the summary when it
was one field changed from the Edit menu. What every step does with what it cannot take is
bot/handlers/dialog_steps.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from aiogram_dialog import Dialog, DialogManager, ShowMode, StartMode, Window
from aiogram_dialog.widgets.input import MessageInput, TextInput
from aiogram_dialog.widgets.kbd import Button, Column, Group, Select
from aiogram_dialog.widgets.text import Format
from pydantic import Field

from bot import labels, texts
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
from bot.handlers.dialog_steps import NOT_A_COMMAND, note, pressed_message, refused, screen, stale, text_expected
from bot.handlers.drafts import DraftModel, Entry, one_of
from bot.handlers.partners import not_found_text, partner_or_say, show_partner_card
from bot.handlers.replies import edit_or_send
from bot.handlers.scope_dates import QuickStart, parse_start_date, quick_start
from bot.handlers.workspace_guard import dialogs_in_workspace, private_workspace_router
from bot.keyboards.callbacks import PartnerAction, PartnerCallback
from bot.keyboards.grid import ButtonGrid
from bot.keyboards.scope_callbacks import ScopeField
from bot.plumbing.dialogs import presses_of_its_own
from bot.storage.campaigns import CampaignAlreadyRunning, CampaignRepo, CampaignScope
from bot.storage.partners import Partner, PartnerRepo
from bot.storage.workspaces import Workspace
from bot.views.formatting import short_date, user_text

# Issue 4 input sanity: longest texts accepted for the scope's written fields.
DELIVERABLE_MAX_LEN = 300
METRICS_MAX_LEN = 500
PAYMENT_MAX_LEN = 300
CHARTER_MAX_LEN = 500

CREATOR_BUTTONS = (1, 2)
REVISION_BUTTONS = (0, 1, 2, 3)



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



# The questions in the order they are asked (the checklist follows the market, inside its step).
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


@dataclass(frozen=True)
class TextField:
    """A written field: the draft attribute it fills and its length limit."""

    attribute: str
    limit: int


TEXT_FIELDS: dict[ScopeField, TextField] = {
    ScopeField.DELIVERABLE: TextField("deliverable", DELIVERABLE_MAX_LEN),
    ScopeField.METRICS: TextField("metrics", METRICS_MAX_LEN),
    ScopeField.PAYMENT: TextField("payment_terms", PAYMENT_MAX_LEN),
    ScopeField.SUCCESS: TextField("charter_success", CHARTER_MAX_LEN),
    ScopeField.FAILURE: TextField("charter_failure", CHARTER_MAX_LEN),
    ScopeField.RENEGOTIATE: TextField("charter_renegotiate", CHARTER_MAX_LEN),
}


class ScopeFormDraft(DraftModel):
    """The scope being written (the dialog's data, plain JSON; survives restarts with the SQLite storage)."""

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
        """The confirmed scope, or None when a field is missing (a damaged draft)."""
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


# The kinds of button data that start a scope; the questions' own buttons are the dialog's.
PRESSES = (PartnerCallback,)


def router() -> Router:
    r = private_workspace_router("campaign_scope", PRESSES)
    r.callback_query.register(scope_start, PartnerCallback.filter(F.action == PartnerAction.SCOPE))
    return r


def conversations() -> Router:
    """The scope's questions, apart from `router()`: their presses carry the dialog's own data."""
    return dialogs_in_workspace("campaign_scope_form", dialog())


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
    pressed: Message,
    callback_data: PartnerCallback,
    state: FSMContext,
    dialog_manager: DialogManager,
    partners: PartnerRepo,
    campaigns: CampaignRepo,
    workspace: Workspace,
) -> None:
    """The card's "🚀 Pilot" / "🚀 Next campaign": checks the stage, then the first question, under the intro."""
    message = pressed
    partner = await partner_or_say(message, partners, workspace, callback_data.partner_id)
    if partner is None:
        return
    rung = await rung_to_scope(partner, campaigns, workspace.id, _locale(dialog_manager))
    if isinstance(rung, Refusal):
        await message.answer(rung.text, reply_markup=rung.markup)
        return
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
    await state.clear()
    draft = ScopeFormDraft(partner_id=partner.id, partner_name=partner.name, rung=rung)
    await dialog_manager.start(
        ScopeForm.waiting_for_creators,
        data={ScopeFormDraft.KEY: draft.model_dump(mode="json"), "intro": intro},
        mode=StartMode.RESET_STACK,
        show_mode=ShowMode.SEND,
    )


async def _on_start(start_data: Any, manager: DialogManager) -> None:
    data = start_data if isinstance(start_data, dict) else {}
    ScopeFormDraft.from_stored(data.get(ScopeFormDraft.KEY)).keep_in_dialog(manager)
    note(manager, str(data.get("intro", "")))


# ---- the answers and where they lead ---------------------------------------------------------------------


def _locale(manager: DialogManager) -> str:
    return str(manager.middleware_data["i18n"].current_locale)


def _today(manager: DialogManager) -> date:
    return manager.middleware_data["clock"].now().date()


def _draft(manager: DialogManager) -> ScopeFormDraft:
    return ScopeFormDraft.in_dialog(manager)


async def _after(manager: DialogManager, draft: ScopeFormDraft, answered: ScopeField, shown: str = "") -> None:
    """After an answer: back to the summary when editing, else the next question (the summary after the last)."""
    if shown:
        note(manager, shown)
    index = ORDER.index(answered)
    if draft.editing or index + 1 >= len(ORDER):
        draft.editing = False
        draft.keep_in_dialog(manager)
        await manager.switch_to(ScopeForm.waiting_for_confirmation)
        return
    draft.keep_in_dialog(manager)
    await manager.switch_to(FIELD_STATE[ORDER[index + 1]])


def _pressed(value: str, parse: Callable[[str], int | None]) -> int | None:
    """A number from a button: spelt exactly as the bot writes it (no spaces or signs a forged press could add),
    then in the step's range."""
    return parse(value) if spelt_by_bot(value, 0, ID_MAX) is not None else None


def _creators_hint() -> str:
    return _("Please send a whole number of creators from {min} to {max}, or tap a button.").format(
        min=PILOT_MIN_CREATORS, max=CREATORS_INPUT_MAX
    )


def _days_hint() -> str:
    return _("Please send a whole number of days from 1 to {max}, or tap the button.").format(max=DAYS_INPUT_MAX)


def _revisions_hint() -> str:
    return _("Please send a whole number of revision rounds from 0 to {max}, or tap a button.").format(
        max=REVISIONS_INPUT_MAX
    )


def _number(parse: Callable[[str | None], int | None], hint: Callable[[], str]) -> Callable[[str], int]:
    """A TextInput parser for a typed number in a step's range; out of range or not a number: the step's hint."""

    def parsed(typed: str) -> int:
        value = parse(typed)
        if value is None:
            raise ValueError(hint())
        return value

    return parsed


def _written(field: TextField) -> Callable[[str], str]:
    def parsed(typed: str) -> str:
        value = clean_block(typed, field.limit)
        if value is None:
            got = len(typed.strip())
            too_long = got > field.limit
            raise ValueError(texts.text_too_long(field.limit, got) if too_long else texts.text_expected(field.limit))
        return value

    return parsed


async def _creators(manager: DialogManager, count: int) -> None:
    draft = _draft(manager)
    draft.creators = count
    draft.bigger_confirmed = False
    if creators_need_confirmation(count):
        draft.keep_in_dialog(manager)
        await manager.switch_to(ScopeForm.waiting_for_bigger_confirmation)
        return
    await _after(manager, draft, ScopeField.CREATORS)


async def creators_typed(_message: Message, _widget: Any, manager: DialogManager, count: int) -> None:
    """Creators, typed: a whole number 1–50."""
    await _creators(manager, count)


async def creators_pressed(callback: CallbackQuery, _widget: Any, manager: DialogManager, value: str) -> None:
    """Creators, tapped: 1 or 2."""
    count = _pressed(value, parse_creators)
    if count is None:
        await stale(callback, manager)
        return
    await _creators(manager, count)


async def bigger_confirmed(_callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    """ "Yes, a bigger pilot" keeps the count (flagged)."""
    draft = _draft(manager)
    if draft.creators is None:
        await manager.switch_to(ScopeForm.waiting_for_creators)
        return
    draft.bigger_confirmed = True
    await _after(manager, draft, ScopeField.CREATORS)


async def bigger_refused(_callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    """ "No, 2 at most": the number again."""
    draft = _draft(manager)
    draft.creators = None
    draft.keep_in_dialog(manager)
    await manager.switch_to(ScopeForm.waiting_for_creators)


def _text_answered(which: ScopeField) -> Callable[..., Any]:
    """A written field: the deliverable, the metrics, the payment terms or one of the three expectations."""

    async def answered(_message: Message, _widget: Any, manager: DialogManager, value: str) -> None:
        draft = _draft(manager)
        setattr(draft, TEXT_FIELDS[which].attribute, value)
        await _after(manager, draft, which)

    return answered


async def _start(manager: DialogManager, start: date) -> None:
    draft = _draft(manager)
    draft.start_date = start.isoformat()
    shown = _("Start: {date}").format(date=short_date(start, _locale(manager)))
    await _after(manager, draft, ScopeField.START, shown)


async def start_typed(_message: Message, _widget: Any, manager: DialogManager, typed: str) -> None:
    """Start date, typed: dd.mm.yyyy, dd.mm or yyyy-mm-dd."""
    today = _today(manager)
    start = parse_start_date(typed, today)
    if start is None:
        manager.dialog_data["error"] = _(
            "I could not read that as a date. Please send a real date within a year from today, like {full}, "
            "{short} or {iso}, or tap a button."
        ).format(full=today.strftime("%d.%m.%Y"), short=today.strftime("%d.%m"), iso=today.isoformat())
        return
    await _start(manager, start)


async def start_pressed(callback: CallbackQuery, _widget: Any, manager: DialogManager, value: str) -> None:
    """Start date, tapped: today, tomorrow or next Monday."""
    try:
        start = quick_start(QuickStart(value), _today(manager))
    except ValueError:
        await stale(callback, manager)
        return
    await _start(manager, start)


async def _days(manager: DialogManager, days: int) -> None:
    draft = _draft(manager)
    draft.days = days
    due = draft.due
    shown = _("Due for the debrief: {date}").format(date=short_date(due, _locale(manager))) if due else ""
    if days > PILOT_MAX_DAYS:
        shown += "\n" + ngettext(
            "⚠️ {count} day is longer than the method's two-week pilot; the summary will flag it.",
            "⚠️ {count} days is longer than the method's two-week pilot; the summary will flag it.",
            days,
        ).format(count=days)
    await _after(manager, draft, ScopeField.DAYS, shown)


async def days_typed(_message: Message, _widget: Any, manager: DialogManager, days: int) -> None:
    """Timeline, typed: whole days 1–365."""
    await _days(manager, days)


async def days_pressed(_callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    """Timeline, tapped: the recommended 14 days."""
    await _days(manager, PILOT_DEFAULT_DAYS)


async def _agreed(manager: DialogManager, agreed: bool) -> None:
    """Were the metrics agreed with the partner? No is a red flag, said at once."""
    draft = _draft(manager)
    draft.metrics_agreed = agreed
    flag = _(
        "🚩 Red flag: metrics not agreed before the start. Agree them with the partner before the work begins; "
        "the summary keeps the flag."
    )
    await _after(manager, draft, ScopeField.AGREED, "" if agreed else flag)


async def metrics_agreed(_callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    await _agreed(manager, True)


async def metrics_not_agreed(_callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    await _agreed(manager, False)


async def _revisions(manager: DialogManager, limit: int) -> None:
    draft = _draft(manager)
    draft.revision_limit = limit
    await _after(manager, draft, ScopeField.REVISIONS)


async def revisions_typed(_message: Message, _widget: Any, manager: DialogManager, limit: int) -> None:
    """Revision limit, typed: 0–20."""
    await _revisions(manager, limit)


async def revisions_pressed(callback: CallbackQuery, _widget: Any, manager: DialogManager, value: str) -> None:
    """Revision limit, tapped: 0–3."""
    limit = _pressed(value, parse_revision_limit)
    if limit is None:
        await stale(callback, manager)
        return
    await _revisions(manager, limit)


async def market_chosen(callback: CallbackQuery, _widget: Any, manager: DialogManager, value: str) -> None:
    """The creators' market: RU, US or both; its checklist follows."""
    try:
        coverage = MarketCoverage(value)
    except ValueError:
        await stale(callback, manager)
        return
    draft = _draft(manager)
    draft.market = coverage.value
    allowed = {item.value for item in market_checklist(coverage)}
    draft.checklist = [item for item in draft.checklist if item in allowed]
    draft.keep_in_dialog(manager)
    await manager.switch_to(ScopeForm.waiting_for_checklist)


async def checklist_toggled(callback: CallbackQuery, _widget: Any, manager: DialogManager, value: str) -> None:
    """A checklist item ticked or unticked, in place."""
    draft = _draft(manager)
    coverage = draft.coverage
    if coverage is None or value not in {item.value for item in market_checklist(coverage)}:
        await stale(callback, manager)
        return
    if value in draft.checklist:
        draft.checklist.remove(value)
    else:
        draft.checklist.append(value)
    draft.keep_in_dialog(manager)


async def checklist_done(_callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    draft = _draft(manager)
    if draft.coverage is None:
        await manager.switch_to(ScopeForm.waiting_for_market)
        return
    await _after(manager, draft, ScopeField.MARKET)


# ---- what each step shows --------------------------------------------------------------------------------


def _question(which: ScopeField, today: date) -> str:
    """The text of one question."""
    if which is ScopeField.CREATORS:
        return _("How many creators will take part? The method's pilot has 1–2. Tap a number or type it.")
    if which is ScopeField.DELIVERABLE:
        return _(
            "What is the one deliverable? Describe it so both sides read it the same way, e.g. “2 UGC videos, "
            "30 s, vertical, for TikTok”."
        )
    if which is ScopeField.START:
        return _("When does it start? Tap a button or type a date: {full}, {short} or {iso}.").format(
            full=today.strftime("%d.%m.%Y"), short=today.strftime("%d.%m"), iso=today.isoformat()
        )
    if which is ScopeField.DAYS:
        return _("How many days until the result is due? The method's pilot takes two weeks. Tap or type a number.")
    if which is ScopeField.METRICS:
        return _(
            "What are the success metrics? Write them as you will check them at the debrief, e.g. “both videos "
            "approved by the brand without a third revision, CTR at least 1.5%”."
        )
    if which is ScopeField.AGREED:
        return _("Were these metrics agreed with the partner before the start?")
    if which is ScopeField.PAYMENT:
        return _(
            "What are the payment terms? Amount, currency, when and how, e.g. “$600: half upfront, half on delivery”."
        )
    if which is ScopeField.REVISIONS:
        return _("How many revision rounds are included? A number from 0 to {max}.").format(max=REVISIONS_INPUT_MAX)
    if which is ScopeField.MARKET:
        return _("Which market are the creators in? The checklist that follows depends on it.")
    if which is ScopeField.SUCCESS:
        return _(
            "Now the expectations, to agree with the partner before the start (1 of 3).\nWhat does success look like?"
        )
    if which is ScopeField.FAILURE:
        return _(
            "Expectations (2 of 3): what failure is acceptable? E.g. “one video below target is fine if we know why”."
        )
    return _(
        "Expectations (3 of 3): when do we renegotiate? E.g. “if the brief changes or a deadline slips by more "
        "than 3 days”."
    )


def _question_view(which: ScopeField) -> Callable[..., Any]:
    """The getter of a question's window: its text, numbered unless one field is being changed, and its choices."""

    async def view(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
        draft = _draft(dialog_manager)
        text = _question(which, _today(dialog_manager))
        if not draft.editing:
            text = f"<b>{ORDER.index(which) + 1}/{len(ORDER)}</b> · {text}"
        return {**screen(dialog_manager, text), **_choices(draft)}

    return view


def _choices(draft: ScopeFormDraft) -> dict[str, Any]:
    """The buttons' labels the windows show (each window uses its own)."""
    coverage = draft.coverage or MarketCoverage.BOTH
    return {
        "creators": [str(count) for count in CREATOR_BUTTONS],
        "starts": [(_("Today"), QuickStart.TODAY.value), (_("Tomorrow"), QuickStart.TOMORROW.value),
                   (_("Next Monday"), QuickStart.NEXT_MONDAY.value)],
        "days": _("{count} days (recommended)").format(count=PILOT_DEFAULT_DAYS),
        "agreed": _("Yes, agreed"),
        "not_agreed": _("No, not yet"),
        "revisions": [str(count) for count in REVISION_BUTTONS],
        "markets": [(labels.coverage(c), c.value) for c in MarketCoverage],
        "checklist": [
            (f"{'✅' if item.value in draft.checklist else '▫️'} {checklist_label(item)}", item.value)
            for item in market_checklist(coverage)
        ],
        "continue": _("Continue ▶"),
    }


async def bigger_view(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    draft = _draft(dialog_manager)
    count = draft.creators or 0
    text = ngettext(
        "{count} creator is more than the 1–2 of a small pilot. A bigger scope is harder to read: when it goes "
        "wrong, you will not know why. Go ahead anyway? It will be flagged.",
        "{count} creators are more than the 1–2 of a small pilot. A bigger scope is harder to read: when it goes "
        "wrong, you will not know why. Go ahead anyway? It will be flagged.",
        count,
    ).format(count=count)
    yes = _("Yes, a bigger pilot") if draft.rung == 1 else _("Yes, a bigger campaign")
    return {**screen(dialog_manager, text), "yes": yes, "no": _("No, {max} at most").format(max=PILOT_MAX_CREATORS)}


async def checklist_view(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    draft = _draft(dialog_manager)
    coverage = draft.coverage or MarketCoverage.BOTH
    text = _(
        "Checklist for creators in {market}. Tick what is settled with the partner, then press Continue.\n"
        "US creators expect clear contracts and boundaries; Russian creators expect fast turnarounds and "
        "flexibility. A cross-market partner has to work both ways."
    ).format(market=labels.coverage(coverage))
    return {**screen(dialog_manager, text), **_choices(draft)}


async def summary_view(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    text = summary_text(_draft(dialog_manager), _locale(dialog_manager))
    return {
        **screen(dialog_manager, text),
        "save": _("✅ Save"),
        "edit": _("✏️ Edit"),
        "cancel": _("Cancel"),
        "fields": [(field_label(which), which.value) for which in ORDER],
        "back": _("« Back to the summary"),
    }


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



def _value(d: ScopeFormDraft, which: ScopeField, locale: str) -> str:
    """A field as the summary shows it; user text escaped."""
    missing = "—"
    if which is ScopeField.CREATORS:
        if d.creators is None:
            return missing
        shown = ngettext("{count} creator", "{count} creators", d.creators).format(count=d.creators)
        return shown + (" (" + _("a bigger scope, confirmed") + ")" if d.bigger_confirmed else "")
    if which is ScopeField.START:
        return short_date(d.start, locale) if d.start else missing
    if which is ScopeField.DAYS:
        if d.days is None:
            return missing
        shown = ngettext("{count} day", "{count} days", d.days).format(count=d.days)
        due = d.due
        return shown + (" · " + _("due {date}").format(date=short_date(due, locale)) if due else "")
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
    return user_text(getattr(d, TEXT_FIELDS[which].attribute)) or missing


def summary_text(d: ScopeFormDraft, locale: str) -> str:
    name = user_text(d.partner_name)
    if d.rung == 1:
        title = _("<b>Pilot scope: {name}</b>").format(name=name)
    else:
        title = _("<b>Campaign scope: {name}</b> (rung {rung} of 3)").format(name=name, rung=d.rung)
    lines = [title, ""]
    for which in ORDER:
        if which is ScopeField.SUCCESS:
            lines.extend(["", "<b>" + _("Expectations") + "</b>"])
        lines.append(f"<b>{field_label(which)}:</b> {_value(d, which, locale)}")
    warnings = scope_warnings(d.domain())
    lines.append("")
    if warnings:
        lines.append("<b>" + _("Warnings") + "</b>")
        lines.extend(warning_label(w) for w in warnings)
    else:
        lines.append(_("✅ A small, documented scope: nothing to flag."))
    lines.extend(["", _("Save it, change a field, or cancel.")])
    return "\n".join(lines)


async def edit_pressed(_callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    """ "✏️ Edit" under the summary: the fields to change, on the same message."""
    await manager.switch_to(ScopeForm.waiting_for_field_to_edit)


async def back_to_summary(_callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    await manager.switch_to(ScopeForm.waiting_for_confirmation)


async def field_to_edit_chosen(callback: CallbackQuery, _widget: Any, manager: DialogManager, value: str) -> None:
    """A field from the Edit menu: its question; the answer leads back to the summary."""
    try:
        which = ScopeField(value)
    except ValueError:
        await stale(callback, manager)
        return
    draft = _draft(manager)
    draft.editing = True
    draft.keep_in_dialog(manager)
    await manager.switch_to(FIELD_STATE[which])


async def cancel_pressed(callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    """ "Cancel" under the summary: nothing saved, and the summary says so in place."""
    await manager.done(show_mode=ShowMode.NO_UPDATE)
    await edit_or_send(pressed_message(manager), _("Cancelled: the scope was not saved."))


async def save_pressed(callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    """Re-check the partner through the workspace, store the campaign with the partner's new stage, show the card."""
    message = pressed_message(manager)
    draft, data = _draft(manager), manager.middleware_data
    workspace: Workspace = data["workspace"]
    campaigns: CampaignRepo = data["campaigns"]
    locale = _locale(manager)
    await manager.done(show_mode=ShowMode.NO_UPDATE)
    scope = draft.to_scope()
    if scope is None:
        incomplete = _("This scope was incomplete, so nothing was saved. Please start again from the card.")
        await edit_or_send(message, incomplete)
        return
    partner = await data["partners"].get(workspace.id, draft.partner_id)
    if partner is None:
        await edit_or_send(message, not_found_text())
        return
    rung = await rung_to_scope(partner, campaigns, workspace.id, locale)
    if isinstance(rung, Refusal) or rung != draft.rung:
        text = rung.text if isinstance(rung, Refusal) else ""
        changed = _("Nothing was saved: the partner's stage changed while you were writing the scope.")
        await edit_or_send(message, f"{changed}\n{text}".strip(), rung.markup if isinstance(rung, Refusal) else None)
        return
    manager_id = callback.from_user.id
    try:
        created = await campaigns.create(
            workspace.id, partner.id, rung, scope, manager_id, stage_of_rung(rung), data["clock"].now()
        )
    except CampaignAlreadyRunning:
        refusal = await rung_to_scope(partner, campaigns, workspace.id, locale)
        if isinstance(refusal, Refusal):
            await edit_or_send(message, refusal.text, refusal.markup)
        return
    if created is None:
        await edit_or_send(message, not_found_text())
        return
    name, due = user_text(partner.name), short_date(scope.due_date, locale)
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
    await edit_or_send(message, saved.format(name=name, date=due))
    await show_partner_card(message, manager_id, partner.id, data["cards"], workspace, data["i18n"], edit=False)


# ---- the scope, as data ----------------------------------------------------------------------------------


def _buttons_hint() -> str:
    return _("Please answer with the buttons.")


def _text_question(which: ScopeField) -> Window:
    field = TEXT_FIELDS[which]
    return Window(
        Format("{text}"),
        TextInput(which.value, type_factory=_written(field), on_success=_text_answered(which), on_error=refused,
                  filter=NOT_A_COMMAND),
        MessageInput(text_expected(lambda: texts.text_expected(field.limit))),
        state=FIELD_STATE[which],
        getter=_question_view(which),
    )


def _choice(widget_id: str, items: str, on_click: Any, width: int) -> Group:
    return Group(
        Select(Format("{item[0]}"), id=widget_id, item_id_getter=lambda item: item[1], items=items, on_click=on_click),
        width=width,
    )


def _numbers(widget_id: str, items: str, on_click: Any) -> Group:
    return Group(Select(Format("{item}"), id=widget_id, item_id_getter=str, items=items, on_click=on_click), width=4)


def dialog() -> Dialog:
    text = Format("{text}")
    form = Dialog(
        Window(
            text,
            _numbers("creators", "creators", creators_pressed),
            TextInput("creators_typed", type_factory=_number(parse_creators, _creators_hint),
                      on_success=creators_typed, on_error=refused, filter=NOT_A_COMMAND),
            MessageInput(text_expected(_creators_hint)),
            state=ScopeForm.waiting_for_creators,
            getter=_question_view(ScopeField.CREATORS),
        ),
        Window(
            text,
            Column(Button(Format("{yes}"), id="bigger", on_click=bigger_confirmed),
                   Button(Format("{no}"), id="smaller", on_click=bigger_refused)),
            MessageInput(text_expected(_buttons_hint)),
            state=ScopeForm.waiting_for_bigger_confirmation,
            getter=bigger_view,
        ),
        _text_question(ScopeField.DELIVERABLE),
        Window(
            text,
            _choice("start", "starts", start_pressed, 3),
            TextInput("start_typed", on_success=start_typed, filter=NOT_A_COMMAND),
            MessageInput(text_expected(lambda: _("Please type the date as text, or tap a button."))),
            state=ScopeForm.waiting_for_start_date,
            getter=_question_view(ScopeField.START),
        ),
        Window(
            text,
            Button(Format("{days}"), id="days", on_click=days_pressed),
            TextInput("days_typed", type_factory=_number(parse_days, _days_hint), on_success=days_typed,
                      on_error=refused, filter=NOT_A_COMMAND),
            MessageInput(text_expected(_days_hint)),
            state=ScopeForm.waiting_for_days,
            getter=_question_view(ScopeField.DAYS),
        ),
        _text_question(ScopeField.METRICS),
        Window(
            text,
            Group(Button(Format("{agreed}"), id="agreed", on_click=metrics_agreed),
                  Button(Format("{not_agreed}"), id="not_agreed", on_click=metrics_not_agreed), width=2),
            MessageInput(text_expected(_buttons_hint)),
            state=ScopeForm.waiting_for_metrics_agreed,
            getter=_question_view(ScopeField.AGREED),
        ),
        _text_question(ScopeField.PAYMENT),
        Window(
            text,
            _numbers("revisions", "revisions", revisions_pressed),
            TextInput("revisions_typed", type_factory=_number(parse_revision_limit, _revisions_hint),
                      on_success=revisions_typed, on_error=refused, filter=NOT_A_COMMAND),
            MessageInput(text_expected(_revisions_hint)),
            state=ScopeForm.waiting_for_revision_limit,
            getter=_question_view(ScopeField.REVISIONS),
        ),
        Window(
            text,
            _choice("market", "markets", market_chosen, 2),
            MessageInput(text_expected(_buttons_hint)),
            state=ScopeForm.waiting_for_market,
            getter=_question_view(ScopeField.MARKET),
        ),
        Window(
            text,
            _choice("checklist", "checklist", checklist_toggled, 1),
            Button(Format("{continue}"), id="continue", on_click=checklist_done),
            MessageInput(text_expected(_buttons_hint)),
            state=ScopeForm.waiting_for_checklist,
            getter=checklist_view,
        ),
        _text_question(ScopeField.SUCCESS),
        _text_question(ScopeField.FAILURE),
        _text_question(ScopeField.RENEGOTIATE),
        Window(
            text,
            Group(Button(Format("{save}"), id="save", on_click=save_pressed),
                  Button(Format("{edit}"), id="edit", on_click=edit_pressed), width=2),
            Button(Format("{cancel}"), id="cancel", on_click=cancel_pressed),
            MessageInput(text_expected(_buttons_hint)),
            state=ScopeForm.waiting_for_confirmation,
            getter=summary_view,
        ),
        Window(
            text,
            _choice("field", "fields", field_to_edit_chosen, 2),
            Button(Format("{back}"), id="back", on_click=back_to_summary),
            MessageInput(text_expected(_buttons_hint)),
            state=ScopeForm.waiting_for_field_to_edit,
            getter=summary_view,
        ),
        on_start=_on_start,
    )
    return presses_of_its_own(form)
