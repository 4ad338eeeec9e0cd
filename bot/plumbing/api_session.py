"""The HTTP session to the Bot API: JSON bodies, and the response models it parses kept alive."""

from __future__ import annotations

from typing import Any, cast

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiohttp import ClientError

# aiogram parses every reply as `Response[method.__returning__]`. Pydantic caches such generic models only
# weakly, so a garbage collection drops them and the next call rebuilds one (~7 ms of schema work each); under
# load that was a third of the bot's time. Holding them here makes every later lookup a cache hit. The set of
# keys is bounded by the Bot API's return types.
_RESPONSE_MODELS: dict[Any, type] = {}

JSON_HEADERS = {"Content-Type": "application/json"}


class ApiSession(AiohttpSession):
    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        """A request without files goes as one JSON body: aiogram's multipart form (a part per field, each
        encoded on its own) cost more than the rest of sending a message. Uploads keep the multipart form."""
        files: dict[str, Any] = {}
        payload = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            if prepared is not None and prepared != "":  # as the form does: unset and empty fields are left out
                payload[key] = prepared
        if files:
            return await super().make_request(bot, method, timeout)

        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        try:
            async with session.post(
                url,
                data=self.json_dumps(payload),
                headers=JSON_HEADERS,
                timeout=self.timeout if timeout is None else timeout,
            ) as resp:
                raw_result = await resp.text()
        except TimeoutError as e:
            raise TelegramNetworkError(method=method, message="Request timeout error") from e
        except ClientError as e:
            raise TelegramNetworkError(method=method, message=f"{type(e).__name__}: {e}") from e
        response = self.check_response(bot=bot, method=method, status_code=resp.status, content=raw_result)
        return cast(TelegramType, response.result)

    def check_response(
        self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int, content: str
    ) -> Response[TelegramType]:
        returning = method.__returning__
        if returning not in _RESPONSE_MODELS:
            _RESPONSE_MODELS[returning] = Response[returning]  # type: ignore[valid-type]
        return super().check_response(bot, method, status_code, content)
