"""The evidence screen of a partner card: case studies, testimonials, community; and the conversation signals."""

from __future__ import annotations

from typing import Annotated, Any

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

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
from bot.handlers.drafts import DraftModel, one_of
from bot.handlers.filters import TYPED
from bot.handlers.partners import not_found_text, partner_or_say
from bot.handlers.replies import answer_stale, edit_or_send, reply_here
from bot.handlers.workspace_guard import private_workspace_router
from bot.keyboards.callbacks import (
    EvidenceAction,
    EvidenceCallback,
    EvidenceChoice,
    EvidenceStep,
    PartnerAction,
    PartnerCallback,
    SignalCallback,
)
from bot.keyboards.grid import ButtonGrid
from bot.storage.evidence import EvidenceKind, EvidenceRepo
from bot.storage.partners import Partner, PartnerRepo
from bot.storage.workspaces import Workspace
from bot.views.formatting import user_text

SKIP = "skip"
ITEM_PREVIEW = 60


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


class EvidenceDraft(DraftModel):
    """The evidence item being added (FSM data, plain JSON): market and outcome as values, "" until chosen."""

    partner_id: int = 0
    market: Annotated[str, one_of(Market, "")] = ""
    brand: str = ""
    outcome: Annotated[str, one_of(Outcome, "")] = ""
    months: int = 0
    text: str = ""

    KEY = "evidence"


def _evidence_cancelled(_data: dict[str, Any]) -> str:
    return _("Cancelled: nothing was added to the evidence.")


for _form in (CaseForm, TestimonialForm, CommunityForm):
    on_cancel(_form, _evidence_cancelled, back_to_card_of=EvidenceDraft.KEY)


# The kinds of button data this feature's handlers take.
PRESSES = (PartnerCallback, EvidenceCallback, EvidenceChoice, SignalCallback)


def router() -> Router:
    r = private_workspace_router("evidence", PRESSES)

    r.callback_query.register(evidence_view, PartnerCallback.filter(F.action == PartnerAction.EVIDENCE))
    r.callback_query.register(evidence_view, EvidenceCallback.filter(F.action == EvidenceAction.VIEW))
    r.callback_query.register(delete_mode, EvidenceCallback.filter(F.action == EvidenceAction.DELETE_MODE))
    r.callback_query.register(delete_item, EvidenceCallback.filter(F.action == EvidenceAction.DELETE))
    r.callback_query.register(start_case, EvidenceCallback.filter(F.action == EvidenceAction.ADD_CASE))
    r.callback_query.register(start_testimonial, EvidenceCallback.filter(F.action == EvidenceAction.ADD_TESTIMONIAL))
    r.callback_query.register(start_community, EvidenceCallback.filter(F.action == EvidenceAction.ADD_COMMUNITY))

    r.callback_query.register(
        case_market, EvidenceChoice.filter(F.step == EvidenceStep.MARKET), StateFilter(CaseForm.waiting_for_market)
    )
    r.message.register(case_brand, StateFilter(CaseForm.waiting_for_brand), TYPED)
    r.callback_query.register(
        case_outcome, EvidenceChoice.filter(F.step == EvidenceStep.OUTCOME), StateFilter(CaseForm.waiting_for_outcome)
    )
    r.message.register(case_months, StateFilter(CaseForm.waiting_for_months), TYPED)
    links = StateFilter(CaseForm.waiting_for_link, CommunityForm.waiting_for_link)
    r.message.register(link_entered, links, TYPED)
    r.callback_query.register(
        link_skipped,
        EvidenceChoice.filter(F.step.in_({EvidenceStep.CASE_LINK, EvidenceStep.COMMUNITY_LINK})),
        links,
    )
    r.message.register(testimonial_text, StateFilter(TestimonialForm.waiting_for_text), TYPED)
    r.message.register(testimonial_author, StateFilter(TestimonialForm.waiting_for_author), TYPED)
    r.message.register(community_text, StateFilter(CommunityForm.waiting_for_text), TYPED)
    forms = StateFilter(*CaseForm.__states__, *TestimonialForm.__states__, *CommunityForm.__states__)
    r.message.register(form_step_repeated, forms)

    r.callback_query.register(signals_view, PartnerCallback.filter(F.action == PartnerAction.SIGNALS))
    r.callback_query.register(signal_toggled, SignalCallback.filter())
    return r


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


async def _partner_or_not_found(
    callback: CallbackQuery, partners: PartnerRepo, workspace: Workspace, partner_id: int
) -> Partner | None:
    if isinstance(callback.message, Message):
        return await partner_or_say(callback.message, partners, workspace, partner_id)
    return await partners.get(workspace.id, partner_id)


async def evidence_view(
    callback: CallbackQuery,
    callback_data: PartnerCallback | EvidenceCallback,
    partners: PartnerRepo,
    evidence: EvidenceRepo,
    workspace: Workspace,
) -> None:
    """The card's Evidence button (and Done after deleting): the list, edited in place."""
    partner = await _partner_or_not_found(callback, partners, workspace, callback_data.partner_id)
    if partner is None or not isinstance(callback.message, Message):
        return
    text, markup = await _render_evidence(evidence, workspace, partner, delete_mode=False)
    await edit_or_send(callback.message, text, markup)


async def delete_mode(
    callback: CallbackQuery,
    callback_data: EvidenceCallback,
    partners: PartnerRepo,
    evidence: EvidenceRepo,
    workspace: Workspace,
) -> None:
    """ "Delete…": every item gets a delete button."""
    partner = await _partner_or_not_found(callback, partners, workspace, callback_data.partner_id)
    if partner is None or not isinstance(callback.message, Message):
        return
    text, markup = await _render_evidence(evidence, workspace, partner, delete_mode=True)
    await edit_or_send(callback.message, text, markup)


async def delete_item(
    callback: CallbackQuery,
    callback_data: EvidenceCallback,
    partners: PartnerRepo,
    evidence: EvidenceRepo,
    workspace: Workspace,
) -> None:
    """One item's delete button; only items of the caller's workspace can go."""
    partner = await _partner_or_not_found(callback, partners, workspace, callback_data.partner_id)
    if partner is None or not isinstance(callback.message, Message):
        return
    try:
        kind = EvidenceKind(callback_data.kind)
    except ValueError:
        await answer_stale(callback)
        return
    if not await evidence.delete(workspace.id, partner.id, kind, callback_data.item_id):
        await callback.message.answer(_("That item is already gone."))
    text, markup = await _render_evidence(evidence, workspace, partner, delete_mode=True)
    await edit_or_send(callback.message, text, markup)


# ---- adding a case study -------------------------------------------------------------------------------


async def _start_form(
    callback: CallbackQuery, partners: PartnerRepo, workspace: Workspace, partner_id: int, state: FSMContext
) -> Message | None:
    partner = await _partner_or_not_found(callback, partners, workspace, partner_id)
    if partner is None or not isinstance(callback.message, Message):
        return None
    await EvidenceDraft(partner_id=partner.id).save(state)
    return callback.message


async def start_case(
    callback: CallbackQuery,
    callback_data: EvidenceCallback,
    state: FSMContext,
    partners: PartnerRepo,
    workspace: Workspace,
) -> None:
    """ "➕ Case study": which market was it in?"""
    message = await _start_form(callback, partners, workspace, callback_data.partner_id, state)
    if message is None:
        return
    await state.set_state(CaseForm.waiting_for_market)
    b = ButtonGrid()
    for market in MARKETS:
        b.button(text=labels.market(market), callback_data=EvidenceChoice(step=EvidenceStep.MARKET, value=market.value))
    await message.answer(_("New case study. Which market was it in?"), reply_markup=b.as_markup())


async def case_market(callback: CallbackQuery, callback_data: EvidenceChoice, state: FSMContext) -> None:
    """Market of the case study."""
    if callback_data.value not in {m.value for m in Market} or not isinstance(callback.message, Message):
        await answer_stale(callback)
        return
    draft = await EvidenceDraft.load(state)
    draft.market = callback_data.value
    await draft.save(state)
    await state.set_state(CaseForm.waiting_for_brand)
    market = _("Market: {market}").format(market=labels.market(Market(draft.market)))
    await edit_or_send(callback.message, f"{market}\n\n" + _("Which brand was it for?"))


async def case_brand(message: Message, state: FSMContext) -> None:
    """Brand of the case study."""
    brand = validate_brand(message.text)
    if brand is None:
        await message.answer(texts.text_expected(BRAND_MAX_LEN))
        return
    draft = await EvidenceDraft.load(state)
    draft.brand = brand
    await draft.save(state)
    await state.set_state(CaseForm.waiting_for_outcome)
    b = ButtonGrid()
    for outcome in Outcome:
        b.button(
            text=labels.outcome(outcome), callback_data=EvidenceChoice(step=EvidenceStep.OUTCOME, value=outcome.value)
        )
    await message.answer(
        _("How did it end for the brand? Failed cases count too: they show honesty."), reply_markup=b.as_markup()
    )


async def case_outcome(callback: CallbackQuery, callback_data: EvidenceChoice, state: FSMContext) -> None:
    """Success or failure."""
    if callback_data.value not in {o.value for o in Outcome} or not isinstance(callback.message, Message):
        await answer_stale(callback)
        return
    draft = await EvidenceDraft.load(state)
    draft.outcome = callback_data.value
    await draft.save(state)
    await state.set_state(CaseForm.waiting_for_months)
    outcome = _("Outcome: {outcome}").format(outcome=labels.outcome(Outcome(draft.outcome)))
    question = _("How many months did the relationship with that brand last? A number, e.g. 8.")
    await edit_or_send(callback.message, f"{outcome}\n\n{question}")


async def case_months(message: Message, state: FSMContext) -> None:
    """Relationship length in months."""
    months = parse_months(message.text)
    if months is None:
        await message.answer(_("Please send a whole number of months from 0 to {max}, e.g. 8.").format(max=MONTHS_MAX))
        return
    draft = await EvidenceDraft.load(state)
    draft.months = months
    await draft.save(state)
    await state.set_state(CaseForm.waiting_for_link)
    await message.answer(_("A link to the case (optional)."), reply_markup=_skip(EvidenceStep.CASE_LINK))


async def _save_case(
    message: Message,
    state: FSMContext,
    link: str | None,
    partners: PartnerRepo,
    evidence: EvidenceRepo,
    workspace: Workspace,
    clock: Clock,
    author: int,
) -> None:
    draft = await EvidenceDraft.load(state)
    await state.clear()
    try:
        case = CaseStudy(Market(draft.market), draft.brand, Outcome(draft.outcome), draft.months, link)
    except ValueError:
        await message.answer(_("This form was incomplete, so nothing was saved. Please start again from the card."))
        return
    if await evidence.add_case(workspace.id, draft.partner_id, case, author, clock.now()) is None:
        await message.answer(not_found_text())
        return
    await _after_save(
        message,
        _("Case study added: {brand}.").format(brand=user_text(case.brand)),
        partners,
        evidence,
        workspace,
        draft.partner_id,
    )


# ---- testimonials and community ------------------------------------------------------------------------


async def start_testimonial(
    callback: CallbackQuery,
    callback_data: EvidenceCallback,
    state: FSMContext,
    partners: PartnerRepo,
    workspace: Workspace,
) -> None:
    """ "➕ Testimonial": what was said?"""
    message = await _start_form(callback, partners, workspace, callback_data.partner_id, state)
    if message is not None:
        await state.set_state(TestimonialForm.waiting_for_text)
        await message.answer(_("Paste the testimonial: what did they say about the partner?"))


async def testimonial_text(message: Message, state: FSMContext) -> None:
    """The testimonial's text."""
    text = validate_testimonial(message.text)
    if text is None:
        await message.answer(texts.text_not_taken(TESTIMONIAL_MAX_LEN, message.text))
        return
    draft = await EvidenceDraft.load(state)
    draft.text = text
    await draft.save(state)
    await state.set_state(TestimonialForm.waiting_for_author)
    await message.answer(_('Who said it? A name and role, e.g. "Maria, brand manager at Acme".'))


async def testimonial_author(
    message: Message,
    state: FSMContext,
    partners: PartnerRepo,
    evidence: EvidenceRepo,
    workspace: Workspace,
    clock: Clock,
) -> None:
    """Who gave the testimonial; then it is saved."""
    author = validate_author(message.text)
    if author is None:
        await message.answer(texts.text_expected(AUTHOR_MAX_LEN))
        return
    draft = await EvidenceDraft.load(state)
    await state.clear()
    if not draft.text:
        await message.answer(_("This form was incomplete, so nothing was saved. Please start again from the card."))
        return
    by = message.from_user.id if message.from_user else 0
    if (
        await evidence.add_testimonial(workspace.id, draft.partner_id, Testimonial(draft.text, author), by, clock.now())
        is None
    ):
        await message.answer(not_found_text())
        return
    await _after_save(message, _("Testimonial added."), partners, evidence, workspace, draft.partner_id)


async def start_community(
    callback: CallbackQuery,
    callback_data: EvidenceCallback,
    state: FSMContext,
    partners: PartnerRepo,
    workspace: Workspace,
) -> None:
    """ "➕ Community": what do they do in the community?"""
    message = await _start_form(callback, partners, workspace, callback_data.partner_id, state)
    if message is not None:
        await state.set_state(CommunityForm.waiting_for_text)
        await message.answer(_("Describe their community participation: talks, groups they run, open resources."))


async def community_text(message: Message, state: FSMContext) -> None:
    """The community participation's description."""
    text = validate_community(message.text)
    if text is None:
        await message.answer(texts.text_not_taken(COMMUNITY_MAX_LEN, message.text))
        return
    draft = await EvidenceDraft.load(state)
    draft.text = text
    await draft.save(state)
    await state.set_state(CommunityForm.waiting_for_link)
    await message.answer(_("A link to it (optional)."), reply_markup=_skip(EvidenceStep.COMMUNITY_LINK))


async def _save_community(
    message: Message,
    state: FSMContext,
    link: str | None,
    partners: PartnerRepo,
    evidence: EvidenceRepo,
    workspace: Workspace,
    clock: Clock,
    author: int,
) -> None:
    draft = await EvidenceDraft.load(state)
    await state.clear()
    if not draft.text:
        await message.answer(_("This form was incomplete, so nothing was saved. Please start again from the card."))
        return
    item = CommunityActivity(draft.text, link)
    if await evidence.add_community(workspace.id, draft.partner_id, item, author, clock.now()) is None:
        await message.answer(not_found_text())
        return
    await _after_save(message, _("Community participation added."), partners, evidence, workspace, draft.partner_id)


async def link_entered(
    message: Message,
    state: FSMContext,
    partners: PartnerRepo,
    evidence: EvidenceRepo,
    workspace: Workspace,
    clock: Clock,
) -> None:
    """The optional link of a case study or a community item, validated; then the item is saved."""
    step = _link_step(await state.get_state())
    url = validate_url(message.text)
    if url is None:
        await message.answer(
            _("That does not look like a link. Send one like https://example.com, or press Skip."),
            reply_markup=_skip(step),
        )
        return
    author = message.from_user.id if message.from_user else 0
    await _save_with_link(message, state, step, url, partners, evidence, workspace, clock, author)


async def link_skipped(
    callback: CallbackQuery,
    callback_data: EvidenceChoice,
    state: FSMContext,
    partners: PartnerRepo,
    evidence: EvidenceRepo,
    workspace: Workspace,
    clock: Clock,
) -> None:
    """Skip on a link step: the item is saved without one."""
    if not isinstance(callback.message, Message) or _link_step(await state.get_state()) is not callback_data.step:
        await answer_stale(callback)
        return
    await _save_with_link(
        callback.message, state, callback_data.step, None, partners, evidence, workspace, clock, callback.from_user.id
    )


def _link_step(current_state: str | None) -> EvidenceStep:
    return EvidenceStep.CASE_LINK if current_state == CaseForm.waiting_for_link.state else EvidenceStep.COMMUNITY_LINK


async def _save_with_link(
    message: Message,
    state: FSMContext,
    step: EvidenceStep,
    link: str | None,
    partners: PartnerRepo,
    evidence: EvidenceRepo,
    workspace: Workspace,
    clock: Clock,
    author: int,
) -> None:
    save = _save_case if step is EvidenceStep.CASE_LINK else _save_community
    await save(message, state, link, partners, evidence, workspace, clock, author)


async def _after_save(
    message: Message,
    confirmation: str,
    partners: PartnerRepo,
    evidence: EvidenceRepo,
    workspace: Workspace,
    partner_id: int,
) -> None:
    partner = await partner_or_say(message, partners, workspace, partner_id)
    if partner is None:
        return
    text, markup = await _render_evidence(evidence, workspace, partner, delete_mode=False)
    await reply_here(message, confirmation + "\n\n" + text, markup)


async def form_step_repeated(message: Message, state: FSMContext) -> None:
    """Anything else during an evidence form: say what this step needs."""
    if message.text and message.text.startswith("/"):
        await message.answer(texts.mid_conversation_command())
        return
    hints = {
        CaseForm.waiting_for_market.state: _("Please choose the market with the buttons above."),
        CaseForm.waiting_for_brand.state: texts.text_expected(BRAND_MAX_LEN),
        CaseForm.waiting_for_outcome.state: _("Please choose the outcome with the buttons above."),
        CaseForm.waiting_for_months.state: _("Please send a whole number of months from 0 to {max}, e.g. 8.").format(
            max=MONTHS_MAX
        ),
        CaseForm.waiting_for_link.state: _("Send the link as text, or press Skip."),
        TestimonialForm.waiting_for_text.state: texts.text_expected(TESTIMONIAL_MAX_LEN),
        TestimonialForm.waiting_for_author.state: texts.text_expected(AUTHOR_MAX_LEN),
        CommunityForm.waiting_for_text.state: texts.text_expected(COMMUNITY_MAX_LEN),
        CommunityForm.waiting_for_link.state: _("Send the link as text, or press Skip."),
    }
    await message.answer(hints.get(await state.get_state() or "", texts.mid_conversation_command()))


def _skip(step: EvidenceStep) -> InlineKeyboardMarkup:
    b = ButtonGrid()
    b.button(text=_("Skip ⏭"), callback_data=EvidenceChoice(step=step, value=SKIP))
    return b.as_markup()


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
    callback: CallbackQuery, callback_data: PartnerCallback, partners: PartnerRepo, workspace: Workspace
) -> None:
    """The card's Signals button: three toggles, edited in place."""
    partner = await _partner_or_not_found(callback, partners, workspace, callback_data.partner_id)
    if partner is None or not isinstance(callback.message, Message):
        return
    await edit_or_send(callback.message, *_signals_view(partner))


async def signal_toggled(
    callback: CallbackQuery,
    callback_data: SignalCallback,
    partners: PartnerRepo,
    workspace: Workspace,
    clock: Clock,
) -> None:
    """One toggle: flips the stored value and redraws the toggles."""
    partner = await _partner_or_not_found(callback, partners, workspace, callback_data.partner_id)
    if partner is None or not isinstance(callback.message, Message):
        return
    value = not partner.signals.get(callback_data.signal)
    await partners.set_signal(workspace.id, partner.id, callback_data.signal, value, clock.now())
    updated = await partners.get(workspace.id, partner.id)
    if updated is not None:
        await edit_or_send(callback.message, *_signals_view(updated))
