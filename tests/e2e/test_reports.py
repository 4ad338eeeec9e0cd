"""Reports end to end: the partner PNG from the card, /report, and /export as .xlsx and a zip of CSVs."""

from __future__ import annotations

import csv
import io
import json
import stat
import struct
import tempfile
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.domain.scorecard import CRITERIA
from tests.e2e.conftest import RunningBot
from tests.e2e.fake_telegram import FakeFile, FakeTelegram
from tests.e2e.people import PrivateUser
from tests.e2e.vetting_steps import add_partner, onboard

NOW = "2026-11-20T09:00:00+00:00"
GROUP_CHAT = -4_000_000_901
PARTNER = "Агентство «Север»"


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_rows(raw: bytes, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=delimiter))


def assert_no_formulas(archive: zipfile.ZipFile) -> None:
    """No cell a spreadsheet would run as a formula, whether it splits on `,` or on `;` (Excel uses its locale's
    separator, whichever the file was written with)."""
    for name in archive.namelist():
        for delimiter in (",", ";"):
            cells = [cell for row in csv_rows(archive.read(name), delimiter) for cell in row]
            formulas = [cell for cell in cells if cell.lstrip('"').startswith(FORMULA_START)]
            assert not formulas, (name, delimiter, formulas)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:16]
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


RENDER_TIMEOUT = 30.0  # the picture is drawn in a worker thread; the first one also loads matplotlib


async def sent_files(telegram: FakeTelegram, method: str, field: str, count: int = 1) -> list[tuple[FakeFile, str]]:
    """Wait for the `count` newest `method` calls (the bot answers "uploading…" first, the file when it is made);
    returns each file with the caption the person sees."""
    await telegram.wait_until(lambda: len(telegram.calls_of(method)) >= count, RENDER_TIMEOUT)
    calls = telegram.calls_of(method)[-count:]
    assert len(calls) == count, f"only {len(calls)} {method} calls"
    files = []
    for call in calls:
        assert call.ok, call.error
        file = call.params[field]
        assert isinstance(file, FakeFile)
        files.append((file, call.result.get("caption", "")))
    return files


async def ids(bot: RunningBot, user: PrivateUser, partner: str) -> tuple[int, int]:
    workspace_id = (await bot.query("SELECT current_workspace_id FROM users WHERE id = ?", (user.id,)))[0][0]
    rows = await bot.query("SELECT id FROM partners WHERE name = ? AND workspace_id = ?", (partner, workspace_id))
    return workspace_id, rows[0][0]


async def seed_records(bot: RunningBot, workspace_id: int, partner_id: int, user_id: int) -> None:
    """One of everything, straight in the database, Cyrillic included: evidence, checks, campaigns, references,
    check-ins — several tied to `user_id` (as author, rater, answerer, creator)."""
    assert bot.app is not None
    db = bot.app.db
    await db.execute(
        "INSERT INTO case_studies (partner_id, market, brand, outcome, months, link, added_by, created_at) "
        "VALUES (?, 'ru', 'Ёлка Маркет', 'failure', 8, 'https://example.com/ru', ?, ?)",
        (partner_id, user_id, NOW),
    )
    await db.execute(
        "INSERT INTO testimonials (partner_id, text, author, added_by, created_at) VALUES (?, ?, ?, ?, ?)",
        (partner_id, "=cmd|' /C calc'!A0 — надёжные", "Ирина", user_id, NOW),
    )
    await db.execute(
        "INSERT INTO community_activities (partner_id, text, added_by, created_at) VALUES (?, 'Митап UGC', ?, ?)",
        (partner_id, user_id, NOW),
    )
    await db.execute(
        "INSERT INTO gut_checks (partner_id, run_by, understands_ugc, knows_both_markets, asked_good_questions, "
        "passed, note, created_at) VALUES (?, ?, 1, 1, 1, 1, 'Хороший разговор', ?)",
        (partner_id, user_id, NOW),
    )
    ratings = json.dumps({c.value: 4 if i % 2 else 3 for i, c in enumerate(CRITERIA)})
    await db.execute(
        "INSERT INTO scorecards (partner_id, rater_id, ratings, total, created_at) VALUES (?, ?, ?, 3.5, ?)",
        (partner_id, user_id, ratings, NOW),
    )
    for rung, quality in ((1, 3), (2, 4)):
        campaign_id = await db.execute(
            "INSERT INTO campaigns (partner_id, rung, creators, deliverable, start_date, days, due_date, metrics, "
            "metrics_agreed, payment_terms, revision_limit, creators_market, charter_success, charter_failure, "
            "charter_renegotiate, manager_id, status, created_at) VALUES (?, ?, 1, '3 видео', '2026-10-01', 14, "
            "'2026-10-15', 'CTR 2%', 1, '50/50', 2, 'ru', 'успех', 'неудача', 'пересмотр', ?, 'debriefed', ?)",
            (partner_id, rung, user_id, NOW),
        )
        await db.execute(
            "INSERT INTO campaign_events (campaign_id, kind, note, logged_by, created_at) VALUES (?, 'dl_met', "
            "'вовремя', ?, ?)",
            (campaign_id, user_id, NOW),
        )
        await db.execute(
            "INSERT INTO debriefs (campaign_id, what_worked, what_didnt, problem, quality, recommendation, reasons, "
            "decision, decided_by, created_at) VALUES (?, 'быстро', 'мало', 'none', ?, 'expand', "
            "'[\"aligned\", \"on_scope\"]', 'expand', ?, ?)",
            (campaign_id, quality, user_id, NOW),
        )
    await db.execute("UPDATE partners SET stage = 'rung2' WHERE id = ?", (partner_id,))
    await db.execute(
        "INSERT INTO reference_answers (partner_id, respondent_key, worked_months, worked_range, market, consistency, "
        "consistency_comment, respect, reliability, growth, again, anything_else, locale, started_at, finished_at) "
        "VALUES (?, ?, NULL, '6to12', 'ru', 5, 'Всегда с брифом', 4, 4, 3, 'yes', 'Спасибо', 'ru', ?, ?)",
        (partner_id, bot.app.dispatcher["respondents"].of(partner_id, user_id), NOW, NOW),
    )
    schedule_id = await db.execute(
        "INSERT INTO checkin_schedules (chat_id, workspace_id, partner_id, weekday, hour, minute, timezone, active, "
        "created_by, created_at, updated_at) VALUES (?, ?, ?, 0, 10, 0, 'Europe/Moscow', 0, ?, ?, ?)",
        (GROUP_CHAT - partner_id, workspace_id, partner_id, user_id, NOW, NOW),
    )
    for week, answered in ((2, True), (9, False), (16, True)):
        occurrence = f"2026-11-{week:02d}T07:00:00+00:00"
        round_id = await db.execute(
            "INSERT INTO checkin_rounds (schedule_id, partner_id, occurrence, token, digest_hours, status, sent_at, "
            "closed_at, created_at) VALUES (?, ?, ?, ?, 24, 'closed', ?, ?, ?)",
            (schedule_id, partner_id, occurrence, f"tok{week}{partner_id}", occurrence, occurrence, occurrence),
        )
        await db.execute(
            "INSERT INTO checkin_round_members (round_id, user_id, name, status, partner_side, delay_seconds) "
            "VALUES (?, ?, 'Анна', ?, 0, 60), (?, 555, 'Пётр', 'answered', 1, 120)",
            (round_id, user_id, "answered" if answered else "missing", round_id),
        )
        if answered:
            await db.execute(
                "INSERT INTO checkin_answers (round_id, user_id, name, shipped, next_steps, blockers, needs_call, "
                "answered_at, updated_at) VALUES (?, ?, 'Анна', 'Сняли ролик', 'Монтаж', NULL, 0, ?, ?)",
                (round_id, user_id, occurrence, occurrence),
            )
    await db.execute(
        "INSERT INTO checkin_people (chat_id, user_id, name, first_seen) VALUES (?, ?, 'Анна', ?)",
        (GROUP_CHAT - partner_id, user_id, NOW),
    )


async def test_partner_report_in_russian_from_the_card(telegram: FakeTelegram, running_bot: RunningBot) -> None:
    anna = telegram.private_user("Анна", language_code="ru")
    await onboard(anna, "Север")
    await add_partner(anna, PARTNER, "ru")
    workspace_id, partner_id = await ids(running_bot, anna, PARTNER)
    await seed_records(running_bot, workspace_id, partner_id, anna.id)
    await anna.send("/partners")
    await anna.press(PARTNER)

    reaction = await anna.press("📈 Отчёт")
    assert reaction.answer is not None  # the button was answered before the picture is drawn
    [(photo, caption)] = await sent_files(telegram, "sendPhoto", "photo")
    assert png_size(photo.content) == (1200, 900)
    assert f"📈 {PARTNER} · 3 кампании" in caption
    assert "Следующий шаг:" in caption and "Последние итоги: совет — расти на следующую ступень" in caption
    assert "Не хватает" not in caption and len(caption) <= 1024


async def test_a_partner_without_data_gets_a_report_of_what_is_missing(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    mia = telegram.private_user("Mia", language_code="en")
    await onboard(mia, "Acme")
    await add_partner(mia, "Nord Creators", "en")
    await mia.press("📈 Report")
    [(photo, caption)] = await sent_files(telegram, "sendPhoto", "photo")
    assert png_size(photo.content) == (1200, 900)
    for missing in ("Missing:", "Scorecard: nobody on the team has scored", "References: no creator has answered",
                    "Campaigns: no campaign has been debriefed", "Check-ins: no weekly check-in round has closed"):
        assert missing in caption, caption
    assert "Next step: Add case studies" in caption

    # a forged button for a partner of another workspace shows nothing of it
    other = telegram.private_user("Olga", language_code="en")
    await onboard(other, "Other")
    await add_partner(other, "Secret Partner", "en")
    _, secret_id = await ids(running_bot, other, "Secret Partner")
    card = mia.last_message()
    assert card is not None
    photos = len(telegram.calls_of("sendPhoto"))
    forged = await mia.press_data(f"pt1:rp:{secret_id}:0:0", card.message_id)
    assert "Partner not found" in forged.text and len(telegram.calls_of("sendPhoto")) == photos


async def test_portfolio_report(telegram: FakeTelegram, running_bot: RunningBot) -> None:
    ivan = telegram.private_user("Ivan", language_code="ru")
    await onboard(ivan, "Север")
    empty = await ivan.send("/report")
    assert "Активных партнёров пока нет" in empty.text
    await add_partner(ivan, PARTNER, "ru")
    await add_partner(ivan, "Nord", "ru")
    workspace_id, partner_id = await ids(running_bot, ivan, PARTNER)
    await seed_records(running_bot, workspace_id, partner_id, ivan.id)

    await ivan.send("/report")
    [(photo, caption)] = await sent_files(telegram, "sendPhoto", "photo")
    assert png_size(photo.content) == (1200, 700)
    assert "📊 Портфель пространства Север" in caption
    assert "Активных партнёров: 2 · на пилоте и дальше: 1 · расстались: 0" in caption
    assert f"Лучшая оценка команды: {PARTNER} (3,4)" in caption


async def test_export_holds_every_entity_in_both_files_and_nothing_from_another_workspace(
    telegram: FakeTelegram, running_bot: RunningBot
) -> None:
    anna = telegram.private_user("Анна", language_code="ru")
    await onboard(anna, "Север")
    await add_partner(anna, PARTNER, "ru")
    workspace_id, partner_id = await ids(running_bot, anna, PARTNER)
    await seed_records(running_bot, workspace_id, partner_id, anna.id)
    olga = telegram.private_user("Olga", language_code="en")
    await onboard(olga, "Other")
    await add_partner(olga, "Чужой партнёр", "en")
    other_ws, other_pid = await ids(running_bot, olga, "Чужой партнёр")
    await seed_records(running_bot, other_ws, other_pid, olga.id)

    await anna.send("/export")
    [(workbook_file, summary), (archive_file, _)] = await sent_files(telegram, "sendDocument", "document", 2)
    assert "📦 Север: все записи, по листу на каждый вид" in summary
    assert workbook_file.file_name.endswith(".xlsx") and archive_file.file_name.endswith(".zip")
    # Uploads go as multipart forms; everything else the bot sent as one JSON body (bot/plumbing/api_session.py).
    assert {c.content_type for c in telegram.calls if c.method == "sendDocument"} == {"multipart/form-data"}
    others = {c.content_type for c in telegram.calls if c.method not in ("sendDocument", "getUpdates", "getMe")}
    assert others == {"application/json"}

    book = load_workbook(io.BytesIO(workbook_file.content))
    expected = ["Партнёры", "Кейсы", "Отзывы клиентов", "Сообщество", "Быстрые проверки", "Оценочные карты",
                "Кампании", "События", "Итоги", "Отзывы авторов", "Раунды чек-инов", "Ответы на чек-ины"]
    assert book.sheetnames == expected
    for title in expected:
        rows = list(book[title].iter_rows(values_only=True))
        assert len(rows) >= 2, f"{title} has no rows"
    header, first = list(book["Партнёры"].iter_rows(values_only=True))[:2]
    assert header[:5] == ("ID партнёра", "Имя", "Тип", "Рынки", "Этап") and first[1] == PARTNER
    testimonial = book["Отзывы клиентов"]["D2"]
    assert testimonial.value.startswith("=cmd") and testimonial.data_type == "s"
    everything = "\n".join(
        str(value) for sheet in book for row in sheet.iter_rows(values_only=True) for value in row if value is not None
    )
    assert "Чужой партнёр" not in everything
    assert running_bot.app is not None
    assert running_bot.app.dispatcher["respondents"].of(partner_id, anna.id) not in everything  # anonymous
    assert str(anna.id) not in everything

    archive = zipfile.ZipFile(io.BytesIO(archive_file.content))
    assert len(archive.namelist()) == len(expected)
    for name in archive.namelist():
        raw = archive.read(name)
        assert raw.startswith(b"\xef\xbb\xbf"), name
        rows = csv_rows(raw, ";")  # what Excel with Russian settings splits on
        assert len(rows) >= 2, name
        assert "Чужой партнёр" not in raw.decode("utf-8-sig")
    partners_csv = csv_rows(archive.read("01-partners.csv"), ";")
    assert partners_csv[0][:3] == ["ID партнёра", "Имя", "Тип"] and partners_csv[1][1] == PARTNER
    cases_csv = csv_rows(archive.read("02-case_studies.csv"), ";")
    assert "Ёлка Маркет" in cases_csv[1]
    assert_no_formulas(archive)
    testimonials = csv_rows(archive.read("03-testimonials.csv"), ";")
    assert testimonials[1][3] == "'=cmd|' /C calc'!A0 — надёжные"


async def test_export_in_english_uses_commas_and_writes_nothing_to_disk(
    telegram: FakeTelegram, running_bot: RunningBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An English reader's Excel splits on commas; a cell with `;` and a formula after it stays text for a Russian
    one too. The files are built in memory: the data folder holds only the 0600 database files, no temp file."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    mia = telegram.private_user("Mia", language_code="en")
    await onboard(mia, "Acme")
    await add_partner(mia, "Nord;=1+1", "en")
    workspace_id, partner_id = await ids(running_bot, mia, "Nord;=1+1")
    await seed_records(running_bot, workspace_id, partner_id, mia.id)
    assert running_bot.app is not None
    await running_bot.app.db.execute(
        "INSERT INTO community_activities (partner_id, text, added_by, created_at) VALUES (?, ?, ?, ?)",
        (partner_id, "safe;=1+1;x,@SUM(A1)\n-2+3", mia.id, NOW),
    )
    await running_bot.app.db.execute(  # saved before bidi controls were refused: the file must not carry them
        "INSERT INTO community_activities (partner_id, text, added_by, created_at) VALUES (?, ?, ?, ?)",
        (partner_id, "old \u202etxet", mia.id, NOW),
    )
    before = set(running_bot.data_dir.rglob("*"))

    await mia.send("/export")
    [(_, summary), (archive_file, caption)] = await sent_files(telegram, "sendDocument", "document", 2)
    assert "every record, one sheet per kind" in summary
    assert "Cells are separated by commas" in caption
    archive = zipfile.ZipFile(io.BytesIO(archive_file.content))
    partners = csv_rows(archive.read("01-partners.csv"), ",")
    assert partners[0][:3] == ["Partner ID", "Name", "Kind"] and partners[1][1] == "Nord;'=1+1"
    assert archive.read("01-partners.csv").decode("utf-8-sig").startswith("Partner ID,Name,Kind,")
    community = csv_rows(archive.read("04-community.csv"), ",")
    assert "safe;'=1+1;x,'@SUM(A1)\n'-2+3" in [row[3] for row in community]
    assert_no_formulas(archive)
    assert "old txet" in [row[3] for row in community]
    assert not [n for n in archive.namelist() if "\u202e" in archive.read(n).decode("utf-8-sig")]

    assert list(scratch.iterdir()) == [], "an export wrote a temporary file"
    after = set(running_bot.data_dir.rglob("*"))
    new = sorted(str(p.relative_to(running_bot.data_dir)) for p in after - before)
    assert all(name.startswith("most.db") for name in new), new
    for path in after:
        if path.name.startswith("most.db"):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


async def test_export_in_russian_says_semicolons(telegram: FakeTelegram, running_bot: RunningBot) -> None:
    ivan = telegram.private_user("Иван", language_code="ru")
    await onboard(ivan, "Север")
    await add_partner(ivan, "Nord,=1+1", "ru")
    await ivan.send("/export")
    [_, (archive_file, caption)] = await sent_files(telegram, "sendDocument", "document", 2)
    assert "Разделитель — точка с запятой: так файлы открываются в Excel с русскими настройками." in caption
    archive = zipfile.ZipFile(io.BytesIO(archive_file.content))
    text = archive.read("01-partners.csv").decode("utf-8-sig")
    assert text.startswith("ID партнёра;Имя;Тип;")
    assert csv_rows(archive.read("01-partners.csv"), ";")[1][1] == "Nord,'=1+1"
    assert_no_formulas(archive)
