"""/partners and the partner card's navigation (open, archive, back to the list); /newpartner is
bot/handlers/new_partner.py."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot import labels
from bot.clock import Clock
from bot.handlers.replies import edit_or_send
from bot.handlers.workspace_guard import private_workspace_router
from bot.keyboards.callbacks import (
    MenuAction,
    MenuCallback,
    PartnerAction,
    PartnerCallback,
)
from bot.keyboards.grid import ButtonGrid
from bot.storage.partners import Partner, PartnerRepo
from bot.storage.workspaces import Workspace
from bot.views.formatting import button_label, score, user_text
from bot.views.partner_card import PartnerCards, card_keyboard, render_card

PAGE_SIZE = 8


# The kinds of button data this feature's handlers take.
PRESSES = (MenuCallback, PartnerCallback)


def router() -> Router:
    r = private_workspace_router("partners", PRESSES)

    r.message.register(partners_list, Command("partners"))
    r.callback_query.register(partners_list_from_menu, MenuCallback.filter(F.action == MenuAction.PARTNERS))
    r.callback_query.register(list_page, PartnerCallback.filter(F.action == PartnerAction.LIST))
    r.callback_query.register(open_card, PartnerCallback.filter(F.action == PartnerAction.OPEN))
    r.callback_query.register(
        set_archived, PartnerCallback.filter(F.action.in_({PartnerAction.ARCHIVE, PartnerAction.UNARCHIVE}))
    )
    return r


# ---- /partners and the card ----------------------------------------------------------------------------


async def partners_list(message: Message, partners: PartnerRepo, workspace: Workspace, i18n: I18n) -> None:
    """/partners: the first page of active partners."""
    assert message.from_user is not None
    text, markup = await _list_view(partners, workspace, message.from_user.id, 0, False, i18n.current_locale)
    await message.answer(text, reply_markup=markup)


async def partners_list_from_menu(
    callback: CallbackQuery, pressed: Message, partners: PartnerRepo, workspace: Workspace, i18n: I18n
) -> None:
    """The "Partners" menu button."""
    text, markup = await _list_view(partners, workspace, callback.from_user.id, 0, False, i18n.current_locale)
    await pressed.answer(text, reply_markup=markup)


async def list_page(
    callback: CallbackQuery,
    pressed: Message,
    callback_data: PartnerCallback,
    partners: PartnerRepo,
    workspace: Workspace,
    i18n: I18n,
) -> None:
    """◀ ▶, "Archived", and "« All partners" from a card: the list, edited in place."""
    text, markup = await _list_view(
        partners,
        workspace,
        callback.from_user.id,
        max(callback_data.page, 0),
        callback_data.archived,
        i18n.current_locale,
    )
    await edit_or_send(pressed, text, markup)


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
    pressed: Message,
    callback_data: PartnerCallback,
    cards: PartnerCards,
    workspace: Workspace,
    i18n: I18n,
) -> None:
    """A partner in the list: its card, in place."""
    await show_partner_card(
        pressed, callback.from_user.id, callback_data.partner_id, cards, workspace, i18n, edit=True
    )


async def set_archived(
    callback: CallbackQuery,
    pressed: Message,
    callback_data: PartnerCallback,
    partners: PartnerRepo,
    cards: PartnerCards,
    workspace: Workspace,
    clock: Clock,
    i18n: I18n,
) -> None:
    """Archive / Unarchive on the card."""
    archived = callback_data.action is PartnerAction.ARCHIVE
    changed = await partners.set_archived(workspace.id, callback_data.partner_id, archived, clock.now())
    if not changed:
        await pressed.answer(not_found_text())
        return
    await show_partner_card(
        pressed, callback.from_user.id, callback_data.partner_id, cards, workspace, i18n, edit=True
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
