"""Settings from ``ISO20400_*`` environment variables, one class for every service."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "embedded-development-secret-not-for-production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ISO20400_", extra="ignore")

    nats_url: str = Field(default="nats://127.0.0.1:4222", description=(
        "One NATS server, or several separated by commas (the nodes of a cluster): a replica "
        "starts as long as one of them answers"))
    database_url: str = "postgresql://postgres@127.0.0.1:5432/iso20400"
    secret_key: str = DEV_SECRET
    embedded: bool = Field(
        default=False, description="Set by `iso20400 up`; only then are development secrets allowed"
    )
    bus_namespace: str = Field(
        default="iso20400",
        pattern=r"^[a-z][a-z0-9]{1,30}$",
        description="First subject token and stream name prefix; tests use their own",
    )
    base_url: str = "http://127.0.0.1:8020"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    mail_from: str = "ISO 20400 Scan <scan@iso20400.example>"
    document_workers: int = Field(default=2, ge=1, le=16)
    max_deliveries: int = Field(default=5, ge=1, le=50)
    ack_wait: float = Field(default=30.0, ge=1, description="Seconds before an unacked event is "
                            "redelivered (a worker that died); busy handlers extend it")
    stream_replicas: int = Field(default=1, ge=1, le=5, description="3 on a NATS cluster")
    relay_interval: float = Field(default=0.2, gt=0)
    cookie_secure: bool = False

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> "Settings":
        if not self.embedded and (self.secret_key == DEV_SECRET or len(self.secret_key) < 32):
            raise ValueError(
                "ISO20400_SECRET_KEY must be set to a random value of at least 32 characters "
                "outside the embedded mode (try: python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))')"
            )
        return self

    @field_validator("nats_url")
    @classmethod
    def _nats_urls(cls, value: str) -> str:
        for url in split_nats_url(value):
            if "://" not in url:
                raise ValueError(f"not a NATS server URL: {url!r} (try nats://host:4222)")
        if not split_nats_url(value):
            raise ValueError("ISO20400_NATS_URL names no server")
        return value

    @property
    def nats_servers(self) -> list[str]:
        return split_nats_url(self.nats_url)

    @property
    def sqlalchemy_url(self) -> str:
        return to_sqlalchemy_url(self.database_url)


def split_nats_url(value: str) -> list[str]:
    return [url.strip() for url in value.split(",") if url.strip()]


def to_sqlalchemy_url(url: str) -> str:
    """Accept a plain ``postgresql://`` URL and use the psycopg 3 driver for it."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    raise ValueError(f"not a PostgreSQL URL: {url!r}")
