"""Every file the bot writes is 0600 and every folder it creates 0700, whatever the process umask."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.backup import make_backup, tighten_backups
from bot.clock import ManualClock
from bot.files import create_private, private_dir, tighten, write_private
from bot.scheduling import add_housekeeping, create_scheduler
from bot.storage.db import connect
from bot.storage.received import ReceivedUpdates

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 3, 3, 30, tzinfo=UTC)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def modes_under(folder: Path) -> dict[str, int]:
    """Every file and folder below `folder` (itself included) and its permission bits."""
    found = {".": mode(folder)}
    for path in folder.rglob("*"):
        found[str(path.relative_to(folder))] = mode(path)
    return found


def assert_private(folder: Path) -> None:
    for name, bits in modes_under(folder).items():
        path = folder / name
        expected = 0o700 if path.is_dir() else 0o600
        assert bits == expected, f"{name} is {oct(bits)}, not {oct(expected)}"


@pytest.fixture(params=[0o022, 0o000], ids=["umask022", "umask000"])
def loose_umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """The process runs with a umask that would make new files 0644 (or 0666) and folders 0755 (or 0777)."""
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


def test_private_dir_creates_every_missing_level_0700(tmp_path: Path, loose_umask: int) -> None:
    made = private_dir(tmp_path / "a" / "b" / "c")
    assert made.is_dir()
    assert [mode(tmp_path / p) for p in ("a", "a/b", "a/b/c")] == [0o700, 0o700, 0o700]


def test_a_folder_the_operator_made_is_left_alone_with_one_warning(
    tmp_path: Path, loose_umask: int, caplog: pytest.LogCaptureFixture
) -> None:
    shared = tmp_path / f"shared-{loose_umask:o}"
    shared.mkdir()
    os.chmod(shared, 0o755)
    with caplog.at_level(logging.WARNING, logger="bot.files"):
        private_dir(shared)
        private_dir(shared)
    assert mode(shared) == 0o755
    warnings = [r.getMessage() for r in caplog.records if r.name == "bot.files"]
    assert len(warnings) == 1 and str(shared) in warnings[0] and "0o755" in warnings[0] and "chmod 700" in warnings[0]
    own = tmp_path / "own"
    own.mkdir(mode=0o700)
    os.chmod(own, 0o700)
    caplog.clear()
    private_dir(own)
    assert not [r for r in caplog.records if r.name == "bot.files"]


def test_a_file_where_the_folder_should_be_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "x").write_text("not a folder")
    with pytest.raises(FileExistsError):
        private_dir(tmp_path / "x" / "y")


def test_write_private_replaces_atomically_with_0600(tmp_path: Path, loose_umask: int) -> None:
    key = tmp_path / "keys" / "secret.key"
    write_private(key, b"first")
    assert key.read_bytes() == b"first" and mode(key) == 0o600 and mode(key.parent) == 0o700
    os.chmod(key, 0o644)  # as an older version would have left it
    write_private(key, b"second" * 10_000)
    assert key.read_bytes() == b"second" * 10_000 and mode(key) == 0o600
    assert sorted(p.name for p in key.parent.iterdir()) == ["secret.key"], "a partial file was left behind"


def test_create_private_and_tighten(tmp_path: Path, loose_umask: int) -> None:
    new = create_private(tmp_path / "new.db")
    assert new.read_bytes() == b"" and mode(new) == 0o600
    old = tmp_path / "old.db"
    old.write_bytes(b"kept")
    os.chmod(old, 0o644)
    create_private(old)
    assert old.read_bytes() == b"kept" and mode(old) == 0o600
    os.chmod(old, 0o666)
    assert tighten(old) and mode(old) == 0o600
    assert not tighten(tmp_path / "missing")


async def test_database_and_its_wal_and_shm_are_private(tmp_path: Path, loose_umask: int) -> None:
    path = tmp_path / "data" / "nested" / "most.db"
    db = await connect(path)
    try:
        await db.execute("INSERT INTO users (id, first_seen, last_seen) VALUES (1, ?, ?)", (NOW.isoformat(),) * 2)
        assert Path(f"{path}-wal").exists() and Path(f"{path}-shm").exists()
        assert_private(tmp_path / "data")
    finally:
        await db.close()


async def test_files_an_older_version_left_0644_are_tightened_at_start(tmp_path: Path, loose_umask: int) -> None:
    path = tmp_path / "most.db"
    db = await connect(path)
    await db.execute("INSERT INTO users (id, first_seen, last_seen) VALUES (1, ?, ?)", (NOW.isoformat(),) * 2)
    await db.close()
    journal = Path(f"{path}-journal")
    journal.write_bytes(b"")
    backups = tmp_path / "backups"
    backups.mkdir(mode=0o700)
    (backups / "most-20250101-033000.db").write_bytes(b"old backup")
    for file in (path, journal, *backups.iterdir()):
        os.chmod(file, 0o644)
    db = await connect(path)
    try:
        tighten_backups(backups)
        await db.execute("INSERT INTO users (id, first_seen, last_seen) VALUES (2, ?, ?)", (NOW.isoformat(),) * 2)
        assert_private(tmp_path)
    finally:
        await db.close()


async def test_daily_backup_job_writes_private_files(tmp_path: Path, loose_umask: int) -> None:
    database = tmp_path / "data" / "most.db"
    db = await connect(database)
    try:
        await db.execute("INSERT INTO users (id, first_seen, last_seen) VALUES (1, ?, ?)", (NOW.isoformat(),) * 2)
        scheduler = create_scheduler()
        add_housekeeping(scheduler, ManualClock(NOW), ReceivedUpdates(db), database, tmp_path / "b" / "daily", 3)
        await scheduler.get_job("daily-backup").func()
        (written,) = (tmp_path / "b" / "daily").glob("most-*.db")
        assert written.name == "most-20261203-033000.db"
        assert_private(tmp_path)
    finally:
        await db.close()


def test_make_backup_tightens_kept_backups_an_older_version_wrote(tmp_path: Path, loose_umask: int) -> None:
    database = tmp_path / "most.db"
    database.write_bytes(b"")
    backups = tmp_path / "backups"
    backups.mkdir()
    os.chmod(backups, 0o700)
    old = backups / "most-20250101-033000.db"
    old.write_bytes(b"")
    os.chmod(old, 0o644)
    os.chmod(database, 0o644)
    make_backup(database, backups, 7, NOW)
    assert len(list(backups.glob("most-*.db"))) == 2
    assert_private(tmp_path)


@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_python_m_bot_backup_under_a_loose_umask(tmp_path: Path, umask: int) -> None:
    database = tmp_path / "most.db"
    database.write_bytes(b"")
    os.chmod(database, 0o600)
    os.chmod(tmp_path, 0o700)
    env = {
        **os.environ,
        "BOT_TOKEN": "123456789:" + "A" * 35,
        "DATABASE_PATH": str(database),
        "BACKUP_DIR": str(tmp_path / "new" / "backups"),
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "backup"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
        umask=umask,
    )
    assert done.returncode == 0, done.stderr
    assert len(list((tmp_path / "new" / "backups").glob("most-*.db"))) == 1
    assert_private(tmp_path)
