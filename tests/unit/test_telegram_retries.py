"""The session middlewares every Bot API request goes through: retries, and refusals that mean "already done"."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.exceptions import TelegramBadRequest, TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import AnswerCallbackQuery, DeleteMessage, EditMessageText, SendMessage

from bot.plumbing.telegram_retries import (
    MAX_ATTEMPTS,
    MAX_RETRY_AFTERS,
    RETRY_AFTER_MAX_SECONDS,
    AlreadyDone,
    RetryRequests,
)

SEND = SendMessage(chat_id=1, text="hi")


class Script:
    """A request that fails with the given errors first, then answers."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self, bot: Any, method: Any) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "result"


@pytest.fixture
def slept() -> list[float]:
    return []


@pytest.fixture
def retries(slept: list[float]) -> RetryRequests:
    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    return RetryRequests(sleep=sleep)


async def test_a_429_is_waited_out_for_its_retry_after(retries: RetryRequests, slept: list[float]) -> None:
    script = Script(TelegramRetryAfter(SEND, "Too Many Requests", retry_after=3))
    assert await retries(script, None, SEND) == "result"  # type: ignore[arg-type]
    assert script.calls == 2 and slept == [3]


async def test_5xx_and_network_errors_are_retried_with_growing_delays(
    retries: RetryRequests, slept: list[float]
) -> None:
    script = Script(TelegramServerError(SEND, "Bad Gateway"), TelegramNetworkError(SEND, "reset"),
                    TelegramServerError(SEND, "Bad Gateway"))
    assert await retries(script, None, SEND) == "result"  # type: ignore[arg-type]
    assert script.calls == 4 and len(slept) == 3 and slept[0] < slept[1] < slept[2]


async def test_retries_are_bounded(retries: RetryRequests, slept: list[float]) -> None:
    script = Script(*[TelegramServerError(SEND, "Bad Gateway") for _ in range(MAX_ATTEMPTS + 3)])
    with pytest.raises(TelegramServerError):
        await retries(script, None, SEND)  # type: ignore[arg-type]
    assert script.calls == MAX_ATTEMPTS
    too_long = Script(TelegramRetryAfter(SEND, "Too Many Requests", retry_after=RETRY_AFTER_MAX_SECONDS + 1))
    with pytest.raises(TelegramRetryAfter):
        await retries(too_long, None, SEND)  # type: ignore[arg-type]
    stubborn = Script(*[TelegramRetryAfter(SEND, "Too Many Requests", retry_after=1) for _ in range(99)])
    with pytest.raises(TelegramRetryAfter):
        await retries(stubborn, None, SEND)  # type: ignore[arg-type]
    assert stubborn.calls == MAX_RETRY_AFTERS + 1


async def test_a_bad_request_is_not_retried(retries: RetryRequests) -> None:
    script = Script(TelegramBadRequest(SEND, "Bad Request: chat not found"))
    with pytest.raises(TelegramBadRequest):
        await retries(script, None, SEND)  # type: ignore[arg-type]
    assert script.calls == 1


@pytest.mark.parametrize(
    ("method", "refusal"),
    [
        (EditMessageText(chat_id=1, message_id=2, text="x"), "Bad Request: message is not modified: specified new "
                                                             "message content and reply markup are exactly the same"),
        (DeleteMessage(chat_id=1, message_id=2), "Bad Request: message to delete not found"),
        (AnswerCallbackQuery(callback_query_id="1"), "Bad Request: query is too old and response timeout expired"),
    ],
)
async def test_what_a_replay_meets_counts_as_done(method: Any, refusal: str) -> None:
    assert await AlreadyDone()(Script(TelegramBadRequest(method, refusal)), None, method) is True  # type: ignore[arg-type]


async def test_other_refusals_still_raise() -> None:
    with pytest.raises(TelegramBadRequest):
        await AlreadyDone()(Script(TelegramBadRequest(SEND, "Bad Request: message is not modified")), None, SEND)  # type: ignore[arg-type]
    edit = EditMessageText(chat_id=1, message_id=2, text="x")
    with pytest.raises(TelegramBadRequest):
        await AlreadyDone()(Script(TelegramBadRequest(edit, "Bad Request: message to edit not found")), None, edit)  # type: ignore[arg-type]


async def test_an_update_holding_the_writer_waits_only_briefly(slept: list[float]) -> None:
    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    retries = RetryRequests(sleep=sleep, holding_writer=lambda: True)
    with pytest.raises(TelegramRetryAfter):  # rolled back and tried later instead, holding nothing
        await retries(Script(TelegramRetryAfter(SEND, "Too Many Requests", retry_after=30)), None, SEND)  # type: ignore[arg-type]
    flaky = Script(*[TelegramServerError(SEND, "Bad Gateway") for _ in range(MAX_ATTEMPTS)])
    with pytest.raises(TelegramServerError):
        await retries(flaky, None, SEND)  # type: ignore[arg-type]
    assert flaky.calls < MAX_ATTEMPTS and slept and max(slept) < 30
