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
