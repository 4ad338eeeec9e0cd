"""Settings read from the environment and `.env`."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

TELEGRAM_API_URL = "https://api.telegram.org"
# The shape @BotFather hands out: the bot's numeric id, a colon, 35 url-safe characters.
TOKEN_SHAPE = re.compile(r"^\d{5,12}:[A-Za-z0-9_-]{30,64}$")
SUPPORTED_LOCALES = ("en", "ru")
# What Telegram accepts as setWebhook's secret_token (sent back in X-Telegram-Bot-Api-Secret-Token).
WEBHOOK_SECRET_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,256}$")


class Settings(BaseSettings):
    """Everything the bot reads from outside; see `.env.example`."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr
    bot_api_url: str = TELEGRAM_API_URL
    database_path: Path = Path("data/most.db")
    # The secret that keys reference respondent keys (bot/storage/respondents.py); empty: beside the database, as
    # `<database path without .db>.key` (data/most.key). Never inside the database, never in its backups.
    respondent_key_path: Path | None = None
    default_locale: str = "en"
    log_level: str = "INFO"
    backup_dir: Path = Path("backups")
    backup_keep: int = Field(default=7, ge=1)
    # Webhook mode (polling when WEBHOOK_URL is empty): see README, "Deployment: polling or webhook".
    webhook_url: str = ""
    webhook_host: str = "127.0.0.1"
    webhook_port: int = Field(default=8080, ge=0, le=65535)
    webhook_secret: SecretStr | None = None  # derived from the token when not given
    # How long start-up keeps retrying an unreachable Bot API before exiting 1 (systemd then restarts the bot).
    startup_timeout_seconds: float = Field(default=120.0, gt=0)

    def respondent_key_file(self) -> Path:
        """Where the respondent secret lives: RESPONDENT_KEY_PATH, else beside the database (data/most.key)."""
        if self.respondent_key_path is not None:
            return self.respondent_key_path
        return self.database_path.with_suffix(".key")

    @property
    def use_webhook(self) -> bool:
        return bool(self.webhook_url)

    def webhook_secret_token(self) -> str:
        """The X-Telegram-Bot-Api-Secret-Token value: WEBHOOK_SECRET, else a hash of the token (stable across
        restarts, reveals nothing about the token)."""
        if self.webhook_secret is not None:
            return self.webhook_secret.get_secret_value()
        return _derived(self.bot_token, "most-webhook-header")

    def webhook_path(self) -> str:
        """Where the server listens: WEBHOOK_URL's own path plus a secret segment, so a guessed URL finds nothing.

        A reverse proxy in front passes the path through unchanged."""
        base = urlsplit(self.webhook_url).path.rstrip("/")
        return f"{base}/webhook/{_derived(self.bot_token, 'most-webhook-path')[:32]}"

    def webhook_full_url(self) -> str:
        """The URL registered with setWebhook."""
        parts = urlsplit(self.webhook_url)
        return f"{parts.scheme}://{parts.netloc}{self.webhook_path()}"

    def log_secrets(self) -> list[str]:
        """Besides the token, what a log line must never show."""
        return [self.webhook_secret_token(), self.webhook_path().rsplit("/", 1)[-1]] if self.use_webhook else []

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

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url_is_http(cls, value: str) -> str:
        value = value.strip()
        if not value:
            return ""
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError("must be the bot's public address, like https://bot.example.com (Telegram needs HTTPS)")
        return value.rstrip("/")

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        if not WEBHOOK_SECRET_SHAPE.match(value.get_secret_value().strip()):
            raise ValueError("must be 16-256 characters of A-Z, a-z, 0-9, _ and -")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("respondent_key_path", mode="before")
    @classmethod
    def _empty_key_path_is_default(cls, value: object) -> object:
        return None if value is None or (isinstance(value, str) and not value.strip()) else value

    @field_validator("log_level")
    @classmethod
    def _upper_level(cls, value: str) -> str:
        return value.strip().upper() or "INFO"


def _derived(token: SecretStr, purpose: str) -> str:
    return hashlib.sha256(f"{purpose}:{token.get_secret_value()}".encode()).hexdigest()


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
