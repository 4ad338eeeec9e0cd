"""/mydata (a file of everything stored about the caller) and /deletemydata (after one or two confirmations).

Works without a workspace: anyone who ever wrote to the bot has a profile to see or delete. The buttons act
on whoever presses them, and a confirmation older than CONFIRMATION_TTL must be asked for again.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.fsm.storage.base import BaseStorage
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager

from bot.checkins import CheckinService
from bot.clock import Clock
from bot.commands import forget_chat_menu
from bot.handlers.filters import ON_A_MESSAGE, PRIVATE, PressOf
from bot.handlers.replies import edit_or_send
from bot.i18n import person_locale
from bot.keyboards.callbacks import MenuAction, MenuCallback
from bot.keyboards.grid import ButtonGrid
from bot.keyboards.report_callbacks import PersonalDataAction, PersonalDataCallback
from bot.plumbing.dialogs import close_dialogs
from bot.storage.db import Database
from bot.storage.fsm import SQLiteStorage
from bot.storage.personal_data import (
    DeletionPlan,
    Erasure,
    WorkspaceFate,
    collect,
    erase_user,
    fsm_key_names,
    plan_deletion,
)
from bot.storage.respondents import RespondentKeys
from bot.storage.users import UserRepo
from bot.views.formatting import user_text

log = logging.getLogger(__name__)

# A "yes, delete" button this old asks again: the plan it showed may no longer be true.
CONFIRMATION_TTL = timedelta(minutes=30)
NAME_SHOWN = 60


# The kinds of button data this feature's handlers take.
PRESSES = (MenuCallback, PersonalDataCallback)


def router() -> Router:
    r = Router(name="personal_data")
    r.message.filter(PRIVATE)
    r.callback_query.filter(PressOf(*PRESSES))
    r.callback_query.filter(ON_A_MESSAGE)
    r.callback_query.filter(PRIVATE)
    r.message.register(my_data, Command("mydata"))
    r.message.register(delete_my_data, Command("deletemydata"))
    r.callback_query.register(my_data_from_menu, MenuCallback.filter(F.action == MenuAction.MY_DATA))
    r.callback_query.register(plan_from_button, PersonalDataCallback.filter(F.action == PersonalDataAction.PLAN))
    r.callback_query.register(cancelled, PersonalDataCallback.filter(F.action == PersonalDataAction.CANCEL))
    r.callback_query.register(
        confirmed,
        PersonalDataCallback.filter(F.action.in_({PersonalDataAction.CONFIRM, PersonalDataAction.CONFIRM_WORKSPACES})),
    )
    return r


def _minutes(clock: Clock) -> int:
    return int(clock.now().timestamp() // 60)


async def my_data(message: Message, db: Database, clock: Clock, respondents: RespondentKeys) -> None:
    """/mydata: a JSON file of everything stored about the caller."""
    assert message.from_user is not None
    await _send_my_data(message, message.from_user.id, db, clock, respondents)


async def my_data_from_menu(
    callback: CallbackQuery, pressed: Message, db: Database, clock: Clock, respondents: RespondentKeys
) -> None:
    """The main menu's My data button."""
    await _send_my_data(pressed, callback.from_user.id, db, clock, respondents)


async def _send_my_data(
    message: Message, user_id: int, db: Database, clock: Clock, respondents: RespondentKeys
) -> None:
    data = await collect(db, user_id, clock.now(), respondents)
    payload = json.dumps(data, ensure_ascii=False, indent=2, default=str).encode("utf-8")
    b = ButtonGrid()
    b.button(text=_("🗑 Delete my data…"), callback_data=PersonalDataCallback(action=PersonalDataAction.PLAN))
    await message.answer_document(
        BufferedInputFile(payload, filename=f"most-my-data-{clock.now().date().isoformat()}.json"),
        caption=_(
            "Everything I store about you: your profile, workspaces, unfinished conversations, check-in answers "
            "and reference answers, and which team records name you as their author. "
            "The records themselves belong to your team: /export has them. To delete your data: /deletemydata."
        ),
        reply_markup=b.as_markup(),
    )


async def plan_from_button(
    callback: CallbackQuery, pressed: Message, db: Database, clock: Clock, respondents: RespondentKeys
) -> None:
    """ "Delete my data…" under the /mydata file: the same plan and confirmation as /deletemydata."""
    await _send_plan(pressed, callback.from_user.id, db, clock, respondents)


def _with_partners(count: int) -> str:
    return ngettext("with its {count} partner", "with its {count} partners", count).format(count=count)


def _workspace_line(plan: DeletionPlan, index: int) -> str:
    item = plan.workspaces[index]
    name = user_text(item.name, NAME_SHOWN)
    if item.fate is WorkspaceFate.LEAVE:
        return _("• {workspace}: you leave it; the team goes on without you.").format(workspace=name)
    if item.fate is WorkspaceFate.HAND_OVER:
        heir = user_text(item.heir_name, NAME_SHOWN) if item.heir_name else _("the teammate who joined first")
        return _("• {workspace}: you are its only owner, so {heir} (joined earliest) becomes the owner.").format(
            workspace=name, heir=heir
        )
    partners = _with_partners(item.partners)
    return _(
        "• {workspace}: nobody else is in it, so it is deleted {partners} and all their records — I will ask once more."
    ).format(workspace=name, partners=partners)


def plan_text(plan: DeletionPlan) -> str:
    """What goes, what stays without your name, and what happens to each workspace — said plainly."""
    lines = [
        _("<b>Delete your data?</b>"),
        "",
        _("<b>Deleted:</b>"),
        _("• your profile: language, name, when you first and last wrote to me;"),
        ngettext(
            "• your membership in {count} workspace;", "• your membership in {count} workspaces;", len(plan.workspaces)
        ).format(count=len(plan.workspaces)),
        _("• conversations you have not finished;"),
        ngettext(
            "• your check-in answer ({count}) and the name groups showed me.",
            "• your check-in answers ({count}) and the name groups showed me.",
            plan.checkin_answers,
        ).format(count=plan.checkin_answers),
        "",
        _("<b>Kept, without your name or id:</b>"),
        _(
            "• what you added or decided in a workspace — partners, evidence, gut checks, scorecards, campaigns, "
            "debriefs, reference links — stays for the team, no longer marked as yours; your scorecards stop "
            "counting in the team score;"
        ),
        _("• whether you answered past check-in rounds: the partner's communication record;"),
        ngettext(
            "• the reference you gave about a partner ({count}), no longer linked to you.",
            "• the references you gave about partners ({count}), no longer linked to you.",
            plan.reference_answers,
        ).format(count=plan.reference_answers),
    ]
    if plan.kept_rows:
        lines += [
            "",
            _(
                "<b>Kept until it expires by itself, within the hour:</b> the count of invalid links you opened "
                "recently, so that deleting your data does not lift the limit on guessing links."
            ),
        ]
    if plan.workspaces:
        lines += ["", _("<b>Workspaces:</b>")]
        lines += [_workspace_line(plan, i) for i in range(len(plan.workspaces))]
    lines += [
        "",
        _("This cannot be undone. Want a copy first? Send /mydata."),
    ]
    return "\n".join(lines)


def _confirm_keyboard(action: PersonalDataAction, yes: str, clock: Clock) -> InlineKeyboardMarkup:
    b = ButtonGrid()
    b.button(text=yes, callback_data=PersonalDataCallback(action=action, issued=_minutes(clock)))
    b.button(text=_("Cancel"), callback_data=PersonalDataCallback(action=PersonalDataAction.CANCEL))
    b.adjust(1)
    return b.as_markup()


async def delete_my_data(message: Message, db: Database, clock: Clock, respondents: RespondentKeys) -> None:
    """/deletemydata: the plan, and a button to confirm it."""
    assert message.from_user is not None
    await _send_plan(message, message.from_user.id, db, clock, respondents)


async def _send_plan(
    message: Message, user_id: int, db: Database, clock: Clock, respondents: RespondentKeys
) -> None:
    plan = await plan_deletion(db, user_id, respondents)
    await message.answer(
        plan_text(plan),
        reply_markup=_confirm_keyboard(PersonalDataAction.CONFIRM, _("🗑 Yes, delete my data"), clock),
    )


async def cancelled(callback: CallbackQuery, pressed: Message) -> None:
    """Cancel on either confirmation."""
    await edit_or_send(pressed, _("Nothing was deleted."))


async def confirmed(
    callback: CallbackQuery,
    pressed: Message,
    callback_data: PersonalDataCallback,
    db: Database,
    clock: Clock,
    users: UserRepo,
    bot: Bot,
    checkin_service: CheckinService,
    i18n: I18n,
    fsm_storage: BaseStorage,
    respondents: RespondentKeys,
    dialog_manager: DialogManager | None = None,
) -> None:
    """ "Yes, delete my data" (and, where a workspace would go with it, the second "yes")."""
    age = _minutes(clock) - callback_data.issued
    if age < 0 or age > CONFIRMATION_TTL.total_seconds() // 60:
        await edit_or_send(
            pressed, _("This confirmation has expired, so nothing was deleted. Send /deletemydata again.")
        )
        return
    user_id = callback.from_user.id
    delete_workspaces = callback_data.action is PersonalDataAction.CONFIRM_WORKSPACES
    erasure = await erase_user(db, user_id, respondents, delete_workspaces=delete_workspaces)
    if erasure is None:
        plan = await plan_deletion(db, user_id, respondents)
        await edit_or_send(
            pressed,
            _second_question(plan),
            _confirm_keyboard(PersonalDataAction.CONFIRM_WORKSPACES, _("🗑 Delete my data and these workspaces"), clock),
        )
        return
    if dialog_manager is not None and dialog_manager.has_context():
        # A dialog left open (an unfinished /newpartner) would write its records back after this handler.
        await close_dialogs(dialog_manager)
    if isinstance(fsm_storage, SQLiteStorage):
        fsm_storage.forget(lambda key: fsm_key_names(key, user_id))
    for schedule_id in erasure.stopped_schedules:
        checkin_service.stop(schedule_id)
    log.info(
        "personal data erased: %d rows deleted, %d anonymised, %d workspaces handed over, %d deleted",
        erasure.rows_deleted,
        erasure.rows_anonymised,
        len(erasure.handed_over),
        len(erasure.deleted_workspaces),
    )
    await edit_or_send(pressed, _done_text(erasure))
    await forget_chat_menu(bot, pressed.chat.id)  # the language chosen with /language is gone
    for item in erasure.handed_over:
        if item.heir_id is None:
            continue
        locale = await person_locale(users, item.heir_id, i18n.default_locale)
        with i18n.use_locale(locale):
            text = _(
                "The owner of {workspace} has left and deleted their data. You are its owner now: "
                "invite and remove people in /team."
            ).format(workspace=user_text(item.name, NAME_SHOWN))
        # Directly, not through the lane: see CheckinService.post_digest_now.
        try:
            await bot.send_message(item.heir_id, text)
        except TelegramAPIError as error:
            log.info("the new owner %s was not told about the handover: %s", item.heir_id, error)


def _second_question(plan: DeletionPlan) -> str:
    lines = [_("<b>Delete these workspaces too?</b> Nobody else is in them, so they go with your data:")]
    for item in plan.to_delete:
        partners = _with_partners(item.partners)
        lines.append(
            _("• {workspace}, {partners}, their evidence, scorecards, campaigns, references and check-ins").format(
                workspace=user_text(item.name, NAME_SHOWN), partners=partners
            )
        )
    lines.append(_("Invite a teammate with /team first if someone should keep them."))
    return "\n".join(lines)


def _done_text(erasure: Erasure) -> str:
    lines = [_("Done: your data is deleted, and what stays for your teams no longer names you.")]
    for item in erasure.handed_over:
        heir = user_text(item.heir_name, NAME_SHOWN) if item.heir_name else _("the teammate who joined first")
        workspace = user_text(item.name, NAME_SHOWN)
        lines.append(_("• {workspace} now belongs to {heir}.").format(workspace=workspace, heir=heir))
    for item in erasure.deleted_workspaces:
        lines.append(_("• {workspace} is deleted.").format(workspace=user_text(item.name, NAME_SHOWN)))
    lines.append(_("If you write to me again, I will start a new, empty profile."))
    return "\n".join(lines)
