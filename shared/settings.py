"""Settings from ``ISO20400_*`` environment variables, one class for every service."""

from __future__ import annotations

import math
import re

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "embedded-development-secret-not-for-production"
MIN_SECRET_BITS = 128
# Words placeholders are made of: they add no randomness, so they count for nothing.
_PLACEHOLDER_WORDS = re.compile(
    r"replace|change|secret|random|value|default|example|password|passwd|please|insert|your|"
    r"here|with|long|key|token|must|set|test|prod|production|development|todo|fixme|"
    r"dummy|sample|placeholder|iso20400|scan|admin|letmein|qwerty",
    re.IGNORECASE)
_CLASSES = ((r"[a-z]", 26), (r"[A-Z]", 26), (r"[0-9]", 10), (r"[^a-zA-Z0-9]", 33))
# Words between separators, like "correct-horse-battery": each is worth about one draw from a
# 7,776-word list, however long it is.
_WORD = r"(?:[A-Z]?[a-z]+|[A-Z]+)"
_PASSPHRASE = re.compile(rf"{_WORD}(?:[^A-Za-z0-9]+{_WORD})+")
_BITS_PER_WORD = math.log2(7776)


def secret_bits(secret: str) -> float:
    """A cautious estimate of the randomness in ``secret``, in bits.

    Placeholder words count for nothing, a repeated block counts once, a step of a run like
    "abcd" or "1111" counts one bit, and no character counts for more than the alphabet its
    classes suggest or twice the variety of characters actually used. Words separated by
    punctuation count as words from a list, not as letters.
    """
    if _PASSPHRASE.fullmatch(secret):
        words = {w.lower() for w in re.findall(r"[A-Za-z]+", secret)
                 if not _PLACEHOLDER_WORDS.fullmatch(w)}
        return len(words) * _BITS_PER_WORD
    rest = _PLACEHOLDER_WORDS.sub("", secret)
    for period in range(1, len(rest) // 2 + 1):
        if (rest[:period] * (len(rest) // period + 1))[:len(rest)] == rest:
            rest = rest[:period]
            break
    if not rest:
        return 0.0
    pool = sum(size for pattern, size in _CLASSES if re.search(pattern, secret))
    per_char = math.log2(min(pool, 2 * len(set(rest))))
    bits, previous, step = per_char, rest[0], None
    for char in rest[1:]:
        delta = ord(char) - ord(previous)
        bits += 1.0 if delta == step and abs(delta) <= 1 else per_char
        previous, step = char, delta
    return bits


def secret_problem(secret: str) -> str | None:
    if len(secret) < 32:
        return "is shorter than 32 characters"
    if (bits := secret_bits(secret)) < MIN_SECRET_BITS:
        return f"looks like a placeholder or a pattern (about {bits:.0f} bits of randomness)"
    return None


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
    batch_size: int = Field(default=50, ge=1, le=100, description="Events a batch consumer "
                            "handles in one transaction at most")
    ack_wait: float = Field(default=30.0, ge=1, description="Seconds before an unacked event is "
                            "redelivered (a worker that died); busy handlers extend it")
    stream_replicas: int = Field(default=1, ge=1, le=5, description="3 on a NATS cluster")
    relay_interval: float = Field(default=1.0, gt=0, description=(
        "Seconds between outbox polls, the safety net behind the NOTIFY that wakes the relay "
        "on each commit"))
    sweep_interval: float = Field(default=30.0, gt=0, description=(
        "Seconds between the invitations service's sweeps that close scans past their deadline "
        "and purge scans deleted more than 30 days ago"))
    cookie_secure: bool = False
    link_guesses_per_minute: int = Field(
        default=10, ge=1, description="Unknown personal links one client address may try per "
        "minute before it is answered 429")
    mailbox_dir: str | None = Field(
        default=None, description="Embedded mode: the local mail sink's folder, where the mailer "
        "notes which organisation sent each mail for the mailbox page")

    @model_validator(mode="after")
    def _refuse_weak_secrets(self) -> "Settings":
        if self.embedded:
            return self
        problem = ("is the development default" if self.secret_key == DEV_SECRET
                   else secret_problem(self.secret_key))
        if problem:
            raise ValueError(
                f"ISO20400_SECRET_KEY must be set to a random value of at least 32 characters "
                f"and {MIN_SECRET_BITS} bits outside the embedded mode; this one {problem}. "
                "Make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
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
