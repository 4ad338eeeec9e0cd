"""SIGTERM and SIGINT as a request to stop, for polling and webhook mode alike."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from contextlib import contextmanager, suppress

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextmanager
def stop_on_signals(stop: asyncio.Event, enabled: bool = True) -> Iterator[None]:
    """While inside, SIGTERM/SIGINT set `stop` (when `enabled`; tests run the bot in their own loop without)."""
    loop = asyncio.get_running_loop()
    installed = []
    if enabled:
        for signum in STOP_SIGNALS:
            with suppress(NotImplementedError):  # Windows has no add_signal_handler
                loop.add_signal_handler(signum, stop.set)
                installed.append(signum)
    try:
        yield
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)
