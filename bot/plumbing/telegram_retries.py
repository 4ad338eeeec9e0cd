"""Every Bot API request, handler replies and pushes alike, through Telegram's flood control and its bad moments.

Two session middlewares (`bot.session.middleware`), so no call site has to remember them:
- `RetryRequests`: a 429 is waited out for its `retry_after`; a 5xx or a network error is retried with a bounded,
  growing delay. What still fails after that is raised to the caller as before.
- `AlreadyDone`: the refusals a replayed update or a double tap meets when the effect is already there ("message is
  not modified", a message already deleted, a button press too old to acknowledge) are answered as successes, so
  the handler carries on instead of losing everything after that call.

getUpdates is not retried here: the polling loop has its own backoff and must stay stoppable.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramBadRequest, TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteMessage,
    EditMessageCaption,
    EditMessageReplyMarkup,
    EditMessageText,
    TelegramMethod,
)
from aiogram.methods.base import Response, TelegramType

log = logging.getLogger(__name__)

# A 5xx or a network error: this many attempts in all, waiting 0.5, 1, 2, 4 s (± jitter) in between.
MAX_ATTEMPTS = 5
FIRST_DELAY_SECONDS = 0.5
MAX_DELAY_SECONDS = 8.0
JITTER = 0.1
# Telegram's flood control: waited out up to this many times per request, each wait at most this long. A longer
# one is raised: a handler would otherwise hold its update (and the database writer) for minutes.
MAX_RETRY_AFTERS = 10
RETRY_AFTER_MAX_SECONDS = 60
# While an update holds the database writer (its unit of work has begun) every other update's writes wait for it,
# so there the waits are short: past them the request fails, the update is rolled back and tried again later,
# after the retry_after, without holding anything.
WRITER_HELD_RETRY_AFTER_MAX_SECONDS = 5
WRITER_HELD_MAX_ATTEMPTS = 3

EDITS = (EditMessageText, EditMessageCaption, EditMessageReplyMarkup)
NOT_MODIFIED = "message is not modified"
ALREADY_DELETED = "message to delete not found"
QUERY_TOO_OLD = "query is too old"

Sleep = Callable[[float], Awaitable[None]]


class RetryRequests(BaseRequestMiddleware):
    def __init__(self, sleep: Sleep = asyncio.sleep, *, max_attempts: int = MAX_ATTEMPTS,
                 first_delay: float = FIRST_DELAY_SECONDS, holding_writer: Callable[[], bool] = lambda: False) -> None:
        self.sleep = sleep  # tests running on fast or virtual time replace it
        self.holding_writer = holding_writer  # set by the composition root: Database.holds_writer
        self._max_attempts = max_attempts
        self._first_delay = first_delay

    async def __call__(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType]
    ) -> Response[TelegramType]:
        if method.__api_method__ == "getUpdates":
            return await make_request(bot, method)
        short = self.holding_writer()
        max_wait = WRITER_HELD_RETRY_AFTER_MAX_SECONDS if short else RETRY_AFTER_MAX_SECONDS
        max_attempts = min(self._max_attempts, WRITER_HELD_MAX_ATTEMPTS) if short else self._max_attempts
        failures = waits = 0
        while True:
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                waits += 1
                if waits > MAX_RETRY_AFTERS or error.retry_after > max_wait:
                    log.warning("%s: 429 with retry_after=%s, given up", method.__api_method__, error.retry_after)
                    raise
                log.info("%s: 429, retrying in %s s", method.__api_method__, error.retry_after)
                await self.sleep(error.retry_after)
            except (TelegramServerError, TelegramNetworkError) as error:
                failures += 1
                if failures >= max_attempts:
                    log.warning("%s failed %d times, given up: %s", method.__api_method__, failures, error)
                    raise
                delay = min(MAX_DELAY_SECONDS, self._first_delay * 2 ** (failures - 1))
                delay *= 1 + random.uniform(-JITTER, JITTER)
                log.info("%s: %s; attempt %d of %d in %.1f s", method.__api_method__, error, failures + 1,
                         max_attempts, delay)
                await self.sleep(delay)


class AlreadyDone(BaseRequestMiddleware):
    async def __call__(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType]
    ) -> Response[TelegramType]:
        try:
            return await make_request(bot, method)
        except TelegramBadRequest as error:
            if not already_done(method, error.message):
                raise
            log.info("%s: %s; carrying on", method.__api_method__, error.message)
            done: Any = True  # each of these methods may return True (edits: True or the Message)
            return done  # type: ignore[no-any-return]


def already_done(method: TelegramMethod[Any], message: str) -> bool:
    text = message.lower()
    return (
        (isinstance(method, EDITS) and NOT_MODIFIED in text)
        or (isinstance(method, DeleteMessage) and ALREADY_DELETED in text)
        or (isinstance(method, AnswerCallbackQuery) and QUERY_TOO_OLD in text)
    )
