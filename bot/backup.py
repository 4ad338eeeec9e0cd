"""Online backups of the SQLite file through sqlite3's backup API (safe while the bot writes)."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

BACKUP_PREFIX = "most-"
BACKUP_SUFFIX = ".db"


def make_backup(database: Path, backup_dir: Path, keep: int, now: datetime) -> Path:
    """Copy the live database page by page into backup_dir, then keep only the newest `keep` copies."""
    if not Path(database).exists():
        raise FileNotFoundError(f"no database at {database}")
    backup_dir.mkdir(parents=True, exist_ok=True)
    target = backup_dir / f"{BACKUP_PREFIX}{now.strftime('%Y%m%d-%H%M%S')}{BACKUP_SUFFIX}"
    partial = target.with_suffix(".partial")
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
    return stale
