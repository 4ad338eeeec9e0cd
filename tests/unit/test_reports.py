"""Report pictures (texts checked before rendering, PNG size), exports, and the generic personal-data eraser."""

from __future__ import annotations

import csv
import io
import re
import struct
import zipfile
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.domain.next_step import NextAction, NextStep, Reason
from bot.domain.partners import Stage
from bot.domain.references import Dimension
from bot.domain.scorecard import Criterion, ScoreGroup
from bot.i18n import create_i18n
from bot.reports import charts, data, texts
from bot.reports.data import (
    CampaignPoint,
    FunnelStep,
    Missing,
    PartnerReport,
    PortfolioPartner,
    PortfolioReport,
    WeekRate,
    weekly_rates,
)
from bot.reports.export import Sheet, sheet_titles, to_csv_zip, to_xlsx
from bot.storage.db import connect
from bot.storage.personal_data import erase_user, fsm_key_names, plan_deletion, user_columns
from bot.storage.respondents import RespondentKeys

NOW = datetime(2026, 11, 24, 9, tzinfo=UTC)
CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def i18n():
    return create_i18n("en")


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, after checking the PNG signature."""
    assert data[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    return struct.unpack(">II", data[16:24])


def full_report(name: str = "Мост Media") -> PartnerReport:
    return PartnerReport(
        name=name,
        stage=Stage.RUNG2,
        next_step=NextStep(NextAction.SCOPE_CAMPAIGN, Reason.NO_CAMPAIGN),
        score_by_group={ScoreGroup.OPERATIONAL: 3.7, ScoreGroup.CULTURAL: 4.0, ScoreGroup.MARKET: 4.3},
        workspace_by_group={ScoreGroup.OPERATIONAL: 3.1, ScoreGroup.CULTURAL: 3.5, ScoreGroup.MARKET: 3.0},
        workspace_partners=3,
        references={d: 4.0 for d in Dimension},
        reference_count=2,
        again_yes=1,
        campaigns=(CampaignPoint(1, 1, 3), CampaignPoint(2, 2, 4), CampaignPoint(3, 2, 5)),
        weeks=(WeekRate(date(2026, 11, 2), 3, 4), WeekRate(date(2026, 11, 9), 4, 4)),
    )


def empty_report() -> PartnerReport:
    return PartnerReport("Nord", Stage.CANDIDATE, NextStep(NextAction.ADD_CASE_STUDIES, Reason.NO_EVIDENCE))


def test_partner_picture_speaks_russian_and_has_the_expected_size(i18n) -> None:
    report = full_report()
    with i18n.context(), i18n.use_locale("ru"):
        words = texts.partner_chart_text(report, "ru")
    figure = charts.partner_figure(report, words, "ru")
    shown = charts.figure_texts(figure)
    for expected in ("Оценочная карта по группам", "Качество кампаний по ступеням лестницы",
                     "Доля ответов на чек-ины по неделям", "Постоянство", "Пилот", "Ступень 2 (3 кампании)",
                     "Среднее по пространству (3 партнёра)", "Что говорят авторы (2 ответа)", "2 нояб."):
        assert any(expected in text for text in shown), (expected, shown)
    assert any(text.startswith("Следующий шаг:") for text in shown)
    # every word-bearing label is Russian: no English word of three letters or more is left
    english = [t for t in shown if LATIN_WORD.search(t.replace("Media", ""))]
    assert not english, english
    assert "3,7" in shown  # decimals in the Russian way
    assert png_size(charts.to_png(figure)) == charts.PARTNER_SIZE


def test_partner_picture_in_english(i18n) -> None:
    report = full_report("Nord Creators")
    with i18n.context(), i18n.use_locale("en"):
        words = texts.partner_chart_text(report, "en")
    shown = charts.figure_texts(charts.partner_figure(report, words, "en"))
    assert "Scorecard by group" in shown and "Cross-market savvy" in shown
    assert not [t for t in shown if CYRILLIC.search(t)]
    assert all(CYRILLIC.search(s) is None for s in words.all_strings())


def test_the_average_leaves_the_partner_out_and_needs_three_others() -> None:
    """Issue 16: a partner was compared with the "workspace average (1 partner)", itself."""
    ratings = {criterion: 4 for criterion in Criterion}
    me = 7
    cards = {1: {me: ratings}, 2: {me: ratings}, 3: {me: {c: 2 for c in Criterion}}, 4: {99: ratings}}
    assert data.workspace_average(cards, me, partner_id=1) == (None, 2)  # 2 and 3; 4 is not scored by me
    cards[5] = {me: {c: 3 for c in Criterion}}
    average, others = data.workspace_average(cards, me, partner_id=1)
    assert others == 3 and average is not None
    assert average == data.workspace_average({k: v for k, v in cards.items() if k != 1}, me, partner_id=0)[0]


@pytest.mark.parametrize(("locale", "words", "so_far"), [
    ("en", "that takes 3 other partners", "(1 so far)"), ("ru", "нужны 3 других партнёра", "(пока 1)"),
])
def test_a_score_without_enough_others_says_why_there_is_no_average(i18n, locale: str, words: str,
                                                                     so_far: str) -> None:
    report = replace(full_report(), workspace_by_group=None, workspace_partners=1)
    with i18n.context(), i18n.use_locale(locale):
        text = texts.partner_chart_text(report, locale)
    shown = " ".join(charts.figure_texts(charts.partner_figure(report, text, locale)))
    assert words in shown.replace("\n", " ") and so_far in shown.replace("\n", " ")
    with i18n.context(), i18n.use_locale(locale):
        compared = texts.partner_chart_text(full_report(), locale)
    assert compared.comparison_missing not in " ".join(charts.figure_texts(charts.partner_figure(full_report(),
                                                                                                   compared, locale)))


def test_a_partner_without_data_gets_the_what_is_missing_picture(i18n) -> None:
    report = empty_report()
    assert report.empty and report.missing == tuple(Missing)
    with i18n.context(), i18n.use_locale("ru"):
        words = texts.partner_chart_text(report, "ru")
        caption = texts.partner_caption(report)
    figure = charts.partner_figure(report, words, "ru")
    shown = "\n".join(charts.figure_texts(figure))
    assert "Nord: для отчёта пока мало данных" in shown
    assert "Этого партнёра ещё никто не оценил" in shown and "Отзывов пока нет" in shown
    assert "Еженедельных чек-инов пока нет" in shown
    assert all(not ax.axison for ax in figure.axes)  # words instead of empty axes
    assert "<b>Не хватает:</b>" in caption and len(caption) <= 1024
    assert png_size(charts.to_png(figure)) == charts.PARTNER_SIZE


def test_a_panel_without_data_says_what_is_missing(i18n) -> None:
    report = PartnerReport(**{**vars(full_report()), "references": None, "reference_count": 0, "weeks": ()})
    with i18n.context(), i18n.use_locale("en"):
        words = texts.partner_chart_text(report, "en")
    shown = "\n".join(charts.figure_texts(charts.partner_figure(report, words, "en")))
    assert "No reference answers yet" in shown and "No weekly check-in yet" in shown
    assert "Scorecard by group" in shown


def test_names_are_safe_on_a_chart_and_in_a_caption(i18n) -> None:
    report = full_report("$5 <b>Agency</b> " + "x" * 200)
    with i18n.context(), i18n.use_locale("en"):
        words = texts.partner_chart_text(report, "en")
        caption = texts.partner_caption(report)
    assert words.partner_legend.startswith(r"\$5") and len(words.partner_legend) <= texts.CHART_NAME_MAX + 1
    assert "&lt;b&gt;" in caption and len(caption) <= 1024
    charts.to_png(charts.partner_figure(report, words, "en"))  # renders without a maths parse error


def test_funnel_counts_how_far_each_partner_got() -> None:
    partners = (
        PortfolioPartner("a", Stage.CANDIDATE, False, 0, None, None),
        PortfolioPartner("b", Stage.READY_PILOT, True, 0, 3.5, None),
        PortfolioPartner("c", Stage.RUNG2, True, 2, 4.0, 0.9),
        PortfolioPartner("d", Stage.WALKED, True, 1, 2.0, 0.2),  # walked after the pilot
        PortfolioPartner("e", Stage.WALKED, False, 0, None, None),  # walked before any gut check passed
    )
    funnel = PortfolioReport(partners, checkins_exist=True).funnel()
    assert funnel == {
        FunnelStep.CANDIDATE: 5,
        FunnelStep.GUT_CHECK: 3,
        FunnelStep.PILOT: 2,
        FunnelStep.RUNG2: 1,
        FunnelStep.RUNG3: 0,
        FunnelStep.WALKED: 2,
    }


def test_portfolio_picture_says_when_check_in_data_is_absent(i18n) -> None:
    report = PortfolioReport((
        PortfolioPartner("Север", Stage.PILOT, True, 1, 3.4, None),
        PortfolioPartner("Nord", Stage.CANDIDATE, False, 0, None, None),
    ))
    with i18n.context(), i18n.use_locale("ru"):
        words = texts.portfolio_chart_text(report, "Acme")
    figure = charts.portfolio_figure(report, words, "ru")
    shown = "\n".join(charts.figure_texts(figure))
    assert "Данных чек-инов пока нет" in shown and "Воронка этапов" in shown and "Расстались" in shown
    assert png_size(charts.to_png(figure)) == charts.PORTFOLIO_SIZE


def test_portfolio_scatter_with_check_ins(i18n) -> None:
    report = PortfolioReport((
        PortfolioPartner("Север", Stage.PILOT, True, 1, 3.4, 0.75),
        PortfolioPartner("Nord", Stage.RUNG2, True, 2, 4.1, 0.5),
        PortfolioPartner("Solo", Stage.CANDIDATE, False, 0, None, None),
    ), checkins_exist=True)
    with i18n.context(), i18n.use_locale("en"):
        words = texts.portfolio_chart_text(report, "Acme")
    shown = charts.figure_texts(charts.portfolio_figure(report, words, "en"))
    assert "Север" in shown and "Nord" in shown and "Check-in answer rate, %" in shown
    assert any("Not shown: 1 partner without your score" in t for t in shown)


def test_weekly_rates_bucket_rounds_by_week() -> None:
    rounds = [
        ("2026-11-02T07:00:00+00:00", 2, 4),
        ("2026-11-05T07:00:00+00:00", 3, 4),  # same week: added up
        ("2026-11-09T07:00:00+00:00", 0, 0),  # nobody expected: no point
        ("2026-11-16T07:00:00+00:00", 1, 2),
    ]
    weeks = weekly_rates(rounds)
    assert [(w.week, w.answered, w.expected) for w in weeks] == [(date(2026, 11, 2), 5, 8), (date(2026, 11, 16), 1, 2)]
    assert weekly_rates(rounds, weeks=1)[0].rate == 0.5


def sample_sheets() -> list[Sheet]:
    return [
        Sheet("partners", "Партнёры", ["ID", "Имя"], [[1, "Агентство «Север»"], [2, "=HYPERLINK(\"x\")"]]),
        Sheet("case_studies", "Кейсы: США/РФ [тест]", ["ID", "Бренд"], [[1, "Ёлка, \"кавычки\"\nи строка"]]),
        Sheet("empty", "Партнёры", ["ID"], []),
    ]


def test_workbook_keeps_text_as_text_and_names_sheets_safely() -> None:
    book = load_workbook(io.BytesIO(to_xlsx(sample_sheets())))
    assert book.sheetnames == ["Партнёры", "Кейсы  США РФ  тест", "Партнёры 2"]
    rows = list(book["Партнёры"].iter_rows(values_only=True))
    assert rows == [("ID", "Имя"), (1, "Агентство «Север»"), (2, "=HYPERLINK(\"x\")")]
    assert book["Партнёры"]["B3"].data_type == "s"  # typed text is never a formula
    assert all(len(title) <= 31 for title in sheet_titles([Sheet("k", "Я" * 40, [])]))


def test_csv_zip_round_trips_cyrillic_with_a_bom() -> None:
    archive = zipfile.ZipFile(io.BytesIO(to_csv_zip(sample_sheets())))
    assert archive.namelist() == ["01-partners.csv", "02-case_studies.csv", "03-empty.csv"]
    raw = archive.read("02-case_studies.csv")
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows == [["ID", "Бренд"], ["1", "Ёлка, \"кавычки\"\nи строка"]]
    partners = list(csv.reader(io.StringIO(archive.read("01-partners.csv").decode("utf-8-sig"))))
    assert partners[2] == ["2", "'=HYPERLINK(\"x\")"]  # a formula in a CSV would run in Excel


def test_fsm_keys_name_the_user_only_as_a_whole_part() -> None:
    assert fsm_key_names("fsm:42:1000001:1000001:default", 1000001)
    assert fsm_key_names("fsm:42:-4000000001:1000001:default", 1000001)
    assert not fsm_key_names("fsm:42:10000012:10000012:default", 1000001)


async def test_erasure_is_generic_over_the_schema(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Tables added later are covered: a foreign key to users, and a person-like column without one."""
    db = await connect(tmp_path / "most.db")
    me, other = 7_000_001, 7_000_002
    keys = RespondentKeys.generate()
    try:
        stamp = NOW.isoformat()
        for uid in (me, other):
            await db.execute("INSERT INTO users (id, first_seen, last_seen) VALUES (?, ?, ?)", (uid, stamp, stamp))
        ws = await db.execute("INSERT INTO workspaces (name, created_at) VALUES ('Acme', ?)", (stamp,))
        await db.execute("INSERT INTO memberships VALUES (?, ?, 'owner', ?)", (ws, me, stamp))
        later = NOW.replace(hour=10).isoformat()
        await db.execute("INSERT INTO memberships VALUES (?, ?, 'member', ?)", (ws, other, later))
        pid = await db.execute(
            "INSERT INTO partners (workspace_id, name, name_key, kind, markets, created_by, created_at, updated_at) "
            "VALUES (?, 'P', 'p', 'agency', 'both', ?, ?, ?)", (ws, me, stamp, stamp))
        await db.execute(
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, author INTEGER NOT NULL REFERENCES users(id), t TEXT)"
        )
        await db.execute("CREATE TABLE votes (id INTEGER PRIMARY KEY, reviewer_id INTEGER, t TEXT)")
        await db.execute("INSERT INTO notes (author, t) VALUES (?, 'mine'), (?, 'theirs')", (me, other))
        await db.execute("INSERT INTO votes (reviewer_id, t) VALUES (?, 'x')", (me,))
        await db.execute(
            "INSERT INTO reference_answers (partner_id, respondent_key, worked_months, worked_range, market, "
            "consistency, respect, reliability, growth, again, locale, started_at, finished_at) "
            "VALUES (?, ?, 3, '3to6', 'ru', 4, 4, 4, 4, 'yes', 'ru', ?, ?)", (pid, keys.of(pid, me), stamp, stamp))
        await db.execute("INSERT INTO fsm_states (key, state, updated_at) VALUES (?, 'x', ?)",
                         (f"fsm:1:{me}:{me}:default", stamp))

        assert ("notes", "author") in {(c.table, c.column) for c in await user_columns(db)}
        plan = await plan_deletion(db, me, keys)
        assert plan.workspaces[0].heir_id == other and plan.reference_answers == 1
        erasure = await erase_user(db, me, keys, delete_workspaces=False)
        assert erasure is not None and erasure.swept == ["votes.reviewer_id"]
        assert "votes.reviewer_id has no explicit rule" in caplog.text
        assert [tuple(r) for r in await db.fetchall("SELECT t FROM notes")] == [("theirs",)]
        assert await db.fetchval("SELECT role FROM memberships WHERE user_id = ?", (other,)) == "owner"
        assert await db.fetchval("SELECT created_by FROM partners") is None
        key = await db.fetchval("SELECT respondent_key FROM reference_answers")
        assert key.startswith("erased:")
        for (table,) in await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'"):
            for column in [r[1] for r in await db.fetchall(f'PRAGMA table_info("{table}")')]:
                hits = await db.fetchval(
                    f'SELECT COUNT(*) FROM "{table}" WHERE "{column}" = ? OR CAST("{column}" AS TEXT) LIKE ?',
                    (me, f"%{me}%"))
                assert hits == 0, (table, column)
    finally:
        await db.close()


async def test_a_workspace_nobody_else_is_in_needs_the_second_yes(tmp_path: Path) -> None:
    db = await connect(tmp_path / "most.db")
    keys = RespondentKeys.generate()
    try:
        stamp = NOW.isoformat()
        await db.execute("INSERT INTO users (id, first_seen, last_seen) VALUES (5, ?, ?)", (stamp, stamp))
        ws = await db.execute("INSERT INTO workspaces (name, created_at) VALUES ('Solo', ?)", (stamp,))
        await db.execute("INSERT INTO memberships VALUES (?, 5, 'owner', ?)", (ws, stamp))
        assert await erase_user(db, 5, keys, delete_workspaces=False) is None
        assert await db.fetchval("SELECT COUNT(*) FROM users") == 1  # nothing changed
        erasure = await erase_user(db, 5, keys, delete_workspaces=True)
        assert erasure is not None and [w.name for w in erasure.deleted_workspaces] == ["Solo"]
        assert await db.fetchval("SELECT COUNT(*) FROM workspaces") == 0
    finally:
        await db.close()
