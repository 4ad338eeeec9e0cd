"""`python -m bot` runs the bot; `python -m bot backup` writes one backup and exits."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from bot.config import SettingsError, load_settings
from bot.files import restrict_umask

USAGE = "usage: python -m bot [run|backup]"


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "run"
    if command not in {"run", "backup"}:
        print(USAGE, file=sys.stderr)
        return 2
    # Before anything is written: whatever this process creates is its owner's only (0600 files, 0700 folders),
    # even under a umask of 022 or 000; the database and backups also set their modes themselves (bot/files.py).
    restrict_umask()
    try:
        settings = load_settings()
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    from bot.plumbing.logging_setup import setup_logging

    setup_logging(settings.log_level, settings.bot_token.get_secret_value(), *settings.log_secrets())
    if command == "backup":
        from bot.backup import make_backup

        try:
            path = make_backup(
                settings.database_path, settings.backup_dir, settings.backup_keep, datetime.now(UTC)
            )
        except FileNotFoundError as error:
            print(error, file=sys.stderr)
            return 1
        print(f"backup written to {path}")
        return 0
    from bot.startup import run_until_stopped

    return run_until_stopped(settings)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
