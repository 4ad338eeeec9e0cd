"""Texts used by several handlers. Each is rendered in the locale of the current update."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.views.formatting import user_text

WORKSPACE_NAME_MAX = 64


def overview(workspace_name: str) -> str:
    return _(
        "<b>Most</b> helps you choose cross-market partners on evidence, not follower counts.\n"
        "• Vet a partner: case studies in each market, a three-question gut check, a scorecard.\n"
        "• Run one small pilot, debrief it, then scale 1 → 3 → 5 campaigns or walk away.\n"
        "• Keep a weekly async check-in going in the partnership's group chat.\n"
        "• Ask creators who worked with a partner for a reference, in their own language.\n\n"
        "Workspace: <b>{workspace}</b>"
    ).format(workspace=user_text(workspace_name))


def help_private() -> str:
    return _(
        "<b>What I can do</b>\n"
        "/start — the overview and the main menu\n"
        "/newpartner — add a partner candidate\n"
        "/partners — your partners, each with its card: evidence, gut check, scorecard, pilot, "
        "log, debrief, references\n"
        "/log — log what happened in a running campaign\n"
        "/stats — the learning loop: your figures next to the field notes\n"
        "/team — your teammates and invite links\n"
        "/report — a picture of the whole portfolio; /export — every record as .xlsx and CSV\n"
        "/mydata — what I store about you; /deletemydata — delete it\n"
        "/language — switch between Russian and English\n"
        "/cancel — leave the current step (nothing saved so far is lost)\n"
        "/help — this message\n\n"
        "/checkin — a weekly check-in in a partnership's group chat: set it up here, then one button adds me "
        "to the group."
    )


def help_group() -> str:
    return _(
        "<b>Most in this group</b>\n"
        "I keep the partnership's weekly async check-in here. I only see commands, replies to my "
        "messages and mentions — nothing else you write.\n"
        "/checkin — the weekly check-in: it is set up in a private chat with me, and admins can stop it here\n"
        "/digest — the answers to the latest check-in so far\n"
        "/away 2 — you are away for 2 weeks and not counted as missing; /away 0 when back\n"
        "/language — the group's language (admins only)\n"
        "/help — this message\n\n"
        "Answer a check-in by replying to it, or with its button in a private chat. "
        "Partner vetting happens in a private chat with me."
    )


def cancelled() -> str:
    return _("Cancelled. What you had already saved stays saved.")


def nothing_to_cancel() -> str:
    return _("There is nothing to cancel.")


def nothing_to_cancel_in_group() -> str:
    return _(
        "There is nothing to cancel in this group: every step-by-step conversation with me happens in a "
        "private chat — send /cancel there."
    )


def something_went_wrong() -> str:
    return _(
        "Sorry, something went wrong on my side. Your data is safe. "
        "Please try again, or send /cancel to start over."
    )


def not_understood_private() -> str:
    return _("I did not understand that. Use the menu buttons or send /help to see what I can do.")


def unknown_command() -> str:
    return _("I do not know that command. Send /help for the list.")


def earlier_step_button() -> str:
    return _("That button belongs to an earlier step. Please answer the question below.")


def stale_button() -> str:
    return _("This button is out of date. Send /start to get a fresh menu.")


def text_expected(max_length: int) -> str:
    return _("I need a short text here (up to {max} characters). Please type it.").format(max=max_length)


def text_too_long(max_length: int, got: int) -> str:
    return _("That is {got} characters; the limit here is {max}. Please send a shorter text.").format(
        got=got, max=max_length
    )


def text_not_taken(max_length: int, typed: str | None) -> str:
    """Why a typed text was refused: too long, or nothing visible in it (empty, only zero-width characters)."""
    got = len((typed or "").strip())
    return text_too_long(max_length, got) if got > max_length else text_expected(max_length)


def left_by_an_earlier_version() -> str:
    return _(
        "That step was opened by an earlier version of the bot, which has been updated since. Please start it again "
        "from its button (or send /cancel); everything already saved is kept."
    )


def mid_conversation_command() -> str:
    return _("You are in the middle of a step. Answer the question above, or send /cancel to leave it.")
