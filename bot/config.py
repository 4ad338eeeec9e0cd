"""Settings read from the environment and `.env`."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

TELEGRAM_API_URL = "https://api.telegram.org"
# The shape @BotFather hands out: the bot's numeric id, a colon, 35 url-safe characters.
TOKEN_SHAPE = re.compile(r"^\d{5,12}:[A-Za-z0-9_-]{30,64}$")
SUPPORTED_LOCALES = ("en", "ru")


class Settings(BaseSettings):
    """Everything the bot reads from outside; see `.env.example`."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr
    bot_api_url: str = TELEGRAM_API_URL
    database_path: Path = Path("data/most.db")
    default_locale: str = "en"
    log_level: str = "INFO"
    backup_dir: Path = Path("backups")
    backup_keep: int = Field(default=7, ge=1)

    @field_validator("bot_token")
    @classmethod
    def _token_has_botfather_shape(cls, value: SecretStr) -> SecretStr:
        if not TOKEN_SHAPE.match(value.get_secret_value().strip()):
            raise ValueError("malformed token")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("bot_api_url")
    @classmethod
    def _url_without_trailing_slash(cls, value: str) -> str:
        return value.strip().rstrip("/") or TELEGRAM_API_URL

    @field_validator("default_locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        if value not in SUPPORTED_LOCALES:
            raise ValueError(f"DEFAULT_LOCALE must be one of {', '.join(SUPPORTED_LOCALES)}")
        return value

    @field_validator("log_level")
    @classmethod
    def _upper_level(cls, value: str) -> str:
        return value.strip().upper() or "INFO"


class SettingsError(Exception):
    """The settings cannot start the bot; the message is one line for a person."""


TOKEN_HELP = (
    "BOT_TOKEN is {problem}: create a bot with @BotFather in Telegram (/newbot), "
    "then put its token in .env as BOT_TOKEN=123456789:AA... (see .env.example)."
)


def load_settings(**overrides: object) -> Settings:
    """Read settings, turning a missing or malformed token into one readable line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        fields = {str(err["loc"][0]) for err in error.errors() if err["loc"]}
        if "bot_token" in fields:
            missing = any(
                err["type"] == "missing"
                for err in error.errors()
                if err["loc"] and err["loc"][0] == "bot_token"
            )
            raise SettingsError(TOKEN_HELP.format(problem="missing" if missing else "malformed")) from None
        first = error.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise SettingsError(f"{name} is invalid: {first['msg']}") from None
