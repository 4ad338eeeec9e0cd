"""Chat-type filters applied once per router."""

from __future__ import annotations

from aiogram import F

PRIVATE = F.chat.type == "private"
GROUP = F.chat.type.in_({"group", "supergroup"})
CALLBACK_PRIVATE = F.message.chat.type == "private"
CALLBACK_GROUP = F.message.chat.type.in_({"group", "supergroup"})
