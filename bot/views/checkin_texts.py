"""What the weekly check-in says: the prompt, the reminder, the digest, the schedule lines, the communication-
health lines for the partner card, and the deep link under a prompt (bot/checkins.py sends them)."""

from __future__ import annotations

import html
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from babel.dates import format_time, format_timedelta, get_day_names
from babel.numbers import format_percent

from bot.domain.checkins import (
    LOS_ANGELES,
    MOSCOW,
    NEW_YORK,
    OVERLAP_ZONES,
    CommunicationHealth,
    MemberStatus,
    RosterEntry,
    WeeklyTime,
    next_occurrence,
)
from bot.keyboards.grid import ButtonGrid
from bot.plumbing.telegram_limits import split_html_lines
from bot.storage.checkins import NewSchedule, Schedule, StoredAnswer
from bot.views.formatting import short_date, user_text

# How much of one answer field the digest quotes; the full text stays in the database.
DIGEST_QUOTE_MAX = 300
DEEP_LINK_PREFIX = "ci_"
# The round's token in a deep link under a prompt or reminder (any copy of it): https://t.me/<bot>?start=ci_<token>
DEEP_LINK_TOKEN = re.compile(rf"[?&]start={DEEP_LINK_PREFIX}([A-Za-z0-9_-]+)")


# ---- texts ---------------------------------------------------------------------------------------------


def zone_label(timezone: str) -> str:
    """The offered zones by their city, in the current language; any other by its IANA name."""
    labels = {MOSCOW: _("Moscow"), NEW_YORK: _("New York"), LOS_ANGELES: _("Los Angeles")}
    return labels.get(timezone, timezone)


def day_name(weekday: int, locale: str, capitalized: bool = False) -> str:
    """As the language writes it inside a sentence ("Monday", "понедельник"), or capitalized for a button."""
    name = get_day_names("wide", context="format", locale=locale)[weekday]
    return name[:1].upper() + name[1:] if capitalized else name


def weekly_time_lines(when: WeeklyTime, locale: str, now: datetime) -> list[str]:
    """The chosen day and time in its zone, then in Moscow and New York (for the overlap)."""
    moment = next_occurrence(when, now)
    lines = [
        _("📅 Weekly on {day}, {time} ({zone})").format(
            day=day_name(when.weekday, locale),
            time=format_time(moment.astimezone(when.zone), "short", locale=locale),
            zone=user_text(zone_label(when.timezone)),
        )
    ]
    for zone in OVERLAP_ZONES:
        local = moment.astimezone(ZoneInfo(zone))
        lines.append(
            _("🕒 {zone}: {day}, {time}").format(
                zone=zone_label(zone),
                day=day_name(local.weekday(), locale),
                time=format_time(local, "short", locale=locale),
            )
        )
    return lines


def hours_text(hours: int) -> str:
    return ngettext("{count} hour", "{count} hours", hours).format(count=hours)


def deep_link(username: str, token: str) -> str:
    return f"https://t.me/{username}?start={DEEP_LINK_PREFIX}{token}"


def token_in(message: Message) -> str | None:
    """The round token a bot message carries in its deep-link button (or a link in its text), if any."""
    urls = [
        button.url
        for row in (message.reply_markup.inline_keyboard if message.reply_markup else [])
        for button in row
        if button.url
    ]
    urls += [entity.url for entity in message.entities or [] if entity.url]
    urls.append(message.text or "")
    for url in urls:
        match = DEEP_LINK_TOKEN.search(url)
        if match:
            return match.group(1)
    return None


def answer_button(username: str, token: str) -> InlineKeyboardMarkup:
    """Under the reminder: the same way in as the prompt's, so a reply to any copy of it finds its round too."""
    b = ButtonGrid()
    b.button(text=_("✍️ Answer in private"), url=deep_link(username, token))
    return b.as_markup()


def prompt_message(
    partner_name: str, token: str, digest_hours: int, shared_doc: str | None, username: str
) -> tuple[str, InlineKeyboardMarkup]:
    """The weekly prompt and its buttons, in the current locale."""
    lines = [
        _("🗓 <b>Weekly check-in — {partner}</b>").format(partner=user_text(partner_name)),
        "",
        _("Reply to this message, a line for each question:"),
        _("1. What shipped?"),
        _("2. What's next?"),
        _("3. Blockers?"),
        _("4. Do we need a call? (yes/no)"),
        "",
        _("Or tap the button to answer in a private chat with me. The digest comes in {hours}.").format(
            hours=hours_text(digest_hours)
        ),
    ]
    b = ButtonGrid()
    b.button(text=_("✍️ Answer in private"), url=deep_link(username, token))
    if shared_doc:
        b.button(text=_("📄 Shared doc"), url=shared_doc)
    b.adjust(1)
    return "\n".join(lines), b.as_markup()


def reminder_text(answered: int, expected: int) -> str:
    """Halfway to the digest: one gentle nudge to everyone, nobody tagged."""
    if expected:
        progress = _("{answered} of {expected} have answered so far.").format(answered=answered, expected=expected)
    else:
        progress = ngettext("{count} answer so far.", "{count} answers so far.", answered).format(count=answered)
    return _(
        "⏰ Halfway to the digest. {progress} If you haven't yet, reply to the check-in above or use its button — "
        "a line or two is enough."
    ).format(progress=progress)


def _names(entries: list[RosterEntry]) -> str:
    return ", ".join(user_text(e.name) for e in entries)


def _quote(text: str | None) -> str:
    return user_text(" ".join((text or "").split()), DIGEST_QUOTE_MAX)


def digest_parts(
    partner_name: str,
    occurrence: datetime,
    entries: list[RosterEntry],
    answers: list[StoredAnswer],
    shared_doc: str | None,
    locale: str,
    final: bool,
) -> list[str]:
    """The digest in messages under Telegram's limit: who answered, who did not, blockers, a call if asked."""
    answered = [e for e in entries if e.status is MemberStatus.ANSWERED]
    missing = [e for e in entries if e.status is MemberStatus.MISSING]
    away = [e for e in entries if e.status is MemberStatus.AWAY]
    title = (
        _("📋 <b>Check-in digest — {partner}</b>, {date}")
        if final
        else _("📋 <b>Check-in so far — {partner}</b>, {date}")
    )
    lines = [title.format(partner=user_text(partner_name), date=short_date(occurrence, locale)), ""]
    expected = len(answered) + len(missing)
    if answered:
        lines.append(
            _("✅ Answered ({count} of {expected}): {names}").format(
                count=len(answered), expected=expected, names=_names(answered)
            )
        )
    else:
        lines.append(_("✅ Nobody has answered yet.") if not final else _("✅ Nobody answered this week."))
    if missing:
        label = _("⏳ No answer from: {names}") if final else _("⏳ Not yet: {names}")
        lines.append(label.format(names=_names(missing)))
    if away:
        lines.append(_("🌴 Away: {names}").format(names=_names(away)))
    if answers:
        lines += ["", _("<b>Updates</b>")]
        for item in answers:
            parts = []
            if item.answer.shipped:
                parts.append(_("shipped: {text}").format(text=_quote(item.answer.shipped)))
            if item.answer.next:
                parts.append(_("next: {text}").format(text=_quote(item.answer.next)))
            summary = "; ".join(parts) if parts else _("no details")
            lines.append(f"• <b>{user_text(item.name)}</b> — {summary}")
    blockers = [item for item in answers if item.answer.blockers]
    lines.append("")
    if blockers:
        lines.append(_("🚧 <b>Blockers</b>"))
        lines += [f"• {user_text(item.name)}: {_quote(item.answer.blockers)}" for item in blockers]
    elif answers:
        lines.append(_("🚧 No blockers reported."))
    callers = [item for item in answers if item.answer.needs_call]
    if callers:
        lines += [
            "",
            _(
                "📞 {names} asked for a call. Worth booking a short sync this week — async stays the default."
            ).format(names=", ".join(user_text(item.name) for item in callers)),
        ]
    if shared_doc:
        lines += ["", _('📄 <a href="{url}">Shared doc</a>').format(url=html.escape(shared_doc, quote=True))]
    while lines and not lines[-1]:
        lines.pop()
    return split_html_lines("\n".join(lines))


def health_lines(health: CommunicationHealth | None, locale: str) -> list[str]:
    """Communication health for the partner card (current locale for words, `locale` for numbers)."""
    if health is None:
        return []
    rate = (
        format_percent(health.answer_rate, locale=locale) if health.answer_rate is not None else _("no answers due")
    )
    delay = (
        format_timedelta(health.median_delay, threshold=1.1, locale=locale)
        if health.median_delay is not None
        else "—"
    )
    lines = [
        ngettext(
            "📡 Check-ins (last {count} round): answer rate {rate}, median answer time {delay}",
            "📡 Check-ins (last {count} rounds): answer rate {rate}, median answer time {delay}",
            health.rounds,
        ).format(count=health.rounds, rate=rate, delay=delay)
    ]
    if health.gap:
        lines.append(
            ngettext(
                "⚠️ The partner's side missed {count} check-in in a row: a communication gap.",
                "⚠️ The partner's side missed {count} check-ins in a row: a communication gap.",
                health.missed_in_a_row,
            ).format(count=health.missed_in_a_row)
        )
    return lines


def stopped_notice(title: str | None, partner_name: str) -> str:
    return _(
        "🔕 I was removed from the group <b>{group}</b>, so the weekly check-in with <b>{partner}</b> has stopped. "
        "Add me back and send /checkin there to restart it."
    ).format(group=user_text(title or "—"), partner=user_text(partner_name))


def summary_lines(schedule: Schedule | NewSchedule, partner_name: str, locale: str, now: datetime) -> list[str]:
    lines = [_("🤝 Partner: <b>{partner}</b>").format(partner=user_text(partner_name))]
    lines += weekly_time_lines(schedule.when, locale, now)
    lines.append(_("📋 Digest: {hours} after the prompt").format(hours=hours_text(schedule.digest_hours)))
    if schedule.shared_doc:
        lines.append(_("📄 Shared doc: {url}").format(url=user_text(schedule.shared_doc)))
    return lines
