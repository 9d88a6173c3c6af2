import re
import secrets
from pathlib import Path

import pytest
from pydantic import ValidationError

from shared.settings import Settings, to_sqlalchemy_url

ROOT = Path(__file__).resolve().parents[2]
# The value the Kubernetes manifests shipped with until it was found to pass the length rule.
OLD_PLACEHOLDER = "replace-with-a-long-random-value"


def test_outside_the_embedded_mode_the_default_secret_is_refused(monkeypatch):
    monkeypatch.delenv("ISO20400_SECRET_KEY", raising=False)
    with pytest.raises(ValidationError, match="ISO20400_SECRET_KEY must be set"):
        Settings()
    with pytest.raises(ValidationError, match="shorter than 32 characters"):
        Settings(secret_key="short")
    assert Settings(embedded=True).embedded


def test_the_placeholder_shipped_in_deploy_is_refused_and_says_how_to_make_a_secret():
    assert len(OLD_PLACEHOLDER) == 32
    shipped = re.search(r"ISO20400_SECRET_KEY:\s*(\S+)",
                        (ROOT / "deploy/k8s/config.yaml").read_text()).group(1)
    for value in (OLD_PLACEHOLDER, shipped):
        with pytest.raises(ValidationError) as refused:
            Settings(secret_key=value)
        assert "secrets.token_urlsafe(48)" in str(refused.value)


@pytest.mark.parametrize("weak", [
    "s" * 40,                                          # one character repeated
    "abcdefghijklmnopqrstuvwxyz0123456789",            # a sequence
    "0123456789" * 4,
    "k3J9x!Pq" * 5,                                    # a random-looking block, repeated
    "Password1234Password1234Password1234",
    "change-me-change-me-change-me-change-me",
    "the quick brown fox jumps over the lazy dog",     # a sentence: few bits per word
    "aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbbbbb",
])
def test_secrets_with_too_little_randomness_are_refused(weak):
    with pytest.raises(ValidationError, match="bits of randomness"):
        Settings(secret_key=weak)


def test_generated_secrets_are_accepted():
    for _ in range(200):
        Settings(secret_key=secrets.token_urlsafe(48))
        Settings(secret_key=secrets.token_hex(32))
    Settings(secret_key="correct horse battery staple orbit velvet lunar canyon mosaic thistle")


def test_settings_come_from_iso20400_environment_variables(monkeypatch):
    monkeypatch.setenv("ISO20400_SECRET_KEY", secrets.token_urlsafe(48))
    monkeypatch.setenv("ISO20400_NATS_URL", "nats://nats:4222")
    monkeypatch.setenv("ISO20400_BUS_NAMESPACE", "tenant7")
    settings = Settings()
    assert settings.nats_url == "nats://nats:4222"
    assert settings.bus_namespace == "tenant7"


def test_a_plain_postgres_url_uses_the_psycopg_driver():
    assert to_sqlalchemy_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    with pytest.raises(ValueError, match="not a PostgreSQL URL"):
        to_sqlalchemy_url("mysql://h/db")
