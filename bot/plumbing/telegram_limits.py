"""Telegram's hard limits, checked before a request leaves the process."""

from __future__ import annotations

import html
import logging
import re
from typing import Any

from aiogram import Bot
from aiogram.client.default import Default
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import EditMessageText, SendMessage, TelegramMethod
from aiogram.methods.base import Response, TelegramType

log = logging.getLogger(__name__)

MESSAGE_TEXT_MAX = 4096  # characters after entity parsing
CALLBACK_DATA_MAX_BYTES = 64
TAG = re.compile(r"<[^>]*>")


def visible_text(html_text: str) -> str:
    """What Telegram counts: the text with tags removed and entities decoded."""
    return html.unescape(TAG.sub("", html_text))


def split_html_lines(html_text: str, limit: int = MESSAGE_TEXT_MAX) -> list[str]:
    """Split on line boundaries into chunks whose visible length fits; tags never span lines here."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for line in html_text.split("\n"):
        length = len(visible_text(line)) + 1
        if current and size + length > limit:
            chunks.append("\n".join(current))
            current, size = [], 0
        if length > limit:  # one enormous line: keep its visible text only, cut to fit
            line = html.escape(visible_text(line)[: limit - 1])
            length = limit
        current.append(line)
        size += length
    if current:
        chunks.append("\n".join(current))
    return chunks


class TextLimitGuard(BaseRequestMiddleware):
    """A text over Telegram's limit is cut, as plain text, rather than rejected by the API."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if isinstance(method, SendMessage | EditMessageText):
            _fit(method)
        return await make_request(bot, method)


def _fit(method: Any) -> None:
    # The bot's default parse mode is HTML, so an unset (Default) mode means HTML too.
    is_html = isinstance(method.parse_mode, Default) or str(method.parse_mode or "").lower() == "html"
    shown = visible_text(method.text) if is_html else method.text
    if len(shown) <= MESSAGE_TEXT_MAX:
        return
    log.error("outgoing text of %d characters cut to Telegram's %d", len(shown), MESSAGE_TEXT_MAX)
    method.text = shown[: MESSAGE_TEXT_MAX - 1] + "…"
    method.parse_mode = None
    method.entities = None
