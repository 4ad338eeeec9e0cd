"""Files and folders only their owner can read: 0600 files, 0700 folders, whatever the process umask.

The bot keeps personal data on disk (the SQLite database and its -wal/-shm/-journal files, backups). `python -m
bot` narrows the umask at start (`restrict_umask`), and each writer also sets the mode itself, because a test or
an embedding program may run with any umask and a file from an older version may already exist as 0644:
- `private_dir(path)` creates the missing folders as 0700. A folder that already exists is the operator's choice
  (a shared data folder, the checkout itself) and is never changed; if others can read it, one WARNING per
  process says so and how to tighten it. The files in it are 0600 either way.
- `create_private(path)` creates an empty 0600 file if there is none (SQLite gives a database's -wal, -shm and
  -journal files the database's own mode, so creating the database first covers them).
- `write_private(path, data)` replaces a file atomically with a 0600 one (for a key file, say).
- `tighten(path)` makes an existing file 0600 (files written by older versions); `tighten_sqlite` a database
  and its sidecar files.
"""

from __future__ import annotations

import logging
import os
import stat
import tempfile
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700
PRIVATE_UMASK = 0o077  # what the process creates without saying otherwise: owner only
OTHERS = 0o077  # group and world permission bits


def restrict_umask() -> int:
    """Owner-only permissions for everything this process creates from now on; the previous umask."""
    return os.umask(PRIVATE_UMASK)


def private_dir(path: Path | str) -> Path:
    """`path` as a folder: the levels that are missing are created 0700; one that exists is left as it is (a
    warning, once, when group or others may read it). FileExistsError when a file stands where a folder should."""
    path = Path(path)
    created = False
    for folder in (*reversed(path.parents), path):
        if folder.is_dir():
            continue
        folder.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)  # a file in the way: FileExistsError, as mkdir -p
        os.chmod(folder, PRIVATE_DIR_MODE)  # mkdir's mode passes through the umask; chmod does not
        created = True
    if not created:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & OTHERS:
            _warn_open_folder(str(path.resolve()), mode)
    return path


@cache
def _warn_open_folder(folder: str, mode: int) -> None:
    log.warning(
        "folder %s is %s: other users may list it; the bot's files in it are 0600, `chmod 700 %s` hides their names "
        "too (the bot sets the mode of the folders it creates only)", folder, oct(mode), folder,
    )


def tighten(path: Path | str) -> bool:
    """Make an existing regular file 0600; False when there is none. A file the bot may not chmod (owned by
    someone else) is logged, not fatal: the bot can still use it."""
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(info.st_mode):
        return False
    if stat.S_IMODE(info.st_mode) != PRIVATE_FILE_MODE:
        try:
            os.chmod(path, PRIVATE_FILE_MODE)
        except PermissionError as error:
            log.warning("could not make %s private (0600): %s", path, error)
            return False
        log.info("made %s private (0600; it was %s)", path, oct(stat.S_IMODE(info.st_mode)))
    return True


# The files SQLite keeps beside a database: its write-ahead log, the WAL index, the rollback journal.
SQLITE_SIDECARS = ("-wal", "-shm", "-journal")


def tighten_sqlite(database: Path | str) -> None:
    """The database file and whichever of its -wal, -shm and -journal files exist, made 0600."""
    for suffix in ("", *SQLITE_SIDECARS):
        tighten(f"{database}{suffix}")


def create_private(path: Path | str) -> Path:
    """An empty 0600 file at `path` unless one exists (then it is tightened); its folder as `private_dir`."""
    path = Path(path)
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        tighten(path)
        return path
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
    finally:
        os.close(fd)
    return path


def write_private(path: Path | str, data: bytes) -> Path:
    """Write `data` to `path` as a 0600 file, atomically: a reader sees the old content or the new, never a part,
    and the content is never readable by others, not even for a moment."""
    path = Path(path)
    private_dir(path.parent)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")  # O_EXCL, 0600
    partial = Path(name)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        partial.unlink(missing_ok=True)
        raise
    os.close(fd)
    os.replace(partial, path)
    return path
