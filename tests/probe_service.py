"""The tables of 'probe', a service the bus tests make up: its outbox, inbox and one effects
table (a row per event it handled), in a schema of its own."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import Messaging, make_engine


async def probe_tables(database_url: str, namespace: str,
                       ) -> tuple[AsyncEngine, Messaging, sa.Table]:
    metadata = sa.MetaData(schema="probe")
    effects = sa.Table("effects", metadata, sa.Column("seq", sa.Integer, sa.Identity(),
                                                      primary_key=True),
                       sa.Column("questionnaire_id", sa.Uuid, nullable=False))
    messaging = Messaging(metadata, service="probe", namespace=namespace)
    engine = make_engine(database_url)
    async with engine.begin() as conn:
        await conn.execute(sa.text("CREATE SCHEMA IF NOT EXISTS probe"))
        await conn.run_sync(metadata.create_all)
    return engine, messaging, effects
