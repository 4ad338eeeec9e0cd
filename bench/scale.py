"""Data scale: the /partners page and the partner card with 10,000 partners, 100,000 log events, 50,000 references.

A fresh SQLite database is migrated by the bot's own code (`bot.storage.db.connect`), then filled directly with
plain SQL in the migrations' schema, all in one workspace (the worst case for the list): 10,000 partners with
3 case studies, 2 gut-check runs and 2 scorecards each; 5,000 of them with a campaign (2,000 debriefed) carrying
20 logged events each (100,000 events); 5 answered reference links per partner (50,000 links and 50,000
answers). Then, in-process and through the bot's own code — the repositories, `PartnerCards`, the handlers'
list view and the card renderer, English locale — it times:

- the `/partners` page: `handlers.partners._list_view` (COUNT, one page with the team score, the keyboard and
  the text) for random pages;
- the partner card: `PartnerCards.load` + `render_card` + `card_keyboard` for random partners, and once more for
  one heavy partner (1,000 events, 200 references) to show the tail.

It prints p50/p95/max over the runs (goal: p95 < 50 ms), the peak RSS of the process that runs the bot's code
(goal < 200 MB; the bulk load runs in a child process), and the database file size. Run from the repository root:

    .venv/bin/python bench/scale.py [--runs 200] [--partners 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import math
import multiprocessing
import random
import resource
import sqlite3
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.measure import percentile  # noqa: E402
from bot.clock import ManualClock  # noqa: E402
from bot.domain.campaigns import EventKind  # noqa: E402
from bot.domain.scorecard import CRITERIA  # noqa: E402
from bot.handlers.partners import _list_view  # noqa: E402  (the view /partners renders)
from bot.i18n import create_i18n  # noqa: E402
from bot.storage.assessments import AssessmentRepo  # noqa: E402
from bot.storage.campaigns import CampaignRepo  # noqa: E402
from bot.storage.db import connect  # noqa: E402
from bot.storage.evidence import EvidenceRepo  # noqa: E402
from bot.storage.partners import PartnerRepo  # noqa: E402
from bot.storage.references import ReferenceRepo  # noqa: E402
from bot.storage.workspaces import WorkspaceRepo  # noqa: E402
from bot.views.partner_card import PartnerCards, card_keyboard, render_card  # noqa: E402

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
OWNER, TEAMMATE = 1_000_001, 1_000_002
EVENTS_PER_CAMPAIGN = 20
REFERENCES_PER_PARTNER = 5
GOAL_MS = 50.0
GOAL_RSS_MB = 200.0
BASELINE_RSS_MB = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # after the imports above


def stamp(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).isoformat()


def fill(path: Path, partners: int, rng: random.Random) -> dict[str, int]:
    """Bulk insert with plain SQL; returns the row counts."""
    kinds = [k.value for k in EventKind]
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("INSERT INTO workspaces (id, name, created_at) VALUES (1, 'Scale Agency', ?)", (stamp(400),))
        for user in (OWNER, TEAMMATE):
            db.execute(
                "INSERT INTO users (id, locale, telegram_language, current_workspace_id, first_seen, last_seen, "
                "display_name) VALUES (?, 'en', 'en', 1, ?, ?, ?)",
                (user, stamp(400), stamp(0), f"User {user}"),
            )
        db.executemany(
            "INSERT INTO memberships (workspace_id, user_id, role, joined_at) VALUES (1, ?, ?, ?)",
            [(OWNER, "owner", stamp(400)), (TEAMMATE, "member", stamp(300))],
        )
        db.executemany(
            "INSERT INTO partners (id, workspace_id, name, name_key, kind, markets, contact, links, stage, "
            "created_by, created_at, updated_at) VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    pid, f"Partner {pid:05d}", f"partner {pid:05d}", rng.choice(["agency", "creator", "network"]),
                    rng.choice(["ru", "us", "both"]), f"@partner{pid}",
                    json.dumps([f"https://p{pid}.example.com"]), rng.choice(["candidate", "ready_pilot", "pilot"]),
                    OWNER, stamp(rng.uniform(30, 400)), stamp(rng.uniform(0, 30)),
                )
                for pid in range(1, partners + 1)
            ],
        )
        db.executemany(
            "INSERT INTO case_studies (partner_id, market, brand, outcome, months, link, added_by, created_at) "
            "VALUES (?, ?, ?, ?, ?, NULL, ?, ?)",
            [(pid, rng.choice(["ru", "us"]), f"Brand {pid}-{i}", rng.choice(["success", "failure"]),
              rng.randint(1, 24), OWNER, stamp(100)) for pid in range(1, partners + 1) for i in range(3)],
        )
        db.executemany(
            "INSERT INTO gut_checks (partner_id, run_by, understands_ugc, knows_both_markets, asked_good_questions, "
            "passed, note, created_at) VALUES (?, ?, ?, ?, ?, ?, NULL, ?)",
            [(pid, OWNER, 1, i, 1, i, stamp(60 - i)) for pid in range(1, partners + 1) for i in range(2)],
        )
        db.executemany(
            "INSERT INTO scorecards (partner_id, rater_id, ratings, total, created_at) VALUES (?, ?, ?, ?, ?)",
            [(pid, rater, json.dumps({c.value: rng.randint(1, 5) for c in CRITERIA}), round(rng.uniform(1, 5), 2),
              stamp(50)) for pid in range(1, partners + 1) for rater in (OWNER, TEAMMATE)],
        )
        campaigns = []
        for cid, pid in enumerate(range(1, partners + 1, 2), start=1):
            start = date(2026, 9, 1) + timedelta(days=cid % 60)
            status = "debriefed" if cid % 5 < 2 else "running"
            campaigns.append((cid, pid, start.isoformat(), (start + timedelta(days=14)).isoformat(), status))
        db.executemany(
            "INSERT INTO campaigns (id, partner_id, rung, creators, deliverable, start_date, days, due_date, metrics, "
            "metrics_agreed, payment_terms, revision_limit, creators_market, checklist, charter_success, "
            "charter_failure, charter_renegotiate, warnings, manager_id, status, created_at) VALUES "
            "(?, ?, 1, 2, 'Two UGC videos', ?, 14, ?, 'CTR 1.5%', 1, '50% upfront', 2, 'both', '[]', 'On time', "
            "'One late draft', 'Scope doubles', '[]', ?, ?, ?)",
            [(cid, pid, start, due, OWNER, status, stamp(80)) for cid, pid, start, due, status in campaigns],
        )
        db.executemany(
            "INSERT INTO campaign_events (campaign_id, kind, note, source, logged_by, created_at) "
            "VALUES (?, ?, ?, 'manager', ?, ?)",
            [(cid, rng.choice(kinds), "note" if i % 4 == 0 else None, OWNER, stamp(70 - i))
             for cid, *_ in campaigns for i in range(EVENTS_PER_CAMPAIGN)],
        )
        db.executemany(
            "INSERT INTO debriefs (campaign_id, what_worked, what_didnt, problem, quality, recommendation, reasons, "
            "decision, override_reason, decided_by, created_at) VALUES (?, 'Fast drafts', 'Late brief', "
            "'execution', 4, 'rerun', '[]', 'rerun', NULL, ?, ?)",
            [(cid, OWNER, stamp(40)) for cid, _pid, _s, _d, status in campaigns if status == "debriefed"],
        )
        links, answers = [], []
        for pid in range(1, partners + 1):
            for i in range(REFERENCES_PER_PARTNER):
                token_hash = hashlib.sha256(f"{pid}:{i}".encode()).hexdigest()
                links.append((token_hash, pid, OWNER, f"Creator {i}", stamp(40), stamp(-20), stamp(35),
                              f"key{pid}-{i}", stamp(34)))
                answers.append((pid, token_hash, f"key{pid}-{i}", rng.randint(1, 24), rng.choice(["ru", "us", "both"]),
                                *(rng.randint(1, 5) for _ in range(4)), rng.choice(["yes", "maybe", "no"]),
                                rng.choice(["en", "ru"]), stamp(34.01), stamp(34)))
        db.executemany(
            "INSERT INTO reference_links (token_hash, partner_id, created_by, label, created_at, expires_at, "
            "opened_at, opened_by_key, answered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            links,
        )
        db.executemany(
            "INSERT INTO reference_answers (partner_id, link_hash, respondent_key, worked_months, market, "
            "consistency, respect, reliability, growth, again, locale, started_at, finished_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            answers,
        )
        counts = {
            table: db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("partners", "campaign_events", "reference_answers", "reference_links", "campaigns",
                          "case_studies", "gut_checks", "scorecards")
        }
    return counts


def add_heavy_partner(path: Path, rng: random.Random) -> int:
    """One partner with 1,000 events over 5 campaigns and 200 references."""
    kinds = [k.value for k in EventKind]
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        pid = db.execute(
            "INSERT INTO partners (workspace_id, name, name_key, kind, markets, links, stage, created_by, created_at, "
            "updated_at) VALUES (1, 'Heavy Partner', 'heavy partner', 'agency', 'both', '[]', 'pilot', ?, ?, ?)",
            (OWNER, stamp(300), stamp(1)),
        ).lastrowid
        for rung in (1, 2, 3, 3, 3):
            cid = db.execute(
                "INSERT INTO campaigns (partner_id, rung, creators, deliverable, start_date, days, due_date, metrics, "
                "metrics_agreed, payment_terms, revision_limit, creators_market, charter_success, charter_failure, "
                "charter_renegotiate, manager_id, created_at) VALUES (?, ?, 2, 'Videos', '2026-09-01', 14, "
                "'2026-09-15', 'CTR', 1, 'Net 30', 2, 'both', 'ok', 'late', 'scope', ?, ?)",
                (pid, rung, OWNER, stamp(90)),
            ).lastrowid
            db.executemany(
                "INSERT INTO campaign_events (campaign_id, kind, source, logged_by, created_at) "
                "VALUES (?, ?, 'manager', ?, ?)",
                [(cid, rng.choice(kinds), OWNER, stamp(80 - i / 10)) for i in range(200)],
            )
        for i in range(200):
            token_hash = hashlib.sha256(f"heavy:{i}".encode()).hexdigest()
            db.execute(
                "INSERT INTO reference_links (token_hash, partner_id, created_by, created_at, expires_at, "
                "opened_at, opened_by_key, answered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (token_hash, pid, OWNER, stamp(40), stamp(-20), stamp(35), f"heavy{i}", stamp(34)),
            )
            db.execute(
                "INSERT INTO reference_answers (partner_id, link_hash, respondent_key, worked_months, market, "
                "consistency, respect, reliability, growth, again, locale, started_at, finished_at) "
                "VALUES (?, ?, ?, 6, 'both', 4, 4, 3, 5, 'yes', 'en', ?, ?)",
                (pid, token_hash, f"heavy{i}", stamp(34.01), stamp(34)),
            )
    return int(pid)


def fill_all(path: Path, partners: int, seed: int) -> tuple[dict[str, int], int]:
    rng = random.Random(seed)
    return fill(path, partners, rng), add_heavy_partner(path, rng)


def line(what: str, samples: list[float]) -> str:
    p95 = percentile(samples, 95)
    verdict = "ok" if p95 < GOAL_MS else "OVER GOAL"
    return (f"{what:<34} runs {len(samples):>4}  p50 {percentile(samples, 50):7.2f} ms  p95 {p95:7.2f} ms  "
            f"max {max(samples):7.2f} ms  (goal p95 < {GOAL_MS:.0f} ms: {verdict})")


async def measure(path: Path, runs: int, partners: int, heavy: int, rng: random.Random) -> list[str]:
    db = await connect(path)
    try:
        i18n = create_i18n("en")
        clock = ManualClock(NOW)
        partner_repo = PartnerRepo(db)
        cards = PartnerCards(partner_repo, EvidenceRepo(db), AssessmentRepo(db), CampaignRepo(db), clock,
                             references=ReferenceRepo(db))
        workspace = await WorkspaceRepo(db).current_for(OWNER)
        assert workspace is not None
        pages = math.ceil(partners / 8)
        list_ms, card_ms, heavy_ms = [], [], []
        with i18n.context(), i18n.use_locale("en"):
            for _ in range(3):  # warm the page cache and the catalogs
                await _list_view(partner_repo, workspace, OWNER, 0, False, "en")
            for i in range(runs):
                page = 0 if i == 0 else rng.randrange(pages)
                started = time.perf_counter()
                text, markup = await _list_view(partner_repo, workspace, OWNER, page, False, "en")
                list_ms.append((time.perf_counter() - started) * 1000)
                assert "Partners" in text and markup.inline_keyboard
            for _ in range(runs):
                pid = rng.randint(1, partners)
                started = time.perf_counter()
                data = await cards.load(workspace.id, pid, OWNER)
                assert data is not None
                text, keyboard = render_card(data, "en"), card_keyboard(data)
                card_ms.append((time.perf_counter() - started) * 1000)
                assert f"Partner {pid:05d}" in text and keyboard.inline_keyboard
            for _ in range(max(runs // 4, 10)):
                started = time.perf_counter()
                data = await cards.load(workspace.id, heavy, OWNER)
                assert data is not None
                render_card(data, "en"), card_keyboard(data)
                heavy_ms.append((time.perf_counter() - started) * 1000)
        return [
            line("/partners page (random pages)", list_ms),
            line("partner card (random partners)", card_ms),
            line("partner card (1,000 events, 200 refs)", heavy_ms),
        ]
    finally:
        await db.close()


async def main_async(runs: int, partners: int, seed: int) -> int:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="most-scale-") as tmp:
        path = Path(tmp) / "most.db"
        db = await connect(path)  # migrations: the schema is exactly the bot's
        await db.close()
        started = time.perf_counter()
        # In a child process, so the peak RSS below is the bot code's, not the bulk loader's.
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
            counts, heavy = pool.submit(fill_all, path, partners, seed).result()
        with contextlib.closing(sqlite3.connect(path)) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("ANALYZE")
        print(f"filled in {time.perf_counter() - started:.1f} s: "
              + ", ".join(f"{table} {count:,}" for table, count in counts.items()))
        results = await measure(path, runs, partners, heavy, rng)
        size = path.stat().st_size + sum(p.stat().st_size for p in path.parent.glob("most.db-*"))
        for result in results:
            print(result)
        print(f"RSS after importing the bot (aiogram, pydantic, Babel…): {BASELINE_RSS_MB:.1f} MB")
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        rss_verdict = "ok" if rss_mb < GOAL_RSS_MB else "OVER GOAL"
        print(f"peak RSS {rss_mb:.1f} MB (goal < {GOAL_RSS_MB:.0f} MB: {rss_verdict})")
        print(f"database file {size / 1024 / 1024:.1f} MB ({path.name} with its -wal/-shm)")
    over = [r for r in results if "OVER GOAL" in r] + ([] if rss_mb < GOAL_RSS_MB else ["rss"])
    return 1 if over else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="timed runs of each view (default 200)")
    parser.add_argument("--partners", type=int, default=10_000, help="partners (default 10,000)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.partners < 10 or args.runs < 1:
        parser.error("--partners must be at least 10 and --runs at least 1")
    sys.exit(asyncio.run(main_async(args.runs, args.partners, args.seed)))


if __name__ == "__main__":
    main()
