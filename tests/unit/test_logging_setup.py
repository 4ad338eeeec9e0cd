"""What setup_logging lets through: the bot's own DEBUG lines, but not those of libraries that log people."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.plumbing.logging_setup import setup_logging


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in ("aiogram_dialog", "aiosqlite", "apscheduler")}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)


def test_debug_logs_the_bot_but_not_the_chats_of_dialogs(restored_logging: None) -> None:
    setup_logging("DEBUG", "123:secret")
    assert logging.getLogger("bot.handlers.references").isEnabledFor(logging.DEBUG)
    # aiogram-dialog's DEBUG lines ("Loading context … user …", "send_text to chat …") name a reference's creator.
    assert not logging.getLogger("aiogram_dialog.manager.message_manager").isEnabledFor(logging.DEBUG)
    assert logging.getLogger("aiogram_dialog").isEnabledFor(logging.INFO)
    assert not logging.getLogger("aiosqlite").isEnabledFor(logging.INFO)
