from __future__ import annotations

import pytest

from bot.config import SettingsError, load_settings

# Built at run time so no token-shaped string sits in the repository.
GOOD = "123456789:" + "AAHdqTcvCH1vGWJx" + "fSeofSAs0K5PALDsaw1"


def test_missing_token_says_how_to_get_one(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert "BOT_TOKEN is missing" in str(error.value)
    assert "@BotFather" in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("token", ["hello", "123:abc", "123456789:short", " :" + "a" * 35])
def test_malformed_token_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path, token: str) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BOT_TOKEN", token)
    with pytest.raises(SettingsError, match="malformed"):
        load_settings()


def test_defaults_and_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BOT_TOKEN", GOOD)
    monkeypatch.setenv("BOT_API_URL", "http://127.0.0.1:8081/")
    settings = load_settings()
    assert settings.bot_api_url == "http://127.0.0.1:8081"
    assert str(settings.database_path) == "data/most.db"
    assert settings.default_locale == "en"
    assert GOOD not in repr(settings)


def test_settings_come_from_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    (tmp_path / ".env").write_text(f"BOT_TOKEN={GOOD}\nDEFAULT_LOCALE=ru\n", encoding="utf-8")
    settings = load_settings()
    assert settings.bot_token.get_secret_value() == GOOD
    assert settings.default_locale == "ru"
