"""/export: the workspace's records as sheets — one .xlsx workbook and the same as a zip of CSV files.

`collect_sheets` reads through the caller's workspace and names the columns in the caller's language (it runs
in the handler, where the locale is set); `to_xlsx` and `to_csv_zip` are pure and run in a worker thread. The CSV
files use the delimiter the caller's Excel expects (`;` in Russian, `,` in English), and no cell of them runs as a
formula whichever delimiter a spreadsheet splits on (`csv_safe`).
Creators who gave references are never identified: no respondent key, no link label, no Telegram id.
Scorecards follow blind scoring: a partner's ratings are exported only to someone who has scored it too.
"""

from __future__ import annotations

import io
import json
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


async def _table_exists(db: Database, table: str) -> bool:
    return bool(await db.fetchval("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)))


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
    ws = (workspace_id,)
    partner_cols = [_("Partner ID"), _("Partner")]
    sheets: list[Sheet] = []

    partners = Sheet("partners", _("Partners"), [
        _("Partner ID"), _("Name"), _("Kind"), _("Markets"), _("Stage"), _("Archived"), _("Contact"), _("Links"),
        _("Shared doc"), _("Talked about their failures"), _("Has a systematic process"),
        _("Asked about our constraints"), _("Added by"), _("Added on"), _("Updated on"),
    ])
    for r in await db.fetchall(
        "SELECT p.*, u.display_name AS author FROM partners p LEFT JOIN users u ON u.id = p.created_by "
        "WHERE p.workspace_id = ? ORDER BY p.name_key, p.id", ws
    ):
        partners.rows.append([
            r["id"], r["name"], kind(r["kind"]), coverage(r["markets"]), stage(r["stage"]), _yes_no(r["archived"]),
            r["contact"], "\n".join(json.loads(r["links"] or "[]")), r["shared_doc"], _yes_no(r["talked_failures"]),
            _yes_no(r["systematic_process"]), _yes_no(r["asked_constraints"]), r["author"], _when(r["created_at"]),
            _when(r["updated_at"]),
        ])
    sheets.append(partners)

    in_workspace = "JOIN partners p ON p.id = x.partner_id AND p.workspace_id = ?"
    cases = Sheet("case_studies", _("Case studies"), [
        _("ID"), *partner_cols, _("Market"), _("Brand"), _("Outcome"), _("Months with the brand"), _("Link"),
        _("Added by"), _("Added on"),
    ])
    for r in await db.fetchall(
        f"SELECT x.*, p.name AS partner, u.display_name AS author FROM case_studies x {in_workspace} "
        "LEFT JOIN users u ON u.id = x.added_by ORDER BY p.name_key, x.id", ws
    ):
        cases.rows.append([
            r["id"], r["partner_id"], r["partner"], market(r["market"]), r["brand"], outcome(r["outcome"]),
            r["months"], r["link"], r["author"], _when(r["created_at"]),
        ])
    sheets.append(cases)

    testimonials = Sheet("testimonials", _("Testimonials"), [
        _("ID"), *partner_cols, _("Text"), _("Author"), _("Added by"), _("Added on"),
    ])
    for r in await db.fetchall(
        f"SELECT x.*, p.name AS partner, u.display_name AS adder FROM testimonials x {in_workspace} "
        "LEFT JOIN users u ON u.id = x.added_by ORDER BY p.name_key, x.id", ws
    ):
        testimonials.rows.append([
            r["id"], r["partner_id"], r["partner"], r["text"], r["author"], r["adder"], _when(r["created_at"]),
        ])
    sheets.append(testimonials)

    community = Sheet("community", _("Community"), [
        _("ID"), *partner_cols, _("Text"), _("Link"), _("Added by"), _("Added on"),
    ])
    for r in await db.fetchall(
        f"SELECT x.*, p.name AS partner, u.display_name AS adder FROM community_activities x {in_workspace} "
        "LEFT JOIN users u ON u.id = x.added_by ORDER BY p.name_key, x.id", ws
    ):
        community.rows.append([
            r["id"], r["partner_id"], r["partner"], r["text"], r["link"], r["adder"], _when(r["created_at"]),
        ])
    sheets.append(community)

    gut = Sheet("gut_checks", _("Gut checks"), [
        _("ID"), *partner_cols, *(labels.gut_question(q) for q in GUT_QUESTIONS), _("Passed"), _("Note"),
        _("Run by"), _("Date"),
    ])
    for r in await db.fetchall(
        f"SELECT x.*, p.name AS partner, u.display_name AS runner FROM gut_checks x {in_workspace} "
        "LEFT JOIN users u ON u.id = x.run_by ORDER BY p.name_key, x.id", ws
    ):
        gut.rows.append([
            r["id"], r["partner_id"], r["partner"], _yes_no(r["understands_ugc"]), _yes_no(r["knows_both_markets"]),
            _yes_no(r["asked_good_questions"]), _yes_no(r["passed"]), r["note"], r["runner"], _when(r["created_at"]),
        ])
    sheets.append(gut)

    scorecards = Sheet("scorecards", _("Scorecards"), [
        _("ID"), *partner_cols, _("Rater"), *(labels.criterion(c) for c in CRITERIA), _("Weighted total"), _("Date"),
    ])
    for r in await db.fetchall(
        f"SELECT x.*, p.name AS partner, u.display_name AS rater FROM scorecards x {in_workspace} "
        "LEFT JOIN users u ON u.id = x.rater_id "
        "WHERE EXISTS (SELECT 1 FROM scorecards own WHERE own.partner_id = x.partner_id AND own.rater_id = ?) "
        "ORDER BY p.name_key, x.id",
        (workspace_id, viewer_id),
    ):
        ratings = json.loads(r["ratings"])
        scorecards.rows.append([
            r["id"], r["partner_id"], r["partner"], r["rater"],
            *(ratings.get(c.value) for c in CRITERIA), round(r["total"], 2), _when(r["created_at"]),
        ])
    sheets.append(scorecards)

    campaigns = Sheet("campaigns", _("Campaigns"), [
        _("Campaign ID"), *partner_cols, _("Rung"), _("Creators"), _("Deliverable"), _("Start"), _("Days"),
        _("Due"), _("Success metrics"), _("Metrics agreed before the start"), _("Payment terms"),
        _("Revision limit"), _("Creators' market"), _("What success looks like"), _("Acceptable failure"),
        _("When we renegotiate"), _("Manager"), _("Status"), _("Created on"),
    ])
    for r in await db.fetchall(
        f"SELECT x.*, p.name AS partner, u.display_name AS manager FROM campaigns x {in_workspace} "
        "LEFT JOIN users u ON u.id = x.manager_id ORDER BY p.name_key, x.id", ws
    ):
        status = _("debriefed") if r["status"] == "debriefed" else _("running")
        campaigns.rows.append([
            r["id"], r["partner_id"], r["partner"], r["rung"], r["creators"], r["deliverable"], r["start_date"],
            r["days"], r["due_date"], r["metrics"], _yes_no(r["metrics_agreed"]), r["payment_terms"],
            r["revision_limit"], coverage(r["creators_market"]), r["charter_success"], r["charter_failure"],
            r["charter_renegotiate"], r["manager"], status, _when(r["created_at"]),
        ])
    sheets.append(campaigns)

    in_campaign = (
        "JOIN campaigns c ON c.id = x.campaign_id JOIN partners p ON p.id = c.partner_id AND p.workspace_id = ?"
    )
    events = Sheet("events", _("Events"), [
        _("ID"), *partner_cols, _("Campaign ID"), _("Event"), _("Note"), _("Source"), _("Logged by"), _("Date"),
    ])
    for r in await db.fetchall(
        f"SELECT x.*, p.id AS pid, p.name AS partner, u.display_name AS author FROM campaign_events x "
        f"{in_campaign} LEFT JOIN users u ON u.id = x.logged_by ORDER BY p.name_key, x.id", ws
    ):
        source = _("weekly check-in") if r["source"] == "checkin" else _("manager")
        events.rows.append([
            r["id"], r["pid"], r["partner"], r["campaign_id"], event(r["kind"]), r["note"], source, r["author"],
            _when(r["created_at"]),
        ])
    sheets.append(events)

    debriefs = Sheet("debriefs", _("Debriefs"), [
        _("Campaign ID"), *partner_cols, _("What worked"), _("What didn't"), _("Problem"), _("Quality (1–5)"),
        _("Recommendation"), _("Reasons"), _("Decision"), _("Why the decision differs"), _("Decided by"), _("Date"),
    ])
    for r in await db.fetchall(
        f"SELECT x.*, p.id AS pid, p.name AS partner, u.display_name AS decider FROM debriefs x {in_campaign} "
        "LEFT JOIN users u ON u.id = x.decided_by ORDER BY p.name_key, x.campaign_id", ws
    ):
        reasons = "; ".join(str(reason(code)) for code in json.loads(r["reasons"] or "[]"))
        debriefs.rows.append([
            r["campaign_id"], r["pid"], r["partner"], r["what_worked"], r["what_didnt"], problem(r["problem"]),
            r["quality"], recommendation(r["recommendation"]), reasons, decision(r["decision"]),
            r["override_reason"], r["decider"], _when(r["created_at"]),
        ])
    sheets.append(debriefs)

    if await _table_exists(db, "reference_answers"):
        references = Sheet("references", _("References"), [
            _("Answer ID"), *partner_cols, _("Worked with the partner"), _("Months, as typed"), _("Creator's market"),
            *(header for d in DIMENSIONS for header in (dimension_label(d), _("{dimension}: comment").format(
                dimension=dimension_label(d)))),
            _("Would work with them again"), _("Anything else"), _("Language"), _("Answered on"),
            _("Implausibly fast"),
        ])
        # Only the answers: no respondent key, link or label — nothing that identifies the creator.
        for r in await db.fetchall(
            f"SELECT x.*, p.name AS partner FROM reference_answers x {in_workspace} ORDER BY p.name_key, x.id", ws
        ):
            references.rows.append([
                r["id"], r["partner_id"], r["partner"], duration_label(Duration(r["worked_range"])), r["worked_months"],
                coverage(r["market"]),
                *(value for d in DIMENSIONS for value in (r[d.value], r[f"{d.value}_comment"])),
                again(r["again"]), r["anything_else"], r["locale"], _when(r["finished_at"]), _yes_no(r["too_fast"]),
            ])
        sheets.append(references)

    if await _table_exists(db, "checkin_rounds"):
        rounds = Sheet("checkin_rounds", _("Check-in rounds"), [
            _("Round ID"), *partner_cols, _("Group"), _("Scheduled for"), _("Status"), _("Sent"), _("Closed"),
            _("Expected to answer"), _("Answered"), _("Away"),
        ])
        for r in await db.fetchall(
            "SELECT x.*, p.name AS partner, ch.title AS chat_title, "
            "(SELECT COUNT(*) FROM checkin_round_members m WHERE m.round_id = x.id AND m.status != 'away') "
            "AS expected, "
            "(SELECT COUNT(*) FROM checkin_round_members m WHERE m.round_id = x.id AND m.status = 'answered') "
            "AS answered, "
            "(SELECT COUNT(*) FROM checkin_round_members m WHERE m.round_id = x.id AND m.status = 'away') AS away "
            "FROM checkin_rounds x JOIN checkin_schedules s ON s.id = x.schedule_id "
            "JOIN partners p ON p.id = x.partner_id AND p.workspace_id = ? "
            "LEFT JOIN chats ch ON ch.id = s.chat_id ORDER BY x.id",
            ws,
        ):
            closed = r["status"] == "closed"
            status = {
                "sending": _("being sent"), "open": _("open"), "failed": _("not delivered"), "closed": _("closed"),
            }.get(r["status"], r["status"])
            rounds.rows.append([
                r["id"], r["partner_id"], r["partner"], r["chat_title"], _when(r["occurrence"]), status,
                _when(r["sent_at"]), _when(r["closed_at"]), r["expected"] if closed else None,
                r["answered"] if closed else None, r["away"] if closed else None,
            ])
        sheets.append(rounds)

    if await _table_exists(db, "checkin_answers"):
        answers = Sheet("checkin_answers", _("Check-in answers"), [
            _("Round ID"), *partner_cols, _("Name"), _("Shipped"), _("Next"), _("Blockers"), _("Needs a call"),
            _("Answered on"),
        ])
        for r in await db.fetchall(
            "SELECT x.*, p.id AS pid, p.name AS partner FROM checkin_answers x "
            "JOIN checkin_rounds cr ON cr.id = x.round_id "
            "JOIN partners p ON p.id = cr.partner_id AND p.workspace_id = ? ORDER BY x.round_id, x.answered_at",
            ws,
        ):
            answers.rows.append([
                r["round_id"], r["pid"], r["partner"], r["name"], r["shipped"], r["next_steps"], r["blockers"],
                _yes_no(r["needs_call"]), _when(r["answered_at"]),
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
