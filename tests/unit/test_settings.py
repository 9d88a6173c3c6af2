import pytest
from pydantic import ValidationError

from shared.settings import Settings, to_sqlalchemy_url


def test_outside_the_embedded_mode_the_default_secret_is_refused(monkeypatch):
    monkeypatch.delenv("ISO20400_SECRET_KEY", raising=False)
    with pytest.raises(ValidationError, match="ISO20400_SECRET_KEY must be set"):
        Settings()
    with pytest.raises(ValidationError, match="at least 32 characters"):
        Settings(secret_key="short")
    assert Settings(embedded=True).embedded


def test_settings_come_from_iso20400_environment_variables(monkeypatch):
    monkeypatch.setenv("ISO20400_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("ISO20400_NATS_URL", "nats://nats:4222")
    monkeypatch.setenv("ISO20400_BUS_NAMESPACE", "tenant7")
    settings = Settings()
    assert settings.nats_url == "nats://nats:4222"
    assert settings.bus_namespace == "tenant7"


def test_a_plain_postgres_url_uses_the_psycopg_driver():
    assert to_sqlalchemy_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    with pytest.raises(ValueError, match="not a PostgreSQL URL"):
        to_sqlalchemy_url("mysql://h/db")
