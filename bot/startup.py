"""Start-up: Telegram must accept the token before anything else starts, and a failed start ends the process.

`python -m bot` calls `run_until_stopped(settings)`:
- getMe first, on a session of its own, before the database, the dispatcher's start-up hooks or the scheduler.
  A token Telegram rejects exits 2 at once: deploy/most.service does not restart on 2, as a restart cannot fix it.
  An unreachable Bot API (connection refused, DNS, timeouts, 5xx, a proxy's error page) is retried with a growing
  delay for STARTUP_TIMEOUT_SECONDS, then exits 1, so systemd's Restart=on-failure tries again later.
- A respondent key file (RESPONDENT_KEY_PATH) that exists but holds no key exits 2 too (it is never overwritten);
  one that cannot be created exits 1, like a database that cannot be opened.
- Any other failure ends the process with one line and exit status 1, after closing what was opened: an open
  database connection (aiosqlite's thread) alone keeps a process whose work is over from exiting.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress

from aiogram import Bot
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import User

from bot.app import App, build_app
from bot.config import Settings
from bot.plumbing.api_session import ApiSession
from bot.storage.respondents import KeyFileError

log = logging.getLogger(__name__)

EXIT_FAILURE = 1  # systemd restarts the bot (Restart=on-failure)
EXIT_MISCONFIGURED = 2  # as for bad settings: RestartPreventExitStatus=2, a restart would fail the same way

FIRST_RETRY_DELAY_SECONDS = 1.0
MAX_RETRY_DELAY_SECONDS = 30.0
# getMe answers in well under a second; a connection that hangs is given up on long before aiogram's 60 s.
ATTEMPT_TIMEOUT_SECONDS = 10.0
MIN_ATTEMPT_SECONDS = 1.0  # the last attempt, close to the deadline, still gets a chance to connect
CLOSE_TIMEOUT_SECONDS = 10.0
REASON_MAX_CHARS = 200

TOKEN_REJECTED = (
    "Telegram rejected BOT_TOKEN (401 Unauthorized): check the token from @BotFather in .env "
    "(/mybots shows it; a revoked token stops working at once)"
)
NOT_A_BOT_API = "{url} answered getMe with 404 Not Found: check BOT_API_URL and BOT_TOKEN in .env"
REFUSED = "{url} refused getMe: {reason}"
UNREACHABLE = "Bot API at {url} not reachable: {attempts} attempts in {seconds:g} s failed (last: {reason}); giving up"

# What a Bot API that is down, restarting or behind a failing proxy answers: worth another attempt.
RETRYABLE = (TelegramNetworkError, TelegramServerError, TelegramRetryAfter, ClientDecodeError, TimeoutError)

Sleep = Callable[[float], Awaitable[None]]


class StartupError(Exception):
    """Start-up cannot go on; the message is one line for a person, `exit_code` what the process returns."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


async def check_telegram(settings: Settings, sleep: Sleep = asyncio.sleep) -> User:
    """getMe until Telegram answers, within STARTUP_TIMEOUT_SECONDS; StartupError when it refuses or never does."""
    # Not create_bot(): its session retries every request itself (bot/plumbing/telegram_retries.py), which would
    # hide the attempts from the lines below and stretch the bound on the total.
    session = ApiSession(api=TelegramAPIServer.from_base(settings.bot_api_url))
    bot = Bot(token=settings.bot_token.get_secret_value(), session=session)
    try:
        return await _get_me(bot, settings, sleep)
    finally:
        await session.close()


async def _get_me(bot: Bot, settings: Settings, sleep: Sleep) -> User:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.startup_timeout_seconds
    url = settings.bot_api_url
    attempt = 0
    while True:
        attempt += 1
        budget = max(MIN_ATTEMPT_SECONDS, min(ATTEMPT_TIMEOUT_SECONDS, deadline - loop.time()))
        try:
            async with asyncio.timeout(budget):
                return await bot.get_me()
        except TelegramUnauthorizedError:
            raise StartupError(TOKEN_REJECTED, EXIT_MISCONFIGURED) from None
        except TelegramNotFound:
            raise StartupError(NOT_A_BOT_API.format(url=url), EXIT_MISCONFIGURED) from None
        except RETRYABLE as error:
            reason = _reason(error, budget)
            delay = _retry_delay(error, attempt)
        except TelegramAPIError as error:
            raise StartupError(REFUSED.format(url=url, reason=_one_line(error.message))) from None
        left = deadline - loop.time()
        if left <= 0:
            raise StartupError(
                UNREACHABLE.format(url=url, attempts=attempt, seconds=settings.startup_timeout_seconds, reason=reason)
            )
        delay = min(delay, left)
        log.warning("Bot API at %s not reachable (attempt %d): %s; next attempt in %.1f s", url, attempt, reason, delay)
        await sleep(delay)


def _retry_delay(error: Exception, attempt: int) -> float:
    if isinstance(error, TelegramRetryAfter):
        return float(error.retry_after)
    return min(MAX_RETRY_DELAY_SECONDS, FIRST_RETRY_DELAY_SECONDS * 2 ** (attempt - 1))


def _reason(error: Exception, budget: float) -> str:
    if isinstance(error, TelegramRetryAfter):
        return f"429 Too Many Requests, retry after {error.retry_after} s"
    if isinstance(error, TelegramServerError):
        return f"server error: {_one_line(error.message)}"
    if isinstance(error, TelegramNetworkError):
        return _one_line(error.message)  # e.g. "ClientConnectorError: Cannot connect to host …"
    if isinstance(error, ClientDecodeError):
        return "the answer is not the Bot API's JSON (a proxy's error page?)"  # its text may be a whole HTML page
    return f"no answer within {budget:g} s"


def _one_line(text: str) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= REASON_MAX_CHARS else line[: REASON_MAX_CHARS - 1] + "…"


async def run(settings: Settings) -> None:
    """Check Telegram, build the app, serve until stopped."""
    await check_telegram(settings)
    try:
        app = await build_app(settings)
    except KeyFileError as error:
        raise StartupError(str(error), EXIT_MISCONFIGURED if error.misconfigured else EXIT_FAILURE) from None
    await serve(app)


async def serve(app: App, handle_signals: bool = True) -> None:
    """Webhook when WEBHOOK_URL is set, else polling; on a failure close whatever is still open."""
    try:
        await app.run(handle_signals)
    except BaseException:
        await release(app)
        raise


async def release(app: App) -> None:
    """What the shutdown hooks close, for a start that failed before or while running them (e.g. a failing
    start-up hook in webhook mode, where aiohttp skips the shutdown hooks). Each close is a no-op if done."""
    if app.scheduler.running:
        app.scheduler.shutdown(wait=False)
    with suppress(Exception):
        await asyncio.wait_for(app.db.close(), CLOSE_TIMEOUT_SECONDS)
    with suppress(Exception):
        await app.bot.session.close()


def run_until_stopped(settings: Settings) -> int:
    """Run the bot; return the process's exit status. A failure is one line on stderr (its traceback at DEBUG)."""
    try:
        asyncio.run(run(settings))
    except KeyboardInterrupt:
        return 0
    except StartupError as error:
        log.critical("%s", error)
        return error.exit_code
    except Exception as error:
        log.debug("the bot stopped on an error", exc_info=error)
        log.critical("the bot stopped on an error: %s: %s (LOG_LEVEL=DEBUG shows where)", type(error).__name__,
                     _one_line(str(error)))
        return EXIT_FAILURE
    return 0
