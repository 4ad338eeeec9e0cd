"""/export: the workspace's records as sheets — one .xlsx workbook and the same as a zip of CSV files.

`collect_sheets` reads through the caller's workspace (bot/storage/exports.py) and names the columns in the caller's
language (it runs in the handler, where the locale is set); `to_xlsx` and `to_csv_zip` are pure and run in a worker
thread. The CSV files use the delimiter the caller's Excel expects (`;` in Russian, `,` in English), and no cell of
them runs as a formula whichever delimiter a spreadsheet splits on (`csv_safe`).
Creators who gave references are never identified: no respondent key, no link label, no Telegram id.
Scorecards follow blind scoring: a partner's ratings are exported only to someone who has scored it too.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiogram.utils.i18n import gettext as _

from bot import labels
from bot.domain.campaigns import Decision, EventKind, ProblemKind, Recommendation, RecReason
from bot.domain.evidence import Outcome
from bot.domain.gutcheck import GUT_QUESTIONS
from bot.domain.partners import Market, MarketCoverage, PartnerKind, Stage
from bot.domain.references import DIMENSIONS, Again, Duration
from bot.domain.scorecard import CRITERIA
from bot.domain.text import strip_bidi
from bot.storage.db import Database
from bot.storage.exports import ExportRepo
from bot.views import debrief_texts
from bot.views.partner_card import again_label, dimension_label, duration_label

Cell = str | int | float | None

SHEET_TITLE_MAX = 31  # Excel's limit on a sheet name
_SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")
# Characters a spreadsheet cell cannot hold (openpyxl refuses them); typed text never should have them.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# A spreadsheet cell starting with one of these runs as a formula (OWASP, "CSV Injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Where a spreadsheet reading the CSV may start a new cell inside one of ours: at either delimiter (Excel splits on
# its locale's list separator — `;` with Russian settings, `,` with English — whichever the file was written with),
# and at a line end (quotes only hold a cell together when they open it, so a reader that splits elsewhere breaks
# the row at a newline inside one).
_CELL_BREAK = re.compile(r"[,;\r\n]")
# What makes a cell need quotes: either delimiter, a quote, a line end.
_NEEDS_QUOTES = re.compile(r'[,;"\r\n]')
# The delimiter Excel expects in the reader's language; a language not listed gets commas.
CSV_DELIMITERS = {"ru": ";", "en": ","}


@dataclass
class Sheet:
    key: str  # ASCII name of the CSV file
    title: str  # the sheet's name in the caller's language
    headers: list[str]
    rows: list[list[Cell]] = field(default_factory=list)


def _when(value: str | None) -> str | None:
    """ISO timestamps as "2026-11-24 09:00" (UTC); plain dates stay as they are."""
    if not value:
        return None
    if "T" not in value:
        return value
    return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M")


def _yes_no(value: object) -> str:
    return _("yes") if value else _("no")


def _named(translate: Callable[[Any], str], kind: Callable[[str], Any]) -> Callable[[str | None], str | None]:
    """A code → its translated name; a code this version does not know is exported as it is."""

    def name(value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return translate(kind(value))
        except (KeyError, ValueError):
            return value

    return name


async def collect_sheets(db: Database, workspace_id: int, viewer_id: int) -> list[Sheet]:
    """Every entity of the workspace, one sheet each, headers in the current language."""
    stage = _named(labels.stage, Stage)
    kind = _named(labels.kind, PartnerKind)
    coverage = _named(labels.coverage, MarketCoverage)
    market = _named(labels.market, Market)
    outcome = _named(labels.outcome, Outcome)
    event = _named(labels.event, EventKind)
    problem = _named(debrief_texts.problem, ProblemKind)
    recommendation = _named(debrief_texts.recommendation, Recommendation)
    decision = _named(debrief_texts.decision, Decision)
    reason = _named(debrief_texts.reason, RecReason)
    again = _named(again_label, Again)
    stored = ExportRepo(db)
    partner_cols = [_("Partner ID"), _("Partner")]
    sheets: list[Sheet] = []

    partners = Sheet("partners", _("Partners"), [
        _("Partner ID"), _("Name"), _("Kind"), _("Markets"), _("Stage"), _("Archived"), _("Contact"), _("Links"),
        _("Shared doc"), _("Talked about their failures"), _("Has a systematic process"),
        _("Asked about our constraints"), _("Added by"), _("Added on"), _("Updated on"),
    ])
    for p in await stored.partners(workspace_id):
        partners.rows.append([
            p.id, p.name, kind(p.kind), coverage(p.markets), stage(p.stage), _yes_no(p.archived), p.contact,
            "\n".join(p.links), p.shared_doc, _yes_no(p.talked_failures), _yes_no(p.systematic_process),
            _yes_no(p.asked_constraints), p.author, _when(p.created_at), _when(p.updated_at),
        ])
    sheets.append(partners)

    cases = Sheet("case_studies", _("Case studies"), [
        _("ID"), *partner_cols, _("Market"), _("Brand"), _("Outcome"), _("Months with the brand"), _("Link"),
        _("Added by"), _("Added on"),
    ])
    for c in await stored.case_studies(workspace_id):
        cases.rows.append([
            c.id, c.partner_id, c.partner, market(c.market), c.brand, outcome(c.outcome), c.months, c.link, c.author,
            _when(c.created_at),
        ])
    sheets.append(cases)

    testimonials = Sheet("testimonials", _("Testimonials"), [
        _("ID"), *partner_cols, _("Text"), _("Author"), _("Added by"), _("Added on"),
    ])
    for t in await stored.testimonials(workspace_id):
        testimonials.rows.append([t.id, t.partner_id, t.partner, t.text, t.author, t.adder, _when(t.created_at)])
    sheets.append(testimonials)

    community = Sheet("community", _("Community"), [
        _("ID"), *partner_cols, _("Text"), _("Link"), _("Added by"), _("Added on"),
    ])
    for a in await stored.community(workspace_id):
        community.rows.append([a.id, a.partner_id, a.partner, a.text, a.link, a.adder, _when(a.created_at)])
    sheets.append(community)

    gut = Sheet("gut_checks", _("Gut checks"), [
        _("ID"), *partner_cols, *(labels.gut_question(q) for q in GUT_QUESTIONS), _("Passed"), _("Note"),
        _("Run by"), _("Date"),
    ])
    for g in await stored.gut_checks(workspace_id):
        gut.rows.append([
            g.id, g.partner_id, g.partner, _yes_no(g.understands_ugc), _yes_no(g.knows_both_markets),
            _yes_no(g.asked_good_questions), _yes_no(g.passed), g.note, g.runner, _when(g.created_at),
        ])
    sheets.append(gut)

    scorecards = Sheet("scorecards", _("Scorecards"), [
        _("ID"), *partner_cols, _("Rater"), *(labels.criterion(c) for c in CRITERIA), _("Weighted total"), _("Date"),
    ])
    for s in await stored.scorecards(workspace_id, viewer_id):
        scorecards.rows.append([
            s.id, s.partner_id, s.partner, s.rater, *(s.ratings.get(c.value) for c in CRITERIA), round(s.total, 2),
            _when(s.created_at),
        ])
    sheets.append(scorecards)

    campaigns = Sheet("campaigns", _("Campaigns"), [
        _("Campaign ID"), *partner_cols, _("Rung"), _("Creators"), _("Deliverable"), _("Start"), _("Days"),
        _("Due"), _("Success metrics"), _("Metrics agreed before the start"), _("Payment terms"),
        _("Revision limit"), _("Creators' market"), _("What success looks like"), _("Acceptable failure"),
        _("When we renegotiate"), _("Manager"), _("Status"), _("Created on"),
    ])
    for c in await stored.campaigns(workspace_id):
        status = _("debriefed") if c.status == "debriefed" else _("running")
        campaigns.rows.append([
            c.id, c.partner_id, c.partner, c.rung, c.creators, c.deliverable, c.start_date, c.days, c.due_date,
            c.metrics, _yes_no(c.metrics_agreed), c.payment_terms, c.revision_limit, coverage(c.creators_market),
            c.charter_success, c.charter_failure, c.charter_renegotiate, c.manager, status, _when(c.created_at),
        ])
    sheets.append(campaigns)

    events = Sheet("events", _("Events"), [
        _("ID"), *partner_cols, _("Campaign ID"), _("Event"), _("Note"), _("Source"), _("Logged by"), _("Date"),
    ])
    for e in await stored.events(workspace_id):
        source = _("weekly check-in") if e.source == "checkin" else _("manager")
        events.rows.append([
            e.id, e.partner_id, e.partner, e.campaign_id, event(e.kind), e.note, source, e.author, _when(e.created_at),
        ])
    sheets.append(events)

    debriefs = Sheet("debriefs", _("Debriefs"), [
        _("Campaign ID"), *partner_cols, _("What worked"), _("What didn't"), _("Problem"), _("Quality (1–5)"),
        _("Recommendation"), _("Reasons"), _("Decision"), _("Why the decision differs"), _("Decided by"), _("Date"),
    ])
    for d in await stored.debriefs(workspace_id):
        reasons = "; ".join(str(reason(code)) for code in d.reasons)
        debriefs.rows.append([
            d.campaign_id, d.partner_id, d.partner, d.what_worked, d.what_didnt, problem(d.problem), d.quality,
            recommendation(d.recommendation), reasons, decision(d.decision), d.override_reason, d.decider,
            _when(d.created_at),
        ])
    sheets.append(debriefs)

    answers_given = await stored.reference_answers(workspace_id)
    if answers_given is not None:
        references = Sheet("references", _("References"), [
            _("Answer ID"), *partner_cols, _("Worked with the partner"), _("Months, as typed"), _("Creator's market"),
            *(header for d in DIMENSIONS for header in (dimension_label(d), _("{dimension}: comment").format(
                dimension=dimension_label(d)))),
            _("Would work with them again"), _("Anything else"), _("Language"), _("Answered on"),
            _("Implausibly fast"),
        ])
        # Only the answers: no respondent key, link or label — nothing that identifies the creator.
        for a in answers_given:
            references.rows.append([
                a.id, a.partner_id, a.partner, duration_label(Duration(a.worked_range)), a.worked_months,
                coverage(a.market), *(value for d in DIMENSIONS for value in (a.ratings[d], a.comments[d])),
                again(a.again), a.anything_else, a.locale, _when(a.finished_at), _yes_no(a.too_fast),
            ])
        sheets.append(references)

    stored_rounds = await stored.checkin_rounds(workspace_id)
    if stored_rounds is not None:
        rounds = Sheet("checkin_rounds", _("Check-in rounds"), [
            _("Round ID"), *partner_cols, _("Group"), _("Scheduled for"), _("Status"), _("Sent"), _("Closed"),
            _("Expected to answer"), _("Answered"), _("Away"),
        ])
        for r in stored_rounds:
            closed = r.status == "closed"
            status = {
                "sending": _("being sent"), "open": _("open"), "failed": _("not delivered"), "closed": _("closed"),
            }.get(r.status, r.status)
            rounds.rows.append([
                r.id, r.partner_id, r.partner, r.chat_title, _when(r.occurrence), status, _when(r.sent_at),
                _when(r.closed_at), r.expected if closed else None, r.answered if closed else None,
                r.away if closed else None,
            ])
        sheets.append(rounds)

    stored_answers = await stored.checkin_answers(workspace_id)
    if stored_answers is not None:
        answers = Sheet("checkin_answers", _("Check-in answers"), [
            _("Round ID"), *partner_cols, _("Name"), _("Shipped"), _("Next"), _("Blockers"), _("Needs a call"),
            _("Answered on"),
        ])
        for a in stored_answers:
            answers.rows.append([
                a.round_id, a.partner_id, a.partner, a.name, a.shipped, a.next_steps, a.blockers,
                _yes_no(a.needs_call), _when(a.answered_at),
            ])
        sheets.append(answers)
    return sheets


# ---- files -----------------------------------------------------------------------------------------------


def _clean(value: Cell) -> Cell:
    """Text as a spreadsheet may hold it: no characters XML forbids, no bidi controls (a name saved before they were
    refused could still carry a right-to-left override, and a teammate reads the file)."""
    return strip_bidi(_ILLEGAL.sub("", value)) if isinstance(value, str) else value


def sheet_titles(sheets: Sequence[Sheet]) -> list[str]:
    """Sheet names Excel accepts: no []:*?/\\, at most 31 characters, unique."""
    titles: list[str] = []
    for sheet in sheets:
        base = _SHEET_TITLE_BAD.sub(" ", sheet.title).strip()[:SHEET_TITLE_MAX] or sheet.key[:SHEET_TITLE_MAX]
        title, number = base, 2
        while title.casefold() in {t.casefold() for t in titles}:
            suffix = f" {number}"
            title, number = base[: SHEET_TITLE_MAX - len(suffix)] + suffix, number + 1
        titles.append(title)
    return titles


def to_xlsx(sheets: Sequence[Sheet]) -> bytes:
    """One workbook, a sheet per entity; text stays text (a value starting with = is never a formula)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    for sheet, title in zip(sheets, sheet_titles(sheets), strict=True):
        page = book.create_sheet(title)
        page.append(sheet.headers)
        for cell in page[1]:
            cell.font = Font(bold=True)
        for row in sheet.rows:
            page.append([_clean(value) for value in row])
        for line in page.iter_rows(min_row=2):
            for cell in line:
                if cell.data_type == "f":  # typed text that looks like a formula
                    cell.data_type = "s"
        page.freeze_panes = "A2"
        for index, header in enumerate(sheet.headers, 1):
            longest = max([len(str(header)), *(len(str(row[index - 1] or "")) for row in sheet.rows[:200])])
            page.column_dimensions[get_column_letter(index)].width = min(max(10, longest + 2), 60)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_delimiter(locale: str) -> str:
    """`;` for Russian (Excel with Russian settings splits on it and shows a comma CSV as one column), else `,`."""
    return CSV_DELIMITERS.get(locale, ",")


def csv_safe(value: Cell) -> Cell:
    """Text no spreadsheet runs as a formula, whichever delimiter it splits on: wherever a cell may start — at the
    start, and after each `,`, `;` or line end — an apostrophe goes in front of what looks like a formula
    (`=1+1` → `'=1+1`, `safe;=1+1` → `safe;'=1+1`). Quotes there do not protect (a reader unquotes `""=1` to `=1`),
    so they are looked past. Numbers are not text and stay as they are."""
    if not isinstance(value, str):
        return value
    starts = [0, *(match.end() for match in _CELL_BREAK.finditer(value))]
    parts, done = [], 0
    for start in starts:
        after_quotes = start
        while value.startswith('"', after_quotes):
            after_quotes += 1
        if value.startswith(_FORMULA_START, after_quotes):
            parts += [value[done:start], "'"]
            done = start
    return "".join([*parts, value[done:]])


def _csv_field(value: Cell) -> str:
    text = "" if value is None else str(value)
    if _NEEDS_QUOTES.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def to_csv(sheet: Sheet, delimiter: str = ",") -> str:
    """One sheet as CSV text: cells made safe, quoted when they hold either delimiter, a quote or a line end (so a
    reader that splits on the other delimiter still keeps the first cell of a row whole), rows ended by CRLF."""
    lines = []
    for row in (sheet.headers, *sheet.rows):
        lines.append(delimiter.join(_csv_field(csv_safe(_clean(value))) for value in row) + "\r\n")
    return "".join(lines)


def to_csv_zip(sheets: Sequence[Sheet], delimiter: str = ",") -> bytes:
    """A zip with one CSV per sheet, UTF-8 with a BOM so Excel reads Cyrillic correctly; `delimiter` as the reader's
    Excel expects it (`csv_delimiter`)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for number, sheet in enumerate(sheets, 1):
            archive.writestr(f"{number:02d}-{sheet.key}.csv", to_csv(sheet, delimiter).encode("utf-8-sig"))
    return buffer.getvalue()
