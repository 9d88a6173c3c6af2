"""Database plumbing every service shares: engine, outbox and inbox tables, migrations."""

from __future__ import annotations

import uuid
import zlib
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from shared.events import CloudEvent, Event, encode_checked, envelope, subject_for
from shared.schema_version import schema_is_current
from shared.settings import to_sqlalchemy_url


def make_engine(database_url: str, *, pool_size: int = 10, pre_ping: bool = True) -> AsyncEngine:
    """``pre_ping=False`` saves a round trip per checkout where every use goes through the
    database gate, which already retries a statement that met a dead connection."""
    # Connections beyond pool_size are closed as soon as they are returned, so a pool smaller
    # than a page's usual concurrency opens a new PostgreSQL connection for most requests.
    # At most pool_size + 5 per engine, as many as before the pool was enlarged.
    return create_async_engine(
        to_sqlalchemy_url(database_url), pool_size=pool_size, max_overflow=5,
        pool_pre_ping=pre_ping,
    )


def outbox_table(metadata: sa.MetaData) -> sa.Table:
    """Events a service emitted, written in the same transaction as the state change."""
    if (existing := metadata.tables.get(f"{metadata.schema}.outbox")) is not None:
        return existing
    return sa.Table(
        "outbox",
        metadata,
        sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("event_id", pg.UUID(as_uuid=True), nullable=False, unique=True),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Index("outbox_unpublished", "seq", postgresql_where=sa.text("published_at IS NULL")),
    )


def outbox_channel(schema: str) -> str:
    """The NOTIFY channel on which a commit that wrote outbox rows wakes the service's relays."""
    return f"{schema}_outbox"


def outbox_notify_ddl(schema: str) -> tuple[str, ...]:
    """SQL that makes every commit writing outbox rows NOTIFY ``outbox_channel(schema)``.

    A statement-level trigger costs the emitting transaction no extra round trip, and
    PostgreSQL delivers the notification only once the transaction commits, so a relay never
    wakes for a row it cannot see yet (nor for one rolled back).
    """
    function = f'"{schema}".notify_outbox'
    return (
        f"""CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN PERFORM pg_notify('{outbox_channel(schema)}', ''); RETURN NULL; END $$""",
        f'DROP TRIGGER IF EXISTS outbox_notify ON "{schema}".outbox',
        (f'CREATE TRIGGER outbox_notify AFTER INSERT ON "{schema}".outbox '
         f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"),
    )


def drop_outbox_notify_ddl(schema: str) -> tuple[str, ...]:
    return (f'DROP TRIGGER IF EXISTS outbox_notify ON "{schema}".outbox',
            f'DROP FUNCTION IF EXISTS "{schema}".notify_outbox()')


def inbox_table(metadata: sa.MetaData) -> sa.Table:
    """Event ids a consumer handled, written in the same transaction as the effect."""
    if (existing := metadata.tables.get(f"{metadata.schema}.inbox")) is not None:
        return existing
    return sa.Table(
        "inbox",
        metadata,
        sa.Column("consumer", sa.Text, primary_key=True),
        sa.Column("event_id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
    )


class Messaging:
    """A service's outbox and inbox, bound to its schema and bus namespace."""

    def __init__(self, metadata: sa.MetaData, *, service: str, namespace: str) -> None:
        self.outbox = outbox_table(metadata)
        self.channel = outbox_channel(metadata.schema)
        self.inbox = inbox_table(metadata)
        self.service = service
        self.namespace = namespace
        # One array of ids rather than a VALUES row each: the same statement for any batch
        # size, compiled once and prepared once.
        inbox = self.inbox
        self._record_handled = (
            pg.insert(inbox)
            .from_select(["consumer", "event_id", "handled_at"], sa.select(
                sa.bindparam("consumer", type_=sa.Text),
                sa.func.unnest(sa.bindparam("event_ids", type_=pg.ARRAY(inbox.c.event_id.type))),
                sa.bindparam("now", type_=inbox.c.handled_at.type)))
            .on_conflict_do_nothing()
            .returning(inbox.c.event_id))

    async def emit(self, conn: AsyncConnection, event: Event, *, now: datetime) -> CloudEvent:
        env = envelope(event, source=self.service, time=now)
        await conn.execute(
            self.outbox.insert().values(
                event_id=env.id,
                subject=subject_for(self.namespace, type(event), event.organisation_id),
                payload=encode_checked(env),
                created_at=now,
            )
        )
        return env

    async def first_times(self, conn: AsyncConnection, *, consumer: str,
                          event_ids: list[uuid.UUID], now: datetime) -> set[uuid.UUID]:
        """Record that ``consumer`` handles ``event_ids``; returns those it had not handled."""
        return set((await conn.execute(self._record_handled, {
            "consumer": consumer, "event_ids": list(event_ids), "now": now})).scalars())


def run_migrations(database_url: str, *, schema: str, migrations: Path) -> None:
    """Bring one service's schema to the newest revision (safe to call from many replicas)."""
    if schema_is_current(database_url, schema=schema, migrations=migrations):
        return  # the usual restart, told without importing alembic
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations))
    cfg.attributes["database_url"] = to_sqlalchemy_url(database_url)
    cfg.attributes["schema"] = schema
    command.upgrade(cfg, "head")


def run_alembic_env() -> None:
    """Body of every service's ``migrations/env.py``: online migrations under an advisory lock."""
    from alembic import context

    cfg = context.config
    schema: str = cfg.attributes["schema"]
    engine = sa.create_engine(cfg.attributes["database_url"], poolclass=sa.pool.NullPool)
    lock_key = zlib.crc32(f"iso20400-migrate-{schema}".encode())
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": lock_key})
        try:
            conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            conn.commit()
            context.configure(
                connection=conn,
                version_table_schema=schema,
                include_schemas=True,
            )
            with context.begin_transaction():
                context.run_migrations()
            conn.commit()
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": lock_key})
            conn.commit()
    engine.dispose()


def create_messaging_tables(op, schema: str) -> None:  # noqa: ANN001 - alembic's op module
    """Used by each service's first migration: its outbox and inbox, as defined above."""
    metadata = sa.MetaData(schema=schema)
    outbox_table(metadata)
    inbox_table(metadata)
    metadata.create_all(op.get_bind())
