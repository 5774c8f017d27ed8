import pytest

from config import ConfigurationError, ProductionConfig, config_for
from dsr import create_app


def test_production_refuses_to_start_without_secret_and_database(monkeypatch):
    with pytest.raises(ConfigurationError, match="DSR_SECRET_KEY, DSR_DATABASE_URL"):
        create_app("production", {"SECRET_KEY": None, "SQLALCHEMY_DATABASE_URI": None})


def test_production_refuses_a_short_secret():
    with pytest.raises(ConfigurationError, match="32 characters"):
        create_app("production", {"SECRET_KEY": "short", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_production_starts_with_both_and_uses_secure_cookies():
    app = create_app("production", {"SECRET_KEY": "s" * 40, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    response = app.test_client().get("/auth/login")
    assert "max-age=63072000" in response.headers["Strict-Transport-Security"]
    assert ProductionConfig.ENV_NAME == "production"


def test_development_defaults_to_sqlite_in_instance():
    assert config_for("development").SQLALCHEMY_DATABASE_URI.endswith("instance/dsr.sqlite3")


def test_unknown_environment_name_is_a_clear_error():
    with pytest.raises(ConfigurationError, match="DSR_ENV must be one of"):
        config_for("staging-ish")
