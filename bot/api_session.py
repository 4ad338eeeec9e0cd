"""The HTTP session to the Bot API, with the response models it parses kept alive."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType

# aiogram parses every reply as `Response[method.__returning__]`. Pydantic caches such generic models only
# weakly, so a garbage collection drops them and the next call rebuilds one (~7 ms of schema work each); under
# load that was a third of the bot's time. Holding them here makes every later lookup a cache hit. The set of
# keys is bounded by the Bot API's return types.
_RESPONSE_MODELS: dict[Any, type] = {}


class ApiSession(AiohttpSession):
    def check_response(
        self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int, content: str
    ) -> Response[TelegramType]:
        returning = method.__returning__
        if returning not in _RESPONSE_MODELS:
            _RESPONSE_MODELS[returning] = Response[returning]  # type: ignore[valid-type]
        return super().check_response(bot, method, status_code, content)
