"""/newpartner, /partners and the partner card's navigation (open, archive, back to the list)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot import labels, texts
from bot.clock import Clock
from bot.domain.partners import (
    CONTACT_MAX_LEN,
    NAME_MAX_LEN,
    MarketCoverage,
    NameProblem,
    PartnerKind,
    validate_contact,
    validate_partner_name,
    validate_url,
)
from bot.handlers.cancel_notes import on_cancel
from bot.handlers.drafts import FsmDraft
from bot.handlers.filters import TYPED
from bot.handlers.replies import answer_stale, edit_or_send
from bot.handlers.workspace_guard import private_workspace_router
from bot.keyboards.callbacks import (
    MenuAction,
    MenuCallback,
    NewPartnerChoice,
    NewPartnerStep,
    PartnerAction,
    PartnerCallback,
)
from bot.keyboards.grid import ButtonGrid
from bot.storage.partners import NewPartner, Partner, PartnerRepo
from bot.storage.workspaces import Workspace
from bot.views.formatting import button_label, score, user_text
from bot.views.partner_card import PartnerCards, card_keyboard, render_card

PAGE_SIZE = 8
MAX_LINKS = 5
LINK_SPLIT = re.compile(r"[\s,]+")
SKIP = "skip"


class NewPartnerForm(StatesGroup):
    waiting_for_name = State()
    waiting_for_duplicate_decision = State()
    waiting_for_kind = State()
    waiting_for_markets = State()
    waiting_for_contact = State()
    waiting_for_links = State()


@dataclass
class NewPartnerDraft(FsmDraft):
    """What /newpartner has collected so far (kept in FSM data as plain JSON)."""

    name: str = ""
    kind: str = ""
    markets: str = ""
    contact: str | None = None

    KEY = "new_partner"


def _new_partner_cancelled(_data: dict[str, Any]) -> str:
    return _("Cancelled: the partner was not added.")


on_cancel(NewPartnerForm, _new_partner_cancelled)


# The kinds of button data this feature's handlers take.
PRESSES = (MenuCallback, PartnerCallback, NewPartnerChoice)


def router() -> Router:
    r = private_workspace_router("partners", PRESSES)

    r.message.register(new_partner, Command("newpartner"))
    r.callback_query.register(new_partner_from_menu, MenuCallback.filter(F.action == MenuAction.NEW_PARTNER))
    r.callback_query.register(new_partner_from_menu, PartnerCallback.filter(F.action == PartnerAction.NEW))
    r.message.register(partners_list, Command("partners"))
    r.callback_query.register(partners_list_from_menu, MenuCallback.filter(F.action == MenuAction.PARTNERS))

    r.message.register(name_entered, StateFilter(NewPartnerForm.waiting_for_name), TYPED)
    r.callback_query.register(
        duplicate_decided,
        NewPartnerChoice.filter(F.step == NewPartnerStep.DUPLICATE),
        StateFilter(NewPartnerForm.waiting_for_duplicate_decision),
    )
    r.callback_query.register(
        kind_chosen,
        NewPartnerChoice.filter(F.step == NewPartnerStep.KIND),
        StateFilter(NewPartnerForm.waiting_for_kind),
    )
    r.callback_query.register(
        markets_chosen,
        NewPartnerChoice.filter(F.step == NewPartnerStep.MARKETS),
        StateFilter(NewPartnerForm.waiting_for_markets),
    )
    r.callback_query.register(
        contact_skipped,
        NewPartnerChoice.filter(F.step == NewPartnerStep.CONTACT),
        StateFilter(NewPartnerForm.waiting_for_contact),
    )
    r.message.register(contact_entered, StateFilter(NewPartnerForm.waiting_for_contact), TYPED)
    r.callback_query.register(
        links_skipped,
        NewPartnerChoice.filter(F.step == NewPartnerStep.LINKS),
        StateFilter(NewPartnerForm.waiting_for_links),
    )
    r.message.register(links_entered, StateFilter(NewPartnerForm.waiting_for_links), TYPED)
    form_states = StateFilter(*NewPartnerForm.__states__)
    r.message.register(form_step_repeated, form_states)

    r.callback_query.register(list_page, PartnerCallback.filter(F.action == PartnerAction.LIST))
    r.callback_query.register(open_card, PartnerCallback.filter(F.action == PartnerAction.OPEN))
    r.callback_query.register(
        set_archived, PartnerCallback.filter(F.action.in_({PartnerAction.ARCHIVE, PartnerAction.UNARCHIVE}))
    )
    return r


# ---- /newpartner ---------------------------------------------------------------------------------------


def _ask_name() -> str:
    return _("What is the partner's name? (agency, creator or network; up to {max} characters)").format(
        max=NAME_MAX_LEN
    )


async def new_partner(message: Message, state: FSMContext) -> None:
    """/newpartner: starts the form with the name."""
    await state.set_state(NewPartnerForm.waiting_for_name)
    await NewPartnerDraft().save(state)
    await message.answer(_ask_name())


async def new_partner_from_menu(callback: CallbackQuery, state: FSMContext) -> None:
    """The "New partner" button."""
    if isinstance(callback.message, Message):
        await new_partner(callback.message, state)


async def name_entered(message: Message, state: FSMContext, partners: PartnerRepo, workspace: Workspace) -> None:
    """The partner's name; a same-name partner in the workspace is pointed out."""
    result = validate_partner_name(message.text)
    if result is NameProblem.TOO_LONG:
        await message.answer(texts.text_too_long(NAME_MAX_LEN, len((message.text or "").strip())))
        return
    if isinstance(result, NameProblem):
        await message.answer(texts.text_expected(NAME_MAX_LEN))
        return
    draft = await NewPartnerDraft.load(state)
    draft.name = result
    await draft.save(state)
    existing = await partners.same_name(workspace.id, result)
    if existing:
        await state.set_state(NewPartnerForm.waiting_for_duplicate_decision)
        b = ButtonGrid()
        b.button(
            text=_("Open {name}").format(name=button_label(existing[0].name, 40)),
            callback_data=PartnerCallback(action=PartnerAction.OPEN, partner_id=existing[0].id),
        )
        b.button(
            text=_("Add a new one anyway"), callback_data=NewPartnerChoice(step=NewPartnerStep.DUPLICATE, value="add")
        )
        b.adjust(1)
        await message.answer(
            _("There is already a partner called <b>{name}</b> in this workspace. Open it, or add a new one?").format(
                name=user_text(existing[0].name)
            ),
            reply_markup=b.as_markup(),
        )
        return
    await _ask_kind(message, state)


async def duplicate_decided(callback: CallbackQuery, state: FSMContext) -> None:
    """ "Add a new one anyway" after the same-name warning."""
    if isinstance(callback.message, Message):
        await _ask_kind(callback.message, state)


async def _ask_kind(message: Message, state: FSMContext) -> None:
    await state.set_state(NewPartnerForm.waiting_for_kind)
    b = ButtonGrid()
    for kind in PartnerKind:
        b.button(text=labels.kind(kind), callback_data=NewPartnerChoice(step=NewPartnerStep.KIND, value=kind.value))
    b.adjust(3)
    await message.answer(_("What kind of partner is it?"), reply_markup=b.as_markup())


async def kind_chosen(callback: CallbackQuery, callback_data: NewPartnerChoice, state: FSMContext) -> None:
    """Agency / creator / network."""
    if callback_data.value not in {k.value for k in PartnerKind} or not isinstance(callback.message, Message):
        await answer_stale(callback)
        return
    draft = await NewPartnerDraft.load(state)
    draft.kind = callback_data.value
    await draft.save(state)
    await state.set_state(NewPartnerForm.waiting_for_markets)
    b = ButtonGrid()
    for coverage in MarketCoverage:
        b.button(
            text=labels.coverage(coverage),
            callback_data=NewPartnerChoice(step=NewPartnerStep.MARKETS, value=coverage.value),
        )
    b.adjust(2, 1)
    kind = _("Kind: {kind}").format(kind=labels.kind(PartnerKind(callback_data.value)))
    await edit_or_send(callback.message, f"{kind}\n\n" + _("Which markets do they work in?"), b.as_markup())


async def markets_chosen(callback: CallbackQuery, callback_data: NewPartnerChoice, state: FSMContext) -> None:
    """RU / US / both."""
    if callback_data.value not in {m.value for m in MarketCoverage} or not isinstance(callback.message, Message):
        await answer_stale(callback)
        return
    draft = await NewPartnerDraft.load(state)
    draft.markets = callback_data.value
    await draft.save(state)
    await state.set_state(NewPartnerForm.waiting_for_contact)
    markets = _("Markets: {markets}").format(markets=labels.coverage(MarketCoverage(callback_data.value)))
    await edit_or_send(
        callback.message,
        f"{markets}\n\n" + _("A contact for them: a Telegram @username, an email or a phone. Or skip."),
        _skip(NewPartnerStep.CONTACT),
    )


async def contact_entered(message: Message, state: FSMContext) -> None:
    """The optional contact."""
    contact = validate_contact(message.text)
    if contact is None:
        await message.answer(texts.text_not_taken(CONTACT_MAX_LEN, message.text))
        return
    draft = await NewPartnerDraft.load(state)
    draft.contact = contact
    await draft.save(state)
    await _ask_links(message, state)


async def contact_skipped(callback: CallbackQuery, state: FSMContext) -> None:
    """Skip on the contact step."""
    if isinstance(callback.message, Message):
        await _ask_links(callback.message, state, edit=True)


async def _ask_links(message: Message, state: FSMContext, *, edit: bool = False) -> None:
    await state.set_state(NewPartnerForm.waiting_for_links)
    text = _(
        "Links to their work (portfolio, cases, socials): up to {max}, separated by spaces or new lines. Or skip."
    ).format(max=MAX_LINKS)
    if edit:
        skipped = _("Contact: skipped")
        await edit_or_send(message, f"{skipped}\n\n{text}", _skip(NewPartnerStep.LINKS))
    else:
        await message.answer(text, reply_markup=_skip(NewPartnerStep.LINKS))


async def links_entered(
    message: Message,
    state: FSMContext,
    partners: PartnerRepo,
    cards: PartnerCards,
    workspace: Workspace,
    clock: Clock,
    i18n: I18n,
) -> None:
    """The optional links, each checked as a URL; then the partner is saved and its card shown."""
    raw = [part for part in LINK_SPLIT.split(message.text or "") if part]
    if len(raw) > MAX_LINKS:
        await message.answer(_("That is {count} links; up to {max} please.").format(count=len(raw), max=MAX_LINKS))
        return
    valid = [validate_url(part) for part in raw]
    bad = [part for part, url in zip(raw, valid, strict=True) if url is None]
    if bad or not raw:
        await message.answer(
            _("This does not look like a link: {link}\nSend links like https://example.com, or press Skip.").format(
                link=user_text(bad[0] if bad else message.text or "", 100)
            ),
            reply_markup=_skip(NewPartnerStep.LINKS),
        )
        return
    links = tuple(dict.fromkeys(url for url in valid if url))
    await _save(message, state, links, partners, cards, workspace, clock, i18n)


async def links_skipped(
    callback: CallbackQuery,
    state: FSMContext,
    partners: PartnerRepo,
    cards: PartnerCards,
    workspace: Workspace,
    clock: Clock,
    i18n: I18n,
) -> None:
    """Skip on the links step: save without links."""
    if isinstance(callback.message, Message):
        await _save(
            callback.message,
            state,
            (),
            partners,
            cards,
            workspace,
            clock,
            i18n,
            user_id=callback.from_user.id,
        )


async def _save(
    message: Message,
    state: FSMContext,
    links: tuple[str, ...],
    partners: PartnerRepo,
    cards: PartnerCards,
    workspace: Workspace,
    clock: Clock,
    i18n: I18n,
    user_id: int | None = None,
) -> None:
    draft = await NewPartnerDraft.load(state)
    author = user_id if user_id is not None else (message.from_user.id if message.from_user else 0)
    if not (draft.name and draft.kind and draft.markets):
        await state.clear()
        await message.answer(_("This form was incomplete, so nothing was saved. Send /newpartner to start again."))
        return
    new = NewPartner(draft.name, PartnerKind(draft.kind), MarketCoverage(draft.markets), draft.contact, links)
    partner_id = await partners.create(workspace.id, new, author, clock.now())
    await state.clear()
    saved = _("Partner saved: <b>{name}</b>.").format(name=user_text(draft.name))
    # Pressed Skip: the links question becomes the card; typed links: the card is a new message below them.
    pressed = user_id is not None
    await show_partner_card(message, author, partner_id, cards, workspace, i18n, edit=pressed, note=saved)


async def form_step_repeated(message: Message, state: FSMContext) -> None:
    """Anything else during /newpartner: say what the current step needs."""
    current = await state.get_state()
    if message.text and message.text.startswith("/"):
        await message.answer(texts.mid_conversation_command())
        return
    hints = {
        NewPartnerForm.waiting_for_name.state: _ask_name(),
        NewPartnerForm.waiting_for_duplicate_decision.state: _("Please choose one of the buttons above."),
        NewPartnerForm.waiting_for_kind.state: _("Please choose the kind with the buttons above."),
        NewPartnerForm.waiting_for_markets.state: _("Please choose the markets with the buttons above."),
        NewPartnerForm.waiting_for_contact.state: texts.text_expected(200),
        NewPartnerForm.waiting_for_links.state: _("Send the links as text, or press Skip."),
    }
    await message.answer(hints.get(current or "", texts.mid_conversation_command()))


def _skip(step: NewPartnerStep) -> InlineKeyboardMarkup:
    b = ButtonGrid()
    b.button(text=_("Skip ⏭"), callback_data=NewPartnerChoice(step=step, value=SKIP))
    return b.as_markup()


# ---- /partners and the card ----------------------------------------------------------------------------


async def partners_list(message: Message, partners: PartnerRepo, workspace: Workspace, i18n: I18n) -> None:
    """/partners: the first page of active partners."""
    assert message.from_user is not None
    text, markup = await _list_view(partners, workspace, message.from_user.id, 0, False, i18n.current_locale)
    await message.answer(text, reply_markup=markup)


async def partners_list_from_menu(
    callback: CallbackQuery, partners: PartnerRepo, workspace: Workspace, i18n: I18n
) -> None:
    """The "Partners" menu button."""
    if isinstance(callback.message, Message):
        text, markup = await _list_view(partners, workspace, callback.from_user.id, 0, False, i18n.current_locale)
        await callback.message.answer(text, reply_markup=markup)


async def list_page(
    callback: CallbackQuery, callback_data: PartnerCallback, partners: PartnerRepo, workspace: Workspace, i18n: I18n
) -> None:
    """◀ ▶, "Archived", and "« All partners" from a card: the list, edited in place."""
    if not isinstance(callback.message, Message):
        return
    text, markup = await _list_view(
        partners,
        workspace,
        callback.from_user.id,
        max(callback_data.page, 0),
        callback_data.archived,
        i18n.current_locale,
    )
    await edit_or_send(callback.message, text, markup)


async def _list_view(
    partners: PartnerRepo, workspace: Workspace, viewer_id: int, page: int, archived: bool, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    rows, total = await partners.page(workspace.id, archived, page * PAGE_SIZE, PAGE_SIZE, viewer_id)
    pages = max(1, -(-total // PAGE_SIZE))
    if page >= pages:
        page = pages - 1
        rows, total = await partners.page(workspace.id, archived, page * PAGE_SIZE, PAGE_SIZE, viewer_id)
    b = ButtonGrid()
    for partner, team_score in rows:
        shown = f"{button_label(partner.name, 40)} · {labels.stage(partner.stage)}"
        if team_score is not None:
            shown += f" · {score(team_score, locale)}"
        b.button(text=shown, callback_data=PartnerCallback(action=PartnerAction.OPEN, partner_id=partner.id))
    nav = []
    if page > 0:
        nav.append(("◀", PartnerCallback(action=PartnerAction.LIST, page=page - 1, archived=archived)))
    if page + 1 < pages:
        nav.append(("▶", PartnerCallback(action=PartnerAction.LIST, page=page + 1, archived=archived)))
    for text, data in nav:
        b.button(text=text, callback_data=data)
    if archived:
        b.button(text=_("« Active partners"), callback_data=PartnerCallback(action=PartnerAction.LIST))
    else:
        b.button(text=_("🗄 Archived"), callback_data=PartnerCallback(action=PartnerAction.LIST, archived=True))
        b.button(text=_("➕ New partner"), callback_data=PartnerCallback(action=PartnerAction.NEW))
    b.adjust(*([1] * len(rows)), *([len(nav)] if nav else []), 2)
    if archived:
        title = _("<b>Archived partners</b> ({count})").format(count=total)
    else:
        title = _("<b>Partners</b> of {workspace} ({count})").format(workspace=user_text(workspace.name), count=total)
    if pages > 1:
        title += " · " + _("page {page} of {pages}").format(page=page + 1, pages=pages)
    if total == 0:
        title += "\n" + (_("Nothing archived.") if archived else _("No partners yet. Add the first one."))
    else:
        title += "\n" + _("Tap a partner to open its card.")
    return title, b.as_markup()


async def open_card(
    callback: CallbackQuery,
    callback_data: PartnerCallback,
    state: FSMContext,
    cards: PartnerCards,
    workspace: Workspace,
    i18n: I18n,
) -> None:
    """A partner in the list (or "Open" after a same-name warning): its card, in place."""
    if not isinstance(callback.message, Message):
        return
    if await state.get_state() == NewPartnerForm.waiting_for_duplicate_decision.state:
        await state.clear()
    await show_partner_card(
        callback.message, callback.from_user.id, callback_data.partner_id, cards, workspace, i18n, edit=True
    )


async def set_archived(
    callback: CallbackQuery,
    callback_data: PartnerCallback,
    partners: PartnerRepo,
    cards: PartnerCards,
    workspace: Workspace,
    clock: Clock,
    i18n: I18n,
) -> None:
    """Archive / Unarchive on the card."""
    if not isinstance(callback.message, Message):
        return
    archived = callback_data.action is PartnerAction.ARCHIVE
    changed = await partners.set_archived(workspace.id, callback_data.partner_id, archived, clock.now())
    if not changed:
        await callback.message.answer(not_found_text())
        return
    await show_partner_card(
        callback.message, callback.from_user.id, callback_data.partner_id, cards, workspace, i18n, edit=True
    )


def not_found_text() -> str:
    return _("Partner not found. It may belong to another workspace. Send /partners for your list.")


async def partner_or_say(
    message: Message, partners: PartnerRepo, workspace: Workspace, partner_id: int
) -> Partner | None:
    """The partner, read through the caller's workspace (button data can be forged); else says it is not found."""
    partner = await partners.get(workspace.id, partner_id)
    if partner is None:
        await message.answer(not_found_text())
    return partner


async def show_partner_card(
    message: Message,
    viewer_id: int,
    partner_id: int,
    cards: PartnerCards,
    workspace: Workspace,
    i18n: I18n,
    *,
    edit: bool,
    note: str = "",
) -> bool:
    """Render the card through the viewer's workspace, under `note` if any; edits `message` in place or sends a new
    one."""
    data = await cards.load(workspace.id, partner_id, viewer_id)
    if data is None:
        await message.answer(not_found_text())
        return False
    text, markup = render_card(data, i18n.current_locale), card_keyboard(data)
    if note:
        text = f"{note}\n\n{text}"
    if edit:
        await edit_or_send(message, text, markup)
    else:
        await message.answer(text, reply_markup=markup)
    return True
