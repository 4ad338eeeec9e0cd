"""/newpartner as data: an aiogram-dialog Dialog whose windows are the form's steps.

Each window is one step: its prompt (a getter, so the texts stay in gettext), what it takes (TextInput with a parser
that raises ValueError with the reason, Select or Button), and where it goes next (the handlers below). aiogram-dialog
runs them: it keeps the step and the draft in its own records in the FSM storage (so they commit with the update's
unit of work, bot/plumbing/intake.py), edits its message in place after a press and sends a new one after a typed
answer. What every step does with what it cannot take is bot/handlers/dialog_steps.py."""

from __future__ import annotations

import re
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager, ShowMode, StartMode, Window
from aiogram_dialog.widgets.input import MessageInput, TextInput
from aiogram_dialog.widgets.kbd import Button, Column, Group, Select
from aiogram_dialog.widgets.text import Format

from bot import labels, texts
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
from bot.handlers.dialog_steps import (
    NOT_A_COMMAND,
    buttons_expected,
    note,
    pressed_message,
    refused,
    screen,
    stale,
    text_expected,
)
from bot.handlers.partners import show_partner_card
from bot.handlers.workspace_guard import dialogs_in_workspace, private_workspace_router
from bot.keyboards.callbacks import MenuAction, MenuCallback, PartnerAction, PartnerCallback
from bot.plumbing.dialogs import presses_of_its_own
from bot.storage.partners import NewPartner, PartnerRepo
from bot.views.formatting import button_label, user_text

MAX_LINKS = 5
LINK_SPLIT = re.compile(r"[\s,]+")


class NewPartnerForm(StatesGroup):
    waiting_for_name = State()
    waiting_for_duplicate_decision = State()
    waiting_for_kind = State()
    waiting_for_markets = State()
    waiting_for_contact = State()
    waiting_for_links = State()


def _new_partner_cancelled(_data: dict[str, Any]) -> str:
    return _("Cancelled: the partner was not added.")


on_cancel(NewPartnerForm, _new_partner_cancelled)


# The kinds of button data that start the form (the form's own buttons are the dialog's).
PRESSES = (MenuCallback, PartnerCallback)


def router() -> Router:
    r = private_workspace_router("new_partner", PRESSES)
    r.message.register(new_partner, Command("newpartner"))
    r.callback_query.register(new_partner_from_menu, MenuCallback.filter(F.action == MenuAction.NEW_PARTNER))
    r.callback_query.register(new_partner_from_menu, PartnerCallback.filter(F.action == PartnerAction.NEW))
    return r


def conversations() -> Router:
    """The form itself, apart from `router()`: its presses carry the dialog's own data, not a PRESSES kind."""
    return dialogs_in_workspace("new_partner_form", dialog())


async def new_partner(message: Message, state: FSMContext, dialog_manager: DialogManager) -> None:
    """/newpartner: the form from its first step; a conversation in progress (any flow) ends here."""
    await state.clear()
    await dialog_manager.start(NewPartnerForm.waiting_for_name, mode=StartMode.RESET_STACK)


async def new_partner_from_menu(callback: CallbackQuery, state: FSMContext, dialog_manager: DialogManager) -> None:
    """The "New partner" button (menu, partner list): the form in a new message, the menu stays as it is."""
    await state.clear()
    await dialog_manager.start(NewPartnerForm.waiting_for_name, mode=StartMode.RESET_STACK, show_mode=ShowMode.SEND)


# ---- what each step shows --------------------------------------------------------------------------------


def _ask_name() -> str:
    return _("What is the partner's name? (agency, creator or network; up to {max} characters)").format(
        max=NAME_MAX_LEN
    )


async def name_view(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    return screen(dialog_manager, _ask_name())


async def duplicate_view(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    name = str(dialog_manager.dialog_data.get("existing_name", ""))
    question = _(
        "There is already a partner called <b>{name}</b> in this workspace. Open it, or add a new one?"
    ).format(name=user_text(name))
    return {
        **screen(dialog_manager, question),
        "open": _("Open {name}").format(name=button_label(name, 40)),
        "add": _("Add a new one anyway"),
    }


async def kind_view(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    return {
        **screen(dialog_manager, _("What kind of partner is it?")),
        "kinds": [(labels.kind(kind), kind.value) for kind in PartnerKind],
    }


async def markets_view(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    return {
        **screen(dialog_manager, _("Which markets do they work in?")),
        "markets": [(labels.coverage(coverage), coverage.value) for coverage in MarketCoverage],
    }


async def contact_view(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    question = _("A contact for them: a Telegram @username, an email or a phone. Or skip.")
    return {**screen(dialog_manager, question), "skip": _("Skip ⏭")}


async def links_view(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    question = _(
        "Links to their work (portfolio, cases, socials): up to {max}, separated by spaces or new lines. Or skip."
    ).format(max=MAX_LINKS)
    return {**screen(dialog_manager, question), "skip": _("Skip ⏭")}


# ---- what each step takes --------------------------------------------------------------------------------


def parse_name(typed: str) -> str:
    result = validate_partner_name(typed)
    if result is NameProblem.TOO_LONG:
        raise ValueError(texts.text_too_long(NAME_MAX_LEN, len(typed.strip())))
    if isinstance(result, NameProblem):
        raise ValueError(texts.text_expected(NAME_MAX_LEN))
    return result


def parse_contact(typed: str) -> str:
    contact = validate_contact(typed)
    if contact is None:
        raise ValueError(texts.text_not_taken(CONTACT_MAX_LEN, typed))
    return contact


def parse_links(typed: str) -> tuple[str, ...]:
    raw = [part for part in LINK_SPLIT.split(typed) if part]
    if len(raw) > MAX_LINKS:
        raise ValueError(_("That is {count} links; up to {max} please.").format(count=len(raw), max=MAX_LINKS))
    valid = [validate_url(part) for part in raw]
    bad = [part for part, url in zip(raw, valid, strict=True) if url is None]
    if bad or not raw:
        raise ValueError(
            _("This does not look like a link: {link}\nSend links like https://example.com, or press Skip.").format(
                link=user_text(bad[0] if bad else typed, 100)
            )
        )
    return tuple(dict.fromkeys(url for url in valid if url))


async def name_entered(message: Message, _widget: Any, manager: DialogManager, name: str) -> None:
    """The partner's name; a same-name partner in the workspace is pointed out."""
    manager.dialog_data["name"] = name
    partners: PartnerRepo = manager.middleware_data["partners"]
    existing = await partners.same_name(manager.middleware_data["workspace"].id, name)
    if existing:
        manager.dialog_data["existing_id"] = existing[0].id
        manager.dialog_data["existing_name"] = existing[0].name
        await manager.switch_to(NewPartnerForm.waiting_for_duplicate_decision)
        return
    await manager.switch_to(NewPartnerForm.waiting_for_kind)


async def open_existing(callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    """"Open …" after the same-name warning: the form ends and its message becomes that partner's card."""
    existing_id = manager.dialog_data.get("existing_id")
    data = manager.middleware_data
    await manager.done(show_mode=ShowMode.NO_UPDATE)
    if isinstance(existing_id, int):
        await show_partner_card(
            pressed_message(manager), callback.from_user.id, existing_id, data["cards"], data["workspace"],
            data["i18n"], edit=True,
        )


async def add_anyway(_callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    await manager.switch_to(NewPartnerForm.waiting_for_kind)


async def kind_chosen(callback: CallbackQuery, _widget: Any, manager: DialogManager, value: str) -> None:
    """Agency / creator / network."""
    if value not in {k.value for k in PartnerKind}:
        await stale(callback, manager)
        return
    manager.dialog_data["kind"] = value
    note(manager, _("Kind: {kind}").format(kind=labels.kind(PartnerKind(value))))
    await manager.switch_to(NewPartnerForm.waiting_for_markets)


async def markets_chosen(callback: CallbackQuery, _widget: Any, manager: DialogManager, value: str) -> None:
    """RU / US / both."""
    if value not in {m.value for m in MarketCoverage}:
        await stale(callback, manager)
        return
    manager.dialog_data["markets"] = value
    note(manager, _("Markets: {markets}").format(markets=labels.coverage(MarketCoverage(value))))
    await manager.switch_to(NewPartnerForm.waiting_for_contact)


async def contact_entered(_message: Message, _widget: Any, manager: DialogManager, contact: str) -> None:
    manager.dialog_data["contact"] = contact
    await manager.switch_to(NewPartnerForm.waiting_for_links)


async def contact_skipped(_callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    manager.dialog_data["contact"] = None
    note(manager, _("Contact: skipped"))
    await manager.switch_to(NewPartnerForm.waiting_for_links)


async def links_entered(message: Message, _widget: Any, manager: DialogManager, links: tuple[str, ...]) -> None:
    """Typed links: the partner is saved and its card follows as a new message."""
    await _save(message, message.from_user.id if message.from_user else 0, manager, links, pressed=False)


async def links_skipped(callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    """Skip on the links step: saved without links; the step's message becomes the card."""
    await _save(pressed_message(manager), callback.from_user.id, manager, (), pressed=True)


async def _save(
    message: Message, author: int, manager: DialogManager, links: tuple[str, ...], *, pressed: bool
) -> None:
    draft, data = manager.dialog_data, manager.middleware_data
    await manager.done(show_mode=ShowMode.NO_UPDATE)
    name, kind, markets = draft.get("name"), draft.get("kind"), draft.get("markets")
    if not (
        isinstance(name, str) and name and kind in {k.value for k in PartnerKind}
        and markets in {m.value for m in MarketCoverage}
    ):
        await message.answer(_("This form was incomplete, so nothing was saved. Send /newpartner to start again."))
        return
    contact = draft.get("contact")
    new = NewPartner(
        name, PartnerKind(kind), MarketCoverage(markets), contact if isinstance(contact, str) else None, links
    )
    workspace, partners = data["workspace"], data["partners"]
    partner_id = await partners.create(workspace.id, new, author, data["clock"].now())
    saved = _("Partner saved: <b>{name}</b>.").format(name=user_text(name))
    await show_partner_card(
        message, author, partner_id, data["cards"], workspace, data["i18n"], edit=pressed, note=saved
    )


# ---- the form, as data -----------------------------------------------------------------------------------


def dialog() -> Dialog:
    screen = Format("{text}")
    form = Dialog(
        Window(
            screen,
            TextInput("name", type_factory=parse_name, on_success=name_entered, on_error=refused,
                      filter=NOT_A_COMMAND),
            MessageInput(text_expected(lambda: texts.text_expected(NAME_MAX_LEN))),
            state=NewPartnerForm.waiting_for_name,
            getter=name_view,
        ),
        Window(
            screen,
            Column(
                Button(Format("{open}"), id="open", on_click=open_existing),
                Button(Format("{add}"), id="add", on_click=add_anyway),
            ),
            MessageInput(buttons_expected(lambda: _("Please choose one of the buttons above."))),
            state=NewPartnerForm.waiting_for_duplicate_decision,
            getter=duplicate_view,
        ),
        Window(
            screen,
            Select(Format("{item[0]}"), id="kind", item_id_getter=lambda item: item[1], items="kinds",
                   on_click=kind_chosen),
            MessageInput(buttons_expected(lambda: _("Please choose the kind with the buttons above."))),
            state=NewPartnerForm.waiting_for_kind,
            getter=kind_view,
        ),
        Window(
            screen,
            Group(
                Select(Format("{item[0]}"), id="markets", item_id_getter=lambda item: item[1], items="markets",
                       on_click=markets_chosen),
                width=2,
            ),
            MessageInput(buttons_expected(lambda: _("Please choose the markets with the buttons above."))),
            state=NewPartnerForm.waiting_for_markets,
            getter=markets_view,
        ),
        Window(
            screen,
            TextInput("contact", type_factory=parse_contact, on_success=contact_entered, on_error=refused,
                      filter=NOT_A_COMMAND),
            Button(Format("{skip}"), id="skip_contact", on_click=contact_skipped),
            MessageInput(text_expected(lambda: texts.text_expected(CONTACT_MAX_LEN))),
            state=NewPartnerForm.waiting_for_contact,
            getter=contact_view,
        ),
        Window(
            screen,
            TextInput("links", type_factory=parse_links, on_success=links_entered, on_error=refused,
                      filter=NOT_A_COMMAND),
            Button(Format("{skip}"), id="skip_links", on_click=links_skipped),
            MessageInput(text_expected(lambda: _("Send the links as text, or press Skip."))),
            state=NewPartnerForm.waiting_for_links,
            getter=links_view,
        ),
    )
    return presses_of_its_own(form)
