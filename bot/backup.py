"""Online backups of the SQLite file through sqlite3's backup API (safe while the bot writes).

Backups hold every record, so they are as private as the database: 0600 files in a folder created 0700
(bot/files.py), whatever the umask of the process that makes them (the daily job or `python -m bot backup`).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

from bot.files import create_private, private_dir, tighten, tighten_sqlite

BACKUP_PREFIX = "most-"
BACKUP_SUFFIX = ".db"


def make_backup(database: Path, backup_dir: Path, keep: int, now: datetime) -> Path:
    """Copy the live database page by page into backup_dir, then keep only the newest `keep` copies."""
    if not Path(database).exists():
        raise FileNotFoundError(f"no database at {database}")
    tighten_sqlite(database)  # a reader may create the -shm file, with the database's mode
    private_dir(backup_dir)
    target = backup_dir / f"{BACKUP_PREFIX}{now.strftime('%Y%m%d-%H%M%S')}{BACKUP_SUFFIX}"
    partial = target.with_suffix(".partial")
    # Created 0600 before SQLite opens it: the copy and its -journal are never readable by others, even for a moment.
    partial.unlink(missing_ok=True)
    Path(f"{partial}-journal").unlink(missing_ok=True)
    create_private(partial)
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        dest = sqlite3.connect(partial)
        try:
            source.backup(dest)
        finally:
            dest.close()
    finally:
        source.close()
    partial.replace(target)
    prune_backups(backup_dir, keep)
    return target


def prune_backups(backup_dir: Path, keep: int) -> list[Path]:
    backups = sorted(backup_dir.glob(f"{BACKUP_PREFIX}*{BACKUP_SUFFIX}"))
    stale = backups[:-keep] if keep > 0 else backups
    for path in stale:
        path.unlink(missing_ok=True)
    for path in backups[len(stale):]:
        tighten(path)  # one an older version wrote 0644
    return stale


def tighten_backups(backup_dir: Path) -> None:
    """At start-up: the backups an older version wrote 0644 (a partial one too) become 0600. The folder is not
    created here (the first backup does that), nor changed if it exists (see bot/files.py)."""
    if not backup_dir.is_dir():
        return
    private_dir(backup_dir)
    for path in backup_dir.glob(f"{BACKUP_PREFIX}*"):
        tighten(path)
