"""A backup taken while another connection keeps writing opens and passes integrity_check."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.backup import make_backup


def test_backup_during_writes_is_consistent_and_pruned(tmp_path: Path) -> None:
    db_path = tmp_path / "most.db"
    conn = sqlite3.connect(db_path, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, payload TEXT)")
    conn.commit()
    stop = threading.Event()

    def writer() -> None:
        i = 0
        while not stop.is_set() and i < 50_000:
            conn.execute("INSERT INTO t (payload) VALUES (?)", ("Мост " * 20,))
            conn.commit()
            i += 1

    thread = threading.Thread(target=writer)
    thread.start()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        paths = [
            make_backup(db_path, tmp_path / "b", keep=3, now=start + timedelta(seconds=i)) for i in range(5)
        ]
    finally:
        stop.set()
        thread.join()
        conn.close()
    kept = sorted((tmp_path / "b").glob("most-*.db"))
    assert kept == paths[-3:]
    for path in kept:
        check = sqlite3.connect(path)
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert check.execute("SELECT COUNT(*) FROM t").fetchone()[0] >= 0
        check.close()


async def test_backup_while_the_bot_writes_then_restore_as_the_readme_says(tmp_path: Path) -> None:
    """The bot's own connection (aiosqlite, WAL, migrations) keeps writing while the daily job's backup runs."""
    import asyncio
    import shutil

    from bot.storage.db import available_migrations, connect

    db_path = tmp_path / "data" / "most.db"
    db = await connect(db_path)
    stamp = datetime(2026, 1, 1, tzinfo=UTC).isoformat()
    written = 0
    stop = asyncio.Event()

    async def keep_writing() -> None:
        nonlocal written
        while not stop.is_set():
            await db.execute(
                "INSERT INTO users (id, telegram_language, first_seen, last_seen) VALUES (?, 'ru', ?, ?)",
                (1_000_000 + written, stamp, stamp),
            )
            written += 1
            await asyncio.sleep(0)

    writer = asyncio.create_task(keep_writing())
    try:
        await asyncio.sleep(0.05)
        backup = await asyncio.to_thread(make_backup, db_path, tmp_path / "b", 7, datetime(2026, 1, 2, tzinfo=UTC))
        await asyncio.sleep(0.05)
    finally:
        stop.set()
        await writer
        await db.close()
    check = sqlite3.connect(backup)
    try:
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert check.execute("PRAGMA user_version").fetchone()[0] == len(available_migrations())
        in_backup = check.execute("SELECT COUNT(*) FROM users").fetchone()[0]
    finally:
        check.close()
    assert 0 < in_backup <= written

    # README "Backups and restore": stop the bot, copy the backup over DATABASE_PATH, delete -wal and -shm, start.
    shutil.copyfile(backup, db_path)
    for suffix in ("-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    restored = await connect(db_path)
    try:
        assert await restored.fetchval("SELECT COUNT(*) FROM users") == in_backup
        assert await restored.fetchval("PRAGMA integrity_check") == "ok"
    finally:
        await restored.close()


def test_python_m_bot_backup_writes_one_on_demand(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    db_path = tmp_path / "most.db"
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE t (x TEXT)")
    conn.execute("INSERT INTO t VALUES ('Мост')")
    conn.commit()
    conn.close()
    env = {
        **os.environ,
        "BOT_TOKEN": "123456789:" + "A" * 35,
        "DATABASE_PATH": str(db_path),
        "BACKUP_DIR": str(tmp_path / "backups"),
        "BACKUP_KEEP": "2",
    }
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-m", "bot", "backup"], cwd=tmp_path, env={**env, "PYTHONPATH": str(root)},
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    written = sorted((tmp_path / "backups").glob("most-*.db"))
    assert len(written) == 1 and str(written[0]) in done.stdout
    check = sqlite3.connect(written[0])
    assert check.execute("SELECT x FROM t").fetchall() == [("Мост",)]
    check.close()
