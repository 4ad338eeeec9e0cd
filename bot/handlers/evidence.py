"""The evidence screen of a partner card: case studies, testimonials, community; and the conversation signals.

The screen and the signals are stateless views: their buttons carry the partner and work from any message. Adding
an item is a short form, declared as data (aiogram-dialog, as bot/handlers/new_partner.py): a case study (market,
brand, outcome, months, link), a testimonial (text, who said it), a community item (text, link), one `Dialog`
each, a `Window` per step. The form starts below the evidence screen; presses edit the form's message, a typed
answer gets a new one; the finished form shows the evidence screen again, with what was added on top.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager, ShowMode, StartMode, Window
from aiogram_dialog.widgets.input import MessageInput, TextInput
from aiogram_dialog.widgets.kbd import Button, Select
from aiogram_dialog.widgets.text import Format
from pydantic import ConfigDict, StrictInt, StrictStr

from bot import labels, texts
from bot.clock import Clock
from bot.domain.evidence import (
    AUTHOR_MAX_LEN,
    BRAND_MAX_LEN,
    COMMUNITY_MAX_LEN,
    CONVERSATION_SIGNALS,
    MONTHS_MAX,
    TESTIMONIAL_MAX_LEN,
    CaseStudy,
    CommunityActivity,
    Outcome,
    Testimonial,
    parse_months,
    validate_author,
    validate_brand,
    validate_community,
    validate_testimonial,
)
from bot.domain.partners import MARKETS, Market, validate_url
from bot.handlers.cancel_notes import on_cancel
from bot.handlers.dialog_steps import (
    NOT_A_COMMAND,
    buttons_expected,
    pressed_message,
    refused,
    screen,
    stale,
    text_expected,
)
from bot.handlers.drafts import DraftModel
from bot.handlers.partners import not_found_text, partner_or_say
from bot.handlers.replies import answer_stale, edit_or_send, reply_here
from bot.handlers.workspace_guard import dialogs_in_workspace, private_workspace_router
from bot.keyboards.callbacks import (
    EvidenceAction,
    EvidenceCallback,
    PartnerAction,
    PartnerCallback,
    SignalCallback,
)
from bot.keyboards.grid import ButtonGrid
from bot.plumbing.dialogs import presses_of_its_own
from bot.storage.evidence import EvidenceKind, EvidenceRepo
from bot.storage.partners import Partner, PartnerRepo
from bot.storage.workspaces import Workspace
from bot.views.formatting import user_text

ITEM_PREVIEW = 60
DRAFT_KEY = "evidence"  # the draft in the dialog's data (and what /cancel reads the partner from)
Getter = Callable[..., Awaitable[dict[str, Any]]]


class CaseForm(StatesGroup):
    waiting_for_market = State()
    waiting_for_brand = State()
    waiting_for_outcome = State()
    waiting_for_months = State()
    waiting_for_link = State()


class TestimonialForm(StatesGroup):
    waiting_for_text = State()
    waiting_for_author = State()


class CommunityForm(StatesGroup):
    waiting_for_text = State()
    waiting_for_link = State()


FIRST_STEP = {
    EvidenceAction.ADD_CASE: CaseForm.waiting_for_market,
    EvidenceAction.ADD_TESTIMONIAL: TestimonialForm.waiting_for_text,
    EvidenceAction.ADD_COMMUNITY: CommunityForm.waiting_for_text,
}


class EvidenceDraft(DraftModel):
    """The item being added, kept in the dialog's data (its records in the FSM storage) as JSON; its market and
    outcome are stored as values and read back as members (lax for those two), the rest strict."""

    model_config = ConfigDict(strict=False, validate_assignment=True, extra="ignore")
    KEY = DRAFT_KEY

    partner_id: StrictInt = 0
    market: Market | None = None
    brand: StrictStr = ""
    outcome: Outcome | None = None
    months: StrictInt = 0
    text: StrictStr = ""


def _evidence_cancelled(_data: dict[str, Any]) -> str:
    return _("Cancelled: nothing was added to the evidence.")


for _form in (CaseForm, TestimonialForm, CommunityForm):
    on_cancel(_form, _evidence_cancelled, back_to_card_of=DRAFT_KEY)


# The kinds of button data this feature's handlers take (the forms' own buttons are the dialogs').
PRESSES = (PartnerCallback, EvidenceCallback, SignalCallback)


def router() -> Router:
    r = private_workspace_router("evidence", PRESSES)

    r.callback_query.register(evidence_view, PartnerCallback.filter(F.action == PartnerAction.EVIDENCE))
    r.callback_query.register(evidence_view, EvidenceCallback.filter(F.action == EvidenceAction.VIEW))
    r.callback_query.register(delete_mode, EvidenceCallback.filter(F.action == EvidenceAction.DELETE_MODE))
    r.callback_query.register(delete_item, EvidenceCallback.filter(F.action == EvidenceAction.DELETE))
    r.callback_query.register(start_form, EvidenceCallback.filter(F.action.in_(FIRST_STEP)))

    r.callback_query.register(signals_view, PartnerCallback.filter(F.action == PartnerAction.SIGNALS))
    r.callback_query.register(signal_toggled, SignalCallback.filter())
    return r


def conversations() -> Router:
    """The three forms, apart from `router()`: their presses carry the dialogs' own data, not a PRESSES kind."""
    return dialogs_in_workspace("evidence_forms", *_dialogs())


# ---- the evidence screen -------------------------------------------------------------------------------


async def _render_evidence(
    evidence: EvidenceRepo, workspace: Workspace, partner: Partner, delete_mode: bool
) -> tuple[str, InlineKeyboardMarkup]:
    cases = await evidence.cases(workspace.id, partner.id)
    testimonials = await evidence.testimonials(workspace.id, partner.id)
    community = await evidence.community(workspace.id, partner.id)
    lines = [_("<b>Evidence: {name}</b>").format(name=user_text(partner.name))]
    lines.append("\n" + _("<b>Case studies</b> ({count})").format(count=len(cases)))
    for market in MARKETS:
        for stored in (c for c in cases if c.item.market is market):
            case = stored.item
            line = _("{market} {brand} — {outcome}, {months} mo.").format(
                market=labels.market(market).split()[0],
                brand=user_text(case.brand, ITEM_PREVIEW),
                outcome=labels.outcome(case.outcome),
                months=case.months,
            )
            if case.link:
                line += " · " + user_text(case.link, ITEM_PREVIEW)
            lines.append("• " + line)
    lines.append("\n" + _("<b>Testimonials</b> ({count})").format(count=len(testimonials)))
    lines.extend(
        f"• «{user_text(t.item.text, ITEM_PREVIEW)}» — {user_text(t.item.author or '', 40)}" for t in testimonials
    )
    lines.append("\n" + _("<b>Community</b> ({count})").format(count=len(community)))
    lines.extend(
        "• " + user_text(c.item.text, ITEM_PREVIEW) + (f" · {user_text(c.item.link, 60)}" if c.item.link else "")
        for c in community
    )
    b = ButtonGrid()
    pid = partner.id
    if delete_mode:
        lines.append("\n" + _("Tap an item to delete it."))
        items = [
            *((EvidenceKind.CASE, c.id, c.item.brand) for c in cases),
            *((EvidenceKind.TESTIMONIAL, t.id, t.item.text) for t in testimonials),
            *((EvidenceKind.COMMUNITY, c.id, c.item.text) for c in community),
        ]
        for kind, item_id, label in items:
            b.button(
                text="🗑 " + label[:40],
                callback_data=EvidenceCallback(
                    action=EvidenceAction.DELETE, partner_id=pid, kind=kind.value, item_id=item_id
                ),
            )
        b.button(text=_("Done"), callback_data=EvidenceCallback(action=EvidenceAction.VIEW, partner_id=pid))
        b.adjust(1)
        return "\n".join(lines), b.as_markup()
    b.button(text=_("➕ Case study"), callback_data=EvidenceCallback(action=EvidenceAction.ADD_CASE, partner_id=pid))
    b.button(
        text=_("➕ Testimonial"), callback_data=EvidenceCallback(action=EvidenceAction.ADD_TESTIMONIAL, partner_id=pid)
    )
    b.button(
        text=_("➕ Community"), callback_data=EvidenceCallback(action=EvidenceAction.ADD_COMMUNITY, partner_id=pid)
    )
    if cases or testimonials or community:
        b.button(text=_("🗑 Delete…"), callback_data=EvidenceCallback(action=EvidenceAction.DELETE_MODE, partner_id=pid))
    b.button(text=_("« Card"), callback_data=PartnerCallback(action=PartnerAction.OPEN, partner_id=pid))
    b.adjust(1, 2, 2)
    return "\n".join(lines), b.as_markup()


async def evidence_view(
    callback: CallbackQuery,
    pressed: Message,
    callback_data: PartnerCallback | EvidenceCallback,
    partners: PartnerRepo,
    evidence: EvidenceRepo,
    workspace: Workspace,
) -> None:
    """The card's Evidence button (and Done after deleting): the list, edited in place."""
    partner = await partner_or_say(pressed, partners, workspace, callback_data.partner_id)
    if partner is None:
        return
    text, markup = await _render_evidence(evidence, workspace, partner, delete_mode=False)
    await edit_or_send(pressed, text, markup)


async def delete_mode(
    callback: CallbackQuery,
    pressed: Message,
    callback_data: EvidenceCallback,
    partners: PartnerRepo,
    evidence: EvidenceRepo,
    workspace: Workspace,
) -> None:
    """ "Delete…": every item gets a delete button."""
    partner = await partner_or_say(pressed, partners, workspace, callback_data.partner_id)
    if partner is None:
        return
    text, markup = await _render_evidence(evidence, workspace, partner, delete_mode=True)
    await edit_or_send(pressed, text, markup)


async def delete_item(
    callback: CallbackQuery,
    pressed: Message,
    callback_data: EvidenceCallback,
    partners: PartnerRepo,
    evidence: EvidenceRepo,
    workspace: Workspace,
) -> None:
    """One item's delete button; only items of the caller's workspace can go."""
    partner = await partner_or_say(pressed, partners, workspace, callback_data.partner_id)
    if partner is None:
        return
    try:
        kind = EvidenceKind(callback_data.kind)
    except ValueError:
        await answer_stale(callback)
        return
    if not await evidence.delete(workspace.id, partner.id, kind, callback_data.item_id):
        await pressed.answer(_("That item is already gone."))
    text, markup = await _render_evidence(evidence, workspace, partner, delete_mode=True)
    await edit_or_send(pressed, text, markup)


# ---- the three forms, as data: the steps' prompts ------------------------------------------------------


async def start_form(
    callback: CallbackQuery,
    pressed: Message,
    callback_data: EvidenceCallback,
    state: FSMContext,
    dialog_manager: DialogManager,
    partners: PartnerRepo,
    workspace: Workspace,
) -> None:
    """ "➕ Case study", "➕ Testimonial", "➕ Community": the form's first step in a new message below the evidence
    screen; a conversation in progress (any flow) ends here."""
    partner = await partner_or_say(pressed, partners, workspace, callback_data.partner_id)
    if partner is None:
        return
    await state.clear()
    await dialog_manager.start(
        FIRST_STEP[callback_data.action], data={"partner_id": partner.id}, mode=StartMode.RESET_STACK,
        show_mode=ShowMode.SEND,
    )


async def _new_draft(start_data: Any, manager: DialogManager) -> None:
    partner_id = start_data.get("partner_id") if isinstance(start_data, dict) else None
    _keep(manager, EvidenceDraft(partner_id=partner_id if isinstance(partner_id, int) else 0))


def _draft(manager: DialogManager) -> EvidenceDraft:
    return EvidenceDraft.in_dialog(manager)


def _keep(manager: DialogManager, draft: EvidenceDraft) -> None:
    draft.keep_in_dialog(manager)


def _screen(manager: DialogManager, question: str, **extra: Any) -> dict[str, Any]:
    return {**screen(manager, question), "skip": _("Skip ⏭"), **extra}


def _months_hint() -> str:
    return _("Please send a whole number of months from 0 to {max}, e.g. 8.").format(max=MONTHS_MAX)


def _link_hint() -> str:
    return _("Send the link as text, or press Skip.")


def _view(question: Callable[[], str], **choices: Callable[[], list[tuple[str, str]]]) -> Getter:
    async def getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
        return _screen(dialog_manager, question(), **{name: items() for name, items in choices.items()})

    return getter


market_view = _view(
    lambda: _("New case study. Which market was it in?"),
    markets=lambda: [(labels.market(market), market.value) for market in MARKETS],
)
brand_view = _view(lambda: _("Which brand was it for?"))
outcome_view = _view(
    lambda: _("How did it end for the brand? Failed cases count too: they show honesty."),
    outcomes=lambda: [(labels.outcome(outcome), outcome.value) for outcome in Outcome],
)
months_view = _view(lambda: _("How many months did the relationship with that brand last? A number, e.g. 8."))
case_link_view = _view(lambda: _("A link to the case (optional)."))
testimonial_view = _view(lambda: _("Paste the testimonial: what did they say about the partner?"))
author_view = _view(lambda: _('Who said it? A name and role, e.g. "Maria, brand manager at Acme".'))
community_view = _view(lambda: _("Describe their community participation: talks, groups they run, open resources."))
community_link_view = _view(lambda: _("A link to it (optional)."))


# ---- what each step takes ------------------------------------------------------------------------------


def _parser(validate: Callable[[str], Any], reason: Callable[[str], str]) -> Callable[[str], Any]:
    """A TextInput's type_factory: the validated value, or ValueError saying why it was not taken."""

    def parse(typed: str) -> Any:
        value = validate(typed)
        if value is None:
            raise ValueError(reason(typed))
        return value

    return parse


parse_brand = _parser(validate_brand, lambda _typed: texts.text_expected(BRAND_MAX_LEN))
parse_months_typed = _parser(parse_months, lambda _typed: _months_hint())
parse_testimonial = _parser(validate_testimonial, lambda typed: texts.text_not_taken(TESTIMONIAL_MAX_LEN, typed))
parse_author = _parser(validate_author, lambda _typed: texts.text_expected(AUTHOR_MAX_LEN))
parse_community = _parser(validate_community, lambda typed: texts.text_not_taken(COMMUNITY_MAX_LEN, typed))
parse_link = _parser(
    validate_url, lambda _typed: _("That does not look like a link. Send one like https://example.com, or press Skip.")
)


async def market_chosen(callback: CallbackQuery, _widget: Any, manager: DialogManager, value: str) -> None:
    if value not in {m.value for m in Market}:
        await stale(callback, manager)
        return
    _keep(manager, _draft(manager).model_copy(update={"market": Market(value)}))
    manager.dialog_data["note"] = _("Market: {market}").format(market=labels.market(Market(value)))
    await manager.switch_to(CaseForm.waiting_for_brand)


async def brand_entered(_message: Message, _widget: Any, manager: DialogManager, brand: str) -> None:
    _keep(manager, _draft(manager).model_copy(update={"brand": brand}))
    await manager.switch_to(CaseForm.waiting_for_outcome)


async def outcome_chosen(callback: CallbackQuery, _widget: Any, manager: DialogManager, value: str) -> None:
    if value not in {o.value for o in Outcome}:
        await stale(callback, manager)
        return
    _keep(manager, _draft(manager).model_copy(update={"outcome": Outcome(value)}))
    manager.dialog_data["note"] = _("Outcome: {outcome}").format(outcome=labels.outcome(Outcome(value)))
    await manager.switch_to(CaseForm.waiting_for_months)


async def months_entered(_message: Message, _widget: Any, manager: DialogManager, months: int) -> None:
    _keep(manager, _draft(manager).model_copy(update={"months": months}))
    await manager.switch_to(CaseForm.waiting_for_link)


async def text_entered(_message: Message, _widget: Any, manager: DialogManager, text: str) -> None:
    """The testimonial's or the community item's text; the form's next step."""
    _keep(manager, _draft(manager).model_copy(update={"text": text}))
    await manager.next()


# ---- saving --------------------------------------------------------------------------------------------


async def case_link_entered(message: Message, _widget: Any, manager: DialogManager, link: str) -> None:
    await _save(message, manager, _case, link)


async def case_link_skipped(callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    await _skipped(callback, manager, _case)


async def community_link_entered(message: Message, _widget: Any, manager: DialogManager, link: str) -> None:
    await _save(message, manager, _community, link)


async def community_link_skipped(callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    await _skipped(callback, manager, _community)


async def _skipped(callback: CallbackQuery, manager: DialogManager, addition: Maker) -> None:
    """Skip on a link step: saved without one; the step's message becomes the evidence screen."""
    await _save(pressed_message(manager), manager, addition, None, by=callback.from_user.id)


async def author_entered(message: Message, _widget: Any, manager: DialogManager, author: str) -> None:
    await _save(message, manager, _testimonial, author)


# What a finished form adds: the item, how it is stored, the confirmation; None when the draft lacks a step.
Addition = tuple[CaseStudy | Testimonial | CommunityActivity, Callable[..., Awaitable[int | None]], str]
Maker = Callable[["EvidenceDraft", EvidenceRepo, Any], Addition | None]


def _case(draft: EvidenceDraft, evidence: EvidenceRepo, link: str | None) -> Addition | None:
    if draft.market is None or draft.outcome is None or not draft.brand:
        return None
    case = CaseStudy(draft.market, draft.brand, draft.outcome, draft.months, link)
    return case, evidence.add_case, _("Case study added: {brand}.").format(brand=user_text(case.brand))


def _testimonial(draft: EvidenceDraft, evidence: EvidenceRepo, author: str) -> Addition | None:
    if not draft.text:
        return None
    return Testimonial(draft.text, author), evidence.add_testimonial, _("Testimonial added.")


def _community(draft: EvidenceDraft, evidence: EvidenceRepo, link: str | None) -> Addition | None:
    if not draft.text:
        return None
    return CommunityActivity(draft.text, link), evidence.add_community, _("Community participation added.")


async def _save(
    message: Message, manager: DialogManager, addition: Maker, last_answer: str | None, *, by: int | None = None
) -> None:
    """The form's last answer: the item is stored and the evidence screen follows, with the confirmation on top —
    in place of the step's message after a press, below a typed answer."""
    draft, data = _draft(manager), manager.middleware_data
    await manager.done(show_mode=ShowMode.NO_UPDATE)
    evidence: EvidenceRepo = data["evidence"]
    workspace: Workspace = data["workspace"]
    author = by if by is not None else (message.from_user.id if message.from_user else 0)
    adding = addition(draft, evidence, last_answer)
    if adding is None:
        await message.answer(_("This form was incomplete, so nothing was saved. Please start again from the card."))
        return
    item, store, confirmation = adding
    if await store(workspace.id, draft.partner_id, item, author, data["clock"].now()) is None:
        await message.answer(not_found_text())
        return
    partner = await partner_or_say(message, data["partners"], workspace, draft.partner_id)
    if partner is not None:
        text, markup = await _render_evidence(evidence, workspace, partner, delete_mode=False)
        await reply_here(message, confirmation + "\n\n" + text, markup)


# ---- the forms -----------------------------------------------------------------------------------------


def _dialogs() -> list[Dialog]:
    text = Format("{text}")
    skip = Format("{skip}")

    def choice(step: State, view: Getter, items: str, on_click: Any, hint: Callable[[], str], **window: Any) -> Window:
        return Window(
            text,
            Select(Format("{item[0]}"), id=items, item_id_getter=lambda item: item[1], items=items, on_click=on_click),
            MessageInput(buttons_expected(hint)),
            state=step,
            getter=view,
            **window,
        )

    def typed(step: State, field: str, view: Getter, parse: Callable[[str], Any], on_success: Any,
              hint: Callable[[], str], on_skip: Any = None) -> Window:
        return Window(
            text,
            TextInput(field, type_factory=parse, on_success=on_success, on_error=refused, filter=NOT_A_COMMAND),
            *([Button(skip, id="skip", on_click=on_skip)] if on_skip else []),
            MessageInput(text_expected(hint)),
            state=step,
            getter=view,
        )

    case = Dialog(
        choice(CaseForm.waiting_for_market, market_view, "markets", market_chosen,
               lambda: _("Please choose the market with the buttons above.")),
        typed(CaseForm.waiting_for_brand, "brand", brand_view, parse_brand, brand_entered,
              lambda: texts.text_expected(BRAND_MAX_LEN)),
        choice(CaseForm.waiting_for_outcome, outcome_view, "outcomes", outcome_chosen,
               lambda: _("Please choose the outcome with the buttons above.")),
        typed(CaseForm.waiting_for_months, "months", months_view, parse_months_typed, months_entered, _months_hint),
        typed(CaseForm.waiting_for_link, "link", case_link_view, parse_link, case_link_entered, _link_hint,
              on_skip=case_link_skipped),
        on_start=_new_draft,
    )
    testimonial = Dialog(
        typed(TestimonialForm.waiting_for_text, "text", testimonial_view, parse_testimonial, text_entered,
              lambda: texts.text_expected(TESTIMONIAL_MAX_LEN)),
        typed(TestimonialForm.waiting_for_author, "author", author_view, parse_author, author_entered,
              lambda: texts.text_expected(AUTHOR_MAX_LEN)),
        on_start=_new_draft,
    )
    community = Dialog(
        typed(CommunityForm.waiting_for_text, "text", community_view, parse_community, text_entered,
              lambda: texts.text_expected(COMMUNITY_MAX_LEN)),
        typed(CommunityForm.waiting_for_link, "link", community_link_view, parse_link, community_link_entered,
              _link_hint, on_skip=community_link_skipped),
        on_start=_new_draft,
    )
    return [presses_of_its_own(form) for form in (case, testimonial, community)]


# ---- conversation signals ------------------------------------------------------------------------------


def _signals_view(partner: Partner) -> tuple[str, InlineKeyboardMarkup]:
    text = _(
        "<b>Conversation signals: {name}</b>\nTick what you noticed when you talked to them. Tap again to untick."
    ).format(name=user_text(partner.name))
    b = ButtonGrid()
    for signal in CONVERSATION_SIGNALS:
        mark = "✅" if partner.signals.get(signal) else "▫️"
        b.button(
            text=f"{mark} {labels.conversation_signal(signal)}",
            callback_data=SignalCallback(partner_id=partner.id, signal=signal),
        )
    b.button(text=_("« Card"), callback_data=PartnerCallback(action=PartnerAction.OPEN, partner_id=partner.id))
    b.adjust(1)
    return text, b.as_markup()


async def signals_view(
    _callback: CallbackQuery, pressed: Message, callback_data: PartnerCallback, partners: PartnerRepo,
    workspace: Workspace,
) -> None:
    """The card's Signals button: three toggles, edited in place."""
    partner = await partner_or_say(pressed, partners, workspace, callback_data.partner_id)
    if partner is None:
        return
    await edit_or_send(pressed, *_signals_view(partner))


async def signal_toggled(
    callback: CallbackQuery,
    pressed: Message,
    callback_data: SignalCallback,
    partners: PartnerRepo,
    workspace: Workspace,
    clock: Clock,
) -> None:
    """One toggle: flips the stored value and redraws the toggles."""
    partner = await partner_or_say(pressed, partners, workspace, callback_data.partner_id)
    if partner is None:
        return
    value = not partner.signals.get(callback_data.signal)
    await partners.set_signal(workspace.id, partner.id, callback_data.signal, value, clock.now())
    updated = await partners.get(workspace.id, partner.id)
    if updated is not None:
        await edit_or_send(pressed, *_signals_view(updated))
