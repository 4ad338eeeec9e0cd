"""/team and invite links: who is in the workspace, inviting teammates, removing them."""

from __future__ import annotations

import logging
from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, User
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from babel.dates import format_date

from bot import texts
from bot.clock import Clock
from bot.config import Settings
from bot.deep_links import DeepLinkGuard
from bot.domain.text import safe_name
from bot.handlers.filters import PRIVATE, PressOf
from bot.handlers.replies import edit_or_send
from bot.i18n import person_locale
from bot.keyboards.builders import main_menu
from bot.keyboards.callbacks import MenuAction, MenuCallback
from bot.keyboards.grid import ButtonGrid
from bot.keyboards.team_callbacks import TeamAction, TeamCallback
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


# The kinds of button data this feature's handlers take.
PRESSES = (MenuCallback, TeamCallback)


def router() -> Router:
    r = Router(name="team")
    r.message.filter(PRIVATE)
    r.callback_query.filter(PressOf(*PRESSES))
    r.callback_query.filter(PRIVATE)
    r.message.register(join_by_link, CommandStart(deep_link=True, magic=JOIN_LINK))
    r.message.register(show_team, Command("team"))
    r.callback_query.register(team_from_menu, MenuCallback.filter(F.action == MenuAction.TEAM))
    r.callback_query.register(create_invite, TeamCallback.filter(F.action == TeamAction.INVITE))
    r.callback_query.register(revoke_invites, TeamCallback.filter(F.action == TeamAction.REVOKE))
    r.callback_query.register(ask_to_remove, TeamCallback.filter(F.action == TeamAction.REMOVE))
    r.callback_query.register(confirm_remove, TeamCallback.filter(F.action == TeamAction.CONFIRM_REMOVE))
    r.callback_query.register(keep_member, TeamCallback.filter(F.action == TeamAction.KEEP))
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


def _owner_keyboard(people: list[Teammate]) -> InlineKeyboardMarkup:
    builder = ButtonGrid()
    builder.button(text=_("➕ Create invite link"), callback_data=TeamCallback(action=TeamAction.INVITE))
    builder.button(text=_("🚫 Revoke invite links"), callback_data=TeamCallback(action=TeamAction.REVOKE))
    for person in people:
        if person.role is not Role.OWNER:
            builder.button(
                text=_("Remove {name}").format(name=_name(person)[:BUTTON_NAME_MAX]),
                callback_data=TeamCallback(action=TeamAction.REMOVE, user_id=person.user_id),
            )
    builder.adjust(1)
    return builder.as_markup()


def _confirm_keyboard(user_id: int) -> InlineKeyboardMarkup:
    builder = ButtonGrid()
    builder.button(text=_("Yes, remove"), callback_data=TeamCallback(action=TeamAction.CONFIRM_REMOVE, user_id=user_id))
    builder.button(text=_("No, keep"), callback_data=TeamCallback(action=TeamAction.KEEP, user_id=user_id))
    builder.adjust(2)
    return builder.as_markup()


# --- /team -----------------------------------------------------------------------------------------------


async def show_team(
    message: Message, workspaces: WorkspaceRepo, team: TeamRepo, invites: InviteRepo, clock: Clock, i18n: I18n
) -> None:
    """/team: the members with their roles; owners also get the invite and remove buttons."""
    assert message.from_user is not None
    await _send_team(message, message.from_user, workspaces, team, invites, clock, i18n)


async def team_from_menu(
    callback: CallbackQuery, workspaces: WorkspaceRepo, team: TeamRepo, invites: InviteRepo, clock: Clock, i18n: I18n
) -> None:
    """The main menu's Team button."""
    if isinstance(callback.message, Message):
        await _send_team(callback.message, callback.from_user, workspaces, team, invites, clock, i18n)


async def _send_team(
    message: Message,
    user: User,
    workspaces: WorkspaceRepo,
    team: TeamRepo,
    invites: InviteRepo,
    clock: Clock,
    i18n: I18n,
) -> None:
    await team.record_name(user.id, safe_name(user.full_name) or "")
    text, markup = await _team_view(user.id, workspaces, team, invites, clock, i18n)
    await message.answer(text, reply_markup=markup)


async def _team_view(
    user_id: int, workspaces: WorkspaceRepo, team: TeamRepo, invites: InviteRepo, clock: Clock, i18n: I18n
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The team as the person sees it: owners get the invite and remove buttons."""
    workspace = await workspaces.current_for(user_id)
    if workspace is None:
        return _no_workspace(), None
    people = await team.members(workspace.id)
    is_owner = await workspaces.role_of(workspace.id, user_id) is Role.OWNER
    links = await invites.active(workspace.id, clock.now()) if is_owner else []
    joined_via = await invites.joined_via(workspace.id) if is_owner else {}
    text = _team_text(workspace, people, user_id, is_owner, links, i18n.current_locale, joined_via)
    return text, _owner_keyboard(people) if is_owner else None


async def _back_to_team(callback: CallbackQuery, note: str, view: tuple[str, InlineKeyboardMarkup | None]) -> None:
    """The confirmation becomes the team list again, under what just happened."""
    text, markup = view
    await _in_place(callback, f"{note}\n\n{text}", markup)


async def _in_place(callback: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """The pressed message becomes `text`; a new message when it cannot be reached."""
    if isinstance(callback.message, Message):
        await edit_or_send(callback.message, text, markup)
    else:
        await _reply(callback, text, markup)


async def _owner_workspace(callback: CallbackQuery, workspaces: WorkspaceRepo) -> Workspace | None:
    """The caller's workspace when they own it; otherwise tell them why not and return None."""
    workspace = await workspaces.current_for(callback.from_user.id)
    if workspace is None:
        await _reply(callback, _no_workspace())
        return None
    if await workspaces.role_of(workspace.id, callback.from_user.id) is not Role.OWNER:
        await _reply(callback, _only_owner())
        return None
    return workspace


async def _reply(callback: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    if isinstance(callback.message, Message):
        await callback.message.answer(text, reply_markup=markup)
    elif callback.bot is not None:
        await callback.bot.send_message(callback.from_user.id, text, reply_markup=markup)


async def _refuse(callback: CallbackQuery, text: str) -> None:
    """A press that cannot do what its button says (out of date, or not allowed): a pop-up notice, no message."""
    if not notify_press(text, alert=True):
        await _reply(callback, text)


# --- invites ---------------------------------------------------------------------------------------------


async def create_invite(
    callback: CallbackQuery, bot: Bot, workspaces: WorkspaceRepo, invites: InviteRepo, clock: Clock, i18n: I18n
) -> None:
    """The owner's "Create invite link" button: a new 7-day link and a message ready to forward."""
    workspace = await _owner_workspace(callback, workspaces)
    if workspace is None:
        return
    token, expires = await invites.create(workspace.id, callback.from_user.id, clock.now())
    me = await bot.me()
    link = f"https://t.me/{me.username}?start={START_PREFIX}{token}"
    name = user_text(workspace.name)
    await _reply(
        callback,
        _(
            "Invite link to <b>{workspace}</b>, valid until {date}:\n{link}\n\n"
            "Anyone with this link can join the workspace and see and edit its partners. Forward the next "
            "message to your teammates; if the link gets into the wrong hands, revoke it in /team."
        ).format(workspace=name, date=_date(expires, i18n.current_locale), link=link),
    )
    await _reply(
        callback,
        _("Join our workspace <b>{workspace}</b> in Most, the bot we use to vet UGC partners: {link}").format(
            workspace=name, link=link
        ),
    )


async def revoke_invites(callback: CallbackQuery, workspaces: WorkspaceRepo, invites: InviteRepo, clock: Clock) -> None:
    """The owner's "Revoke invite links" button: every link that still works stops working."""
    workspace = await _owner_workspace(callback, workspaces)
    if workspace is None:
        return
    count = await invites.revoke_all(workspace.id, clock.now())
    if count == 0:
        await _reply(callback, _("There are no active invite links to revoke."))
        return
    await _reply(
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
) -> None:
    """/start join_<token>: join the team's workspace, or say why the link does not work."""
    assert message.from_user is not None and command.args is not None
    user = message.from_user
    await team.record_name(user.id, safe_name(user.full_name) or "")
    result = await invites.redeem(command.args.removeprefix(START_PREFIX), user.id, clock.now())
    workspace = await workspaces.get(result.workspace_id) if result.workspace_id is not None else None
    if result.status in (Redeemed.JOINED, Redeemed.ALREADY_MEMBER) and workspace is not None:
        await state.clear()  # any conversation in progress belonged to the previous workspace, or to onboarding
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
    callback: CallbackQuery, callback_data: TeamCallback, workspaces: WorkspaceRepo, team: TeamRepo
) -> tuple[Workspace, Teammate] | None:
    """The owner's workspace and the teammate the button names, re-read; None after telling the caller why."""
    workspace = await _owner_workspace(callback, workspaces)
    if workspace is None:
        return None
    person = await team.member(workspace.id, callback_data.user_id)
    if person is None:
        await _refuse(callback, _not_found())
        return None
    if person.role is Role.OWNER:
        await _refuse(callback, _("The owner cannot be removed from the workspace."))
        return None
    return workspace, person


async def ask_to_remove(
    callback: CallbackQuery,
    callback_data: TeamCallback,
    workspaces: WorkspaceRepo,
    team: TeamRepo,
    invites: InviteRepo,
    clock: Clock,
) -> None:
    """A "Remove <name>" button: ask before doing it, saying that the live invite links go too."""
    found = await _removable(callback, callback_data, workspaces, team)
    if found is None:
        return
    workspace, person = found
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
    await _in_place(callback, text, _confirm_keyboard(person.user_id))


async def confirm_remove(
    callback: CallbackQuery,
    callback_data: TeamCallback,
    bot: Bot,
    workspaces: WorkspaceRepo,
    team: TeamRepo,
    invites: InviteRepo,
    users: UserRepo,
    settings: Settings,
    clock: Clock,
    i18n: I18n,
) -> None:
    """The "Yes, remove" button: take the member out, close every way back in, and let them know."""
    found = await _removable(callback, callback_data, workspaces, team)
    if found is None:
        return
    workspace, person = found
    if not await team.remove_member(workspace.id, person.user_id):
        await _refuse(callback, _not_found())
        return
    # Links are forwardable and reusable: any live one could bring them back, so all go (same unit of work).
    revoked = await invites.revoke_all(workspace.id, clock.now())
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
    await _back_to_team(callback, text, await _team_view(callback.from_user.id, workspaces, team, invites, clock, i18n))
    with i18n.use_locale(await person_locale(users, person.user_id, settings.default_locale)):
        notice = _(
            "You were removed from the workspace <b>{workspace}</b>. Send /start to create your own, "
            "or ask the team for a new invite link."
        ).format(workspace=user_text(workspace.name))
    await _send_best_effort(bot, person.user_id, notice)


async def keep_member(
    callback: CallbackQuery,
    callback_data: TeamCallback,
    workspaces: WorkspaceRepo,
    team: TeamRepo,
    invites: InviteRepo,
    clock: Clock,
    i18n: I18n,
) -> None:
    """The "No, keep" button: nothing changes; back to the team."""
    found = await _removable(callback, callback_data, workspaces, team)
    if found is None:
        return
    _workspace, person = found
    note = _("OK, <b>{name}</b> stays in the team.").format(name=user_text(_name(person)))
    await _back_to_team(callback, note, await _team_view(callback.from_user.id, workspaces, team, invites, clock, i18n))


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
