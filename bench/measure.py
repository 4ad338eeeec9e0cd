"""What the benchmarks share: the fake server's call log by chat, a run's latencies, and an error counter."""

from __future__ import annotations

import asyncio
import logging
import math
from collections import defaultdict
from dataclasses import dataclass, field

from tests.e2e.fake_telegram import Call


class CallLog(list[Call]):
    """The fake server's `calls` list, also indexing each call by chat and waking whoever waits for it."""

    def __init__(self) -> None:
        super().__init__()
        self.by_chat: dict[int, list[Call]] = defaultdict(list)
        self._waiters: dict[int, asyncio.Event] = {}

    def append(self, call: Call) -> None:
        super().append(call)
        if call.chat_id is not None:
            self.by_chat[call.chat_id].append(call)
            waiter = self._waiters.pop(call.chat_id, None)
            if waiter is not None:
                waiter.set()

    async def wait_for(self, chat_id: int, start: int, methods: list[str], timeout: float) -> list[Call]:
        """The chat's calls from index `start` once they contain `methods` in this order (others may interleave);
        TimeoutError if they do not come in time."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            calls = self.by_chat[chat_id][start:]
            wanted = iter(methods)
            needed = next(wanted)
            for index, call in enumerate(calls):
                if call.method == needed:
                    needed = next(wanted, None)
                    if needed is None:
                        return calls[: index + 1]
            event = self._waiters.setdefault(chat_id, asyncio.Event())
            await asyncio.wait_for(event.wait(), max(deadline - loop.time(), 0.0))


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(math.ceil(p / 100 * len(ordered)) - 1, 0)]


@dataclass
class Result:
    name: str
    users: int
    updates: int = 0
    wall: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds
    problems: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.updates / self.wall if self.wall else 0.0

    def percentile_ms(self, p: float) -> float:
        return percentile(self.latencies, p) * 1000


class ErrorCount(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
