"""/team and invite links: who is in the workspace, inviting teammates, removing them.

The owner's team screen is an aiogram-dialog conversation (issue 15): the list is one dialog (invite, revoke,
"Remove <name>"), the removal question a dialog started on top of it, whose answer (Yes / No) ends it and brings the
list back on the same message under what happened. A member's /team is the list alone, with nothing to press, so it
is a plain message and no conversation. Every press re-reads the workspace, the role and the teammate, so a button
left from before (a removed teammate, a forged id) is a pop-up and changes nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, User
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager, ShowMode, StartMode, Window
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Button, Column, Row, Select
from aiogram_dialog.widgets.text import Format
from babel.dates import format_date

from bot import texts
from bot.clock import Clock
from bot.config import Settings
from bot.deep_links import DeepLinkGuard
from bot.domain.numbers import ID_MAX, strict_int
from bot.domain.text import safe_name
from bot.handlers import dialog_steps
from bot.handlers.cancel_notes import on_cancel
from bot.handlers.filters import PRIVATE, PressOf
from bot.handlers.replies import answer_stale
from bot.i18n import person_locale
from bot.keyboards.builders import main_menu
from bot.keyboards.callbacks import MenuAction, MenuCallback
from bot.plumbing.dialogs import Nothing, close_dialogs, presses_of_its_own
from bot.plumbing.middlewares import notify_press
from bot.storage.invites import START_PREFIX, Invite, InviteRepo, JoinedVia, Redeemed, RedeemResult
from bot.storage.team import Teammate, TeamRepo
from bot.storage.users import UserRepo
from bot.storage.workspaces import Role, Workspace, WorkspaceRepo
from bot.views.formatting import user_text

log = logging.getLogger(__name__)

JOIN_LINK = F.args.regexp(r"^join_[A-Za-z0-9_-]{1,60}$")
BUTTON_NAME_MAX = 40  # keeps "Remove <name>" readable on a phone
LINKS_SHOWN = 10  # newest live invite links listed in /team; keeps the message far below 4096 characters
JOINED_SHOWN = 10  # names listed under one link before "and N more"


class TeamScreen(StatesGroup):
    members = State()


class Removal(StatesGroup):
    confirm = State()


def _team_closed(_data: dict[str, Any]) -> str:
    return _("Closed the team list; the team stays as it is.")


def _removal_cancelled(_data: dict[str, Any]) -> str:
    return _("Cancelled: nobody was removed from the team.")


on_cancel(TeamScreen, _team_closed)
on_cancel(Removal, _removal_cancelled)


# The kinds of button data that start the team screen (its own buttons are the dialogs').
PRESSES = (MenuCallback,)


def router() -> Router:
    r = Router(name="team")
    r.message.filter(PRIVATE)
    r.callback_query.filter(PressOf(*PRESSES))
    r.callback_query.filter(PRIVATE)
    r.message.register(join_by_link, CommandStart(deep_link=True, magic=JOIN_LINK))
    r.message.register(show_team, Command("team"))
    r.callback_query.register(team_from_menu, MenuCallback.filter(F.action == MenuAction.TEAM))
    return r


def conversations() -> Router:
    """The owner's team screen and its removal question, apart from `router()`: their presses carry the dialogs'
    own data, not a PRESSES kind."""
    r = Router(name="team_screen")
    r.message.filter(PRIVATE)
    r.callback_query.filter(PRIVATE)
    r.include_router(team_dialog())
    r.include_router(removal_dialog())
    return r


# --- rendering -------------------------------------------------------------------------------------------


def _date(moment: datetime, locale: str) -> str:
    return format_date(moment.date(), format="long", locale=locale)


def _name(person: Teammate) -> str:
    return safe_name(person.name) or _("user {id}").format(id=person.user_id)


def _role(role: Role) -> str:
    return _("owner") if role is Role.OWNER else _("member")


def _no_workspace() -> str:
    return _("You are not in a workspace yet. Send /start to create one, or open an invite link from your team.")


def _only_owner() -> str:
    return _("Only the workspace owner can do that.")


def _not_found() -> str:
    return _("Not found. Send /team for a fresh list.")


def _team_text(
    workspace: Workspace,
    people: list[Teammate],
    viewer_id: int,
    is_owner: bool,
    links: list[Invite],
    locale: str,
    joined_via: dict[int, JoinedVia],
) -> str:
    lines = [_("<b>Team of {workspace}</b>").format(workspace=user_text(workspace.name)), ""]
    for number, person in enumerate(people, start=1):
        name = user_text(_name(person))
        if person.user_id == viewer_id:
            name = _("{name} (you)").format(name=name)
        line = _("{number}. {name} — {role}, joined {date}").format(
            number=number, name=name, role=_role(person.role), date=_date(person.joined_at, locale)
        )
        via = joined_via.get(person.user_id)
        if via is not None:  # kept after the link expires or is revoked: the owner still sees who let whom in
            line += " " + _("(invite link by {creator}, {date})").format(
                creator=_someone(via.creator_name), date=_date(via.created_at, locale))
        lines.append(line)
    lines.append("")
    if not is_owner:
        lines.append(_("Only the owner can invite or remove people."))
    elif links:
        lines.append(
            ngettext("{count} invite link is active:", "{count} invite links are active:", len(links)).format(
                count=len(links)
            )
        )
        lines += [_link_line(link, locale) for link in links[:LINKS_SHOWN]]
        if len(links) > LINKS_SHOWN:
            more = len(links) - LINKS_SHOWN
            lines.append(ngettext("…and {count} older link.", "…and {count} older links.", more).format(count=more))
    else:
        lines.append(_("Invite teammates with a link: they will see and edit the same partners."))
    return "\n".join(lines)


def _someone(name: str | None) -> str:
    return user_text(name) if name else _("a former teammate")


def _link_line(link: Invite, locale: str) -> str:
    """One live invite link: who created it and when, until when it works, who joined through it."""
    line = _("• created by {creator} on {created}, works until {expires}").format(
        creator=_someone(link.creator_name),
        created=_date(link.created_at, locale),
        expires=_date(link.expires_at, locale),
    )
    if not link.joined:
        return line + "; " + _("nobody has joined through it yet")
    names = ", ".join(_someone(name) for name in link.joined[:JOINED_SHOWN])
    if len(link.joined) > JOINED_SHOWN:
        more = len(link.joined) - JOINED_SHOWN
        names += " " + ngettext("and {count} more", "and {count} more", more).format(count=more)
    return line + "; " + _("joined through it: {names}").format(names=names)



# --- /team -----------------------------------------------------------------------------------------------


async def show_team(message: Message, state: FSMContext, dialog_manager: DialogManager) -> None:
    """/team: the members with their roles; the owner gets the team screen, with the invite and remove buttons."""
    assert message.from_user is not None
    listing = await _open_team(message.from_user, state, dialog_manager, ShowMode.AUTO)
    if listing is not None:
        await message.answer(listing)


async def team_from_menu(callback: CallbackQuery, bot: Bot, state: FSMContext, dialog_manager: DialogManager) -> None:
    """The main menu's Team button: the team in a new message, the menu stays as it is."""
    listing = await _open_team(callback.from_user, state, dialog_manager, ShowMode.SEND)
    if listing is not None:
        await bot.send_message(callback.from_user.id, listing)  # a private chat's id is its person's


async def _open_team(user: User, state: FSMContext, manager: DialogManager, show_mode: ShowMode) -> str | None:
    """The owner's team screen, from its list, and None; a conversation in progress (any flow) ends here. Anyone
    who owns no workspace has nothing to press: the list alone (or why there is none) is returned to send."""
    data = manager.middleware_data
    workspaces: WorkspaceRepo = data["workspaces"]
    await data["team"].record_name(user.id, safe_name(user.full_name) or "")
    workspace = await workspaces.current_for(user.id)
    if workspace is None or await workspaces.role_of(workspace.id, user.id) is not Role.OWNER:
        text, _removable = await _team_view(user.id, data)
        return text
    await state.clear()
    await manager.start(TeamScreen.members, mode=StartMode.RESET_STACK, show_mode=show_mode)
    return None


async def _team_view(user_id: int, data: dict[str, Any]) -> tuple[str, list[Teammate] | None]:
    """The team as the person sees it, and for an owner the teammates a button may remove (None for anyone else);
    the repositories come from the update's data."""
    workspaces: WorkspaceRepo = data["workspaces"]
    team: TeamRepo = data["team"]
    invites: InviteRepo = data["invites"]
    workspace = await workspaces.current_for(user_id)
    if workspace is None:
        return _no_workspace(), None
    people = await team.members(workspace.id)
    is_owner = await workspaces.role_of(workspace.id, user_id) is Role.OWNER
    links = await invites.active(workspace.id, data["clock"].now()) if is_owner else []
    joined_via = await invites.joined_via(workspace.id) if is_owner else {}
    text = _team_text(workspace, people, user_id, is_owner, links, data["i18n"].current_locale, joined_via)
    return text, [person for person in people if person.role is not Role.OWNER] if is_owner else None


async def members_view(dialog_manager: DialogManager, event_from_user: User, **_kwargs: Any) -> dict[str, Any]:
    """The list, under what the last press did (shown once); the buttons only while the person owns it."""
    text, removable = await _team_view(event_from_user.id, dialog_manager.middleware_data)
    note = dialog_manager.dialog_data.pop("note", "")
    return {
        "text": f"{note}\n\n{text}" if note else text,
        "owner": removable is not None,
        "invite": _("➕ Create invite link"),
        "revoke": _("🚫 Revoke invite links"),
        "removable": [
            (_("Remove {name}").format(name=_name(person)[:BUTTON_NAME_MAX]), str(person.user_id))
            for person in removable or ()
        ],
    }


async def _owner_workspace(callback: CallbackQuery, manager: DialogManager) -> Workspace | None:
    """The caller's workspace when they own it; otherwise a pop-up says why not, and None."""
    workspaces: WorkspaceRepo = manager.middleware_data["workspaces"]
    workspace = await workspaces.current_for(callback.from_user.id)
    if workspace is None:
        _refuse(manager, _no_workspace())
        return None
    if await workspaces.role_of(workspace.id, callback.from_user.id) is not Role.OWNER:
        _refuse(manager, _only_owner())
        return None
    return workspace


def _refuse(manager: DialogManager, text: str) -> None:
    """A press that cannot do what its button says (out of date, or not allowed): a pop-up, the step stays."""
    notify_press(text, alert=True)
    manager.show_mode = ShowMode.NO_UPDATE


async def _say(callback: CallbackQuery, text: str) -> None:
    """A new message under the screen (a private chat's id is its person's)."""
    assert callback.bot is not None
    await callback.bot.send_message(callback.from_user.id, text)


# --- invites ---------------------------------------------------------------------------------------------


async def create_invite(callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    """The owner's "Create invite link" button: a new 7-day link and a message ready to forward; the list stays."""
    manager.show_mode = ShowMode.NO_UPDATE
    workspace = await _owner_workspace(callback, manager)
    if workspace is None:
        return
    data = manager.middleware_data
    token, expires = await data["invites"].create(workspace.id, callback.from_user.id, data["clock"].now())
    me = await data["bot"].me()
    link = f"https://t.me/{me.username}?start={START_PREFIX}{token}"
    name = user_text(workspace.name)
    await _say(
        callback,
        _(
            "Invite link to <b>{workspace}</b>, valid until {date}:\n{link}\n\n"
            "Anyone with this link can join the workspace and see and edit its partners. Forward the next "
            "message to your teammates; if the link gets into the wrong hands, revoke it in /team."
        ).format(workspace=name, date=_date(expires, data["i18n"].current_locale), link=link),
    )
    await _say(
        callback,
        _("Join our workspace <b>{workspace}</b> in Most, the bot we use to vet UGC partners: {link}").format(
            workspace=name, link=link
        ),
    )


async def revoke_invites(callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    """The owner's "Revoke invite links" button: every link that still works stops working; the list stays."""
    manager.show_mode = ShowMode.NO_UPDATE
    workspace = await _owner_workspace(callback, manager)
    if workspace is None:
        return
    count = await manager.middleware_data["invites"].revoke_all(workspace.id, manager.middleware_data["clock"].now())
    if count == 0:
        await _say(callback, _("There are no active invite links to revoke."))
        return
    await _say(
        callback,
        ngettext(
            "Revoked {count} invite link. It no longer works.",
            "Revoked {count} invite links. They no longer work.",
            count,
        ).format(count=count),
    )


async def join_by_link(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    bot: Bot,
    invites: InviteRepo,
    team: TeamRepo,
    workspaces: WorkspaceRepo,
    users: UserRepo,
    settings: Settings,
    clock: Clock,
    i18n: I18n,
    deep_links: DeepLinkGuard,
    dialog_manager: DialogManager | None = None,
) -> None:
    """/start join_<token>: join the team's workspace, or say why the link does not work."""
    assert message.from_user is not None and command.args is not None
    user = message.from_user
    await team.record_name(user.id, safe_name(user.full_name) or "")
    result = await invites.redeem(command.args.removeprefix(START_PREFIX), user.id, clock.now())
    workspace = await workspaces.get(result.workspace_id) if result.workspace_id is not None else None
    if result.status in (Redeemed.JOINED, Redeemed.ALREADY_MEMBER) and workspace is not None:
        # Any conversation in progress (a flow, a dialog) belonged to the previous workspace, or to onboarding.
        await state.clear()
        if dialog_manager is not None and dialog_manager.has_context():
            await close_dialogs(dialog_manager)
        if result.status is Redeemed.JOINED:
            text = _("You joined <b>{workspace}</b>. You see and edit its partners together with the team.")
        else:
            text = _("You are already a member of <b>{workspace}</b>; it is your current workspace now.")
        await message.answer(text.format(workspace=user_text(workspace.name)))
        await message.answer(texts.overview(workspace.name), reply_markup=main_menu())
        if result.status is Redeemed.JOINED:
            joined_name = safe_name(user.full_name) or ""
            await _tell_owners(bot, team, users, settings, i18n, workspace, user.id, joined_name, result)
        return
    await deep_links.failed(message)
    if result.status is Redeemed.REMOVED and workspace is not None:
        text = _(
            "You were removed from <b>{workspace}</b>, so this invite link no longer lets you in. "
            "Ask the owner for a new invite."
        ).format(workspace=user_text(workspace.name))
    elif result.status is Redeemed.EXPIRED:
        text = _("This invite link has expired. Ask the person who sent it for a new one.")
    elif result.status is Redeemed.REVOKED:
        text = _("This invite link was revoked by the workspace owner. Ask them for a new one if you still need it.")
    else:
        text = _("This invite link is not valid. Check that it was copied whole, or ask for a new one.")
    if await workspaces.current_for(user.id) is None:
        text += "\n\n" + _("Meanwhile you can send /start to create a workspace of your own.")
    await message.answer(text)


# --- removing a member -----------------------------------------------------------------------------------


async def _removable(
    callback: CallbackQuery, manager: DialogManager, user_id: int
) -> tuple[Workspace, Teammate] | None:
    """The owner's workspace and the teammate the button names, re-read; None after a pop-up says why."""
    workspace = await _owner_workspace(callback, manager)
    if workspace is None:
        return None
    team: TeamRepo = manager.middleware_data["team"]
    person = await team.member(workspace.id, user_id)
    if person is None:
        _refuse(manager, _not_found())
        return None
    if person.role is Role.OWNER:
        _refuse(manager, _("The owner cannot be removed from the workspace."))
        return None
    return workspace, person


async def ask_to_remove(callback: CallbackQuery, _widget: Any, manager: DialogManager, item: str) -> None:
    """A "Remove <name>" button: the list becomes the question (the removal dialog, on top of the list)."""
    try:
        user_id = strict_int(item, 1, ID_MAX)
    except ValueError:  # not an id the bot writes: a forged press
        await answer_stale(callback)
        manager.show_mode = ShowMode.NO_UPDATE
        return
    found = await _removable(callback, manager, user_id)
    if found is not None:
        await manager.start(Removal.confirm, data={"user_id": user_id})


def _removing(manager: DialogManager) -> int:
    start = manager.start_data
    user_id = start.get("user_id") if isinstance(start, dict) else None
    return user_id if isinstance(user_id, int) and not isinstance(user_id, bool) else 0


async def removal_view(
    dialog_manager: DialogManager, event_from_user: User, workspaces: WorkspaceRepo, team: TeamRepo,
    invites: InviteRepo, clock: Clock, **_kwargs: Any,
) -> dict[str, Any]:
    """Asks before doing it, saying that the live invite links go too."""
    buttons = {"yes": _("Yes, remove"), "no": _("No, keep")}
    workspace = await workspaces.current_for(event_from_user.id)
    person = await team.member(workspace.id, _removing(dialog_manager)) if workspace is not None else None
    if workspace is None or person is None:
        return {"text": _not_found(), **buttons}
    text = _("Remove <b>{name}</b> from <b>{workspace}</b>? They lose access to its partners at once.").format(
        name=user_text(_name(person)), workspace=user_text(workspace.name)
    )
    live = len(await invites.active(workspace.id, clock.now()))
    if live:
        text += "\n\n" + ngettext(
            "The {count} invite link that still works is revoked too: anyone could have forwarded it to them. "
            "You can create a new one afterwards.",
            "The {count} invite links that still work are revoked too: any of them could have been forwarded "
            "to them. You can create a new one afterwards.",
            live,
        ).format(count=live)
    return {"text": text, **buttons}


async def _back_to_team(manager: DialogManager, note: str = "") -> None:
    """The question becomes the team list again, under what just happened; after a refusal (its pop-up already
    set) the list shows how things are now, so the edit is asked for explicitly."""
    await manager.done(result=note, show_mode=ShowMode.EDIT)


async def note_from_removal(_start_data: Any, result: Any, manager: DialogManager) -> None:
    if isinstance(result, str) and result:
        manager.dialog_data["note"] = result


async def confirm_remove(callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    """The "Yes, remove" button: take the member out, close every way back in, and let them know."""
    found = await _removable(callback, manager, _removing(manager))
    if found is None:
        await _back_to_team(manager)
        return
    workspace, person = found
    data = manager.middleware_data
    if not await data["team"].remove_member(workspace.id, person.user_id):
        _refuse(manager, _not_found())
        await _back_to_team(manager)
        return
    # Links are forwardable and reusable: any live one could bring them back, so all go (same unit of work).
    revoked = await data["invites"].revoke_all(workspace.id, data["clock"].now())
    text = _("<b>{name}</b> is no longer in <b>{workspace}</b>.").format(
        name=user_text(_name(person)), workspace=user_text(workspace.name)
    )
    if revoked:
        text += "\n" + ngettext(
            "{count} invite link was revoked, so they cannot come back through it. For anyone still to join, "
            "create a new one in /team.",
            "{count} invite links were revoked, so they cannot come back through them. For anyone still to "
            "join, create a new one in /team.",
            revoked,
        ).format(count=revoked)
    await _back_to_team(manager, text)
    i18n: I18n = data["i18n"]
    settings: Settings = data["settings"]
    with i18n.use_locale(await person_locale(data["users"], person.user_id, settings.default_locale)):
        notice = _(
            "You were removed from the workspace <b>{workspace}</b>. Send /start to create your own, "
            "or ask the team for a new invite link."
        ).format(workspace=user_text(workspace.name))
    await _send_best_effort(data["bot"], person.user_id, notice)


async def keep_member(callback: CallbackQuery, _widget: Any, manager: DialogManager) -> None:
    """The "No, keep" button: nothing changes; back to the team."""
    found = await _removable(callback, manager, _removing(manager))
    note = _("OK, <b>{name}</b> stays in the team.").format(name=user_text(_name(found[1]))) if found else ""
    await _back_to_team(manager, note)


# --- the screen, as data ---------------------------------------------------------------------------------


def team_dialog() -> Dialog:
    screen = Dialog(
        Window(
            Format("{text}"),
            Column(
                Button(Format("{invite}"), id="invite", on_click=create_invite),
                Button(Format("{revoke}"), id="revoke", on_click=revoke_invites),
                Select(Format("{item[0]}"), id="remove", item_id_getter=lambda item: item[1], items="removable",
                       on_click=ask_to_remove),
                when="owner",
            ),
            state=TeamScreen.members,
            getter=members_view,
        ),
        on_process_result=note_from_removal,
    )
    screen.message.filter(Nothing())  # the list waits for no typed answer: what is typed goes on to the fallback
    return presses_of_its_own(screen)


def removal_dialog() -> Dialog:
    question = Dialog(
        Window(
            Format("{text}"),
            Row(
                Button(Format("{yes}"), id="yes", on_click=confirm_remove),
                Button(Format("{no}"), id="no", on_click=keep_member),
            ),
            MessageInput(dialog_steps.buttons_expected(lambda: _("Please choose one of the buttons above."))),
            state=Removal.confirm,
            getter=removal_view,
        ),
    )
    return presses_of_its_own(question)


# --- messages to other people ----------------------------------------------------------------------------


async def _tell_owners(
    bot: Bot,
    team: TeamRepo,
    users: UserRepo,
    settings: Settings,
    i18n: I18n,
    workspace: Workspace,
    joined_id: int,
    joined_name: str,
    link: RedeemResult,
) -> None:
    """Let the owners know who came in through which link, in each owner's own language."""
    for person in await team.members(workspace.id):
        if person.role is not Role.OWNER or person.user_id == joined_id:
            continue
        locale = await person_locale(users, person.user_id, settings.default_locale)
        with i18n.use_locale(locale):
            text = _(
                "New teammate in <b>{workspace}</b>: <b>{name}</b> joined with the invite link created by "
                "{creator} on {date}."
            ).format(
                workspace=user_text(workspace.name),
                name=user_text(joined_name or _("user {id}").format(id=joined_id)),
                creator=_someone(link.created_by),
                date=_date(link.created_at, locale) if link.created_at else "—",
            )
        await _send_best_effort(bot, person.user_id, text)


async def _send_best_effort(bot: Bot, chat_id: int, text: str) -> None:
    """A notice to someone else: a blocked bot or a vanished chat must not fail the action."""
    try:
        await bot.send_message(chat_id, text)
    except TelegramForbiddenError:
        log.info("chat %s blocked the bot; team notice not delivered", chat_id)
    except TelegramBadRequest as error:
        log.info("team notice to chat %s not delivered: %s", chat_id, error.message)
