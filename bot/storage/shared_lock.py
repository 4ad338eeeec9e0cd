"""A first-come, first-served lock with shared and exclusive holders, for the one SQLite connection.

Single autocommit statements may be queued on the connection side by side: aiosqlite runs them one after another
on its thread, each its own transaction, so they need no turn of their own. A transaction, or a run of statements
that must not be interleaved, holds the connection alone. Waiting for the event loop between every statement made
the database the bot's bottleneck under load; sharing lets statements from many updates follow each other on the
database thread without a round trip through the loop in between.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager


class SharedExclusiveLock:
    """Shared holders run together; an exclusive holder runs alone. Requests are granted in arrival order, so a
    waiting exclusive request is not starved by a stream of shared ones, and shared ones that arrive after it
    wait behind it."""

    def __init__(self) -> None:
        self._shared = 0
        self._exclusive = False
        self._waiting: deque[tuple[bool, asyncio.Future[None]]] = deque()

    @property
    def idle(self) -> bool:
        return self._shared == 0 and not self._exclusive and not self._waiting

    def shared(self) -> AbstractAsyncContextManager[None]:
        return self._held(exclusive=False)

    def exclusive(self) -> AbstractAsyncContextManager[None]:
        return self._held(exclusive=True)

    @asynccontextmanager
    async def _held(self, exclusive: bool) -> AsyncIterator[None]:
        await self._acquire(exclusive)
        try:
            yield
        finally:
            self._leave(exclusive)
            self._grant()

    async def _acquire(self, exclusive: bool) -> None:
        if not self._waiting and self._may_enter(exclusive):
            self._enter(exclusive)
            return
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((exclusive, granted))
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self._leave(exclusive)  # granted just as the waiter was cancelled: hand the turn on
            elif (exclusive, granted) in self._waiting:
                self._waiting.remove((exclusive, granted))
            self._grant()
            raise

    def _may_enter(self, exclusive: bool) -> bool:
        return not self._exclusive and (self._shared == 0 or not exclusive)

    def _enter(self, exclusive: bool) -> None:
        if exclusive:
            self._exclusive = True
        else:
            self._shared += 1

    def _leave(self, exclusive: bool) -> None:
        if exclusive:
            self._exclusive = False
        else:
            self._shared -= 1

    def _grant(self) -> None:
        while self._waiting:
            exclusive, granted = self._waiting[0]
            if granted.done():  # cancelled while waiting
                self._waiting.popleft()
                continue
            if not self._may_enter(exclusive):
                return
            self._waiting.popleft()
            self._enter(exclusive)
            granted.set_result(None)
