"""Documents' table: generated files, each belonging to one organisation."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.ext.asyncio import AsyncConnection

from services.documents import domain

SCHEMA = "documents"
metadata = sa.MetaData(schema=SCHEMA)
UUID = pg.UUID(as_uuid=True)
TS = sa.DateTime(timezone=True)

documents = sa.Table(
    "documents", metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("organisation_id", UUID, nullable=False),
    sa.Column("questionnaire_id", UUID, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("language", sa.Text, nullable=False),
    sa.Column("filename", sa.Text, nullable=False),
    sa.Column("media_type", sa.Text, nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=False),
    sa.Column("sha256", sa.Text, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.UniqueConstraint("questionnaire_id", "kind", "language"),
)


async def document(conn: AsyncConnection, organisation_id: uuid.UUID, document_id: uuid.UUID):  # noqa: ANN201
    return (await conn.execute(
        sa.select(documents).where(documents.c.id == document_id,
                                   documents.c.organisation_id == organisation_id)
    )).first()


async def documents_of(conn: AsyncConnection, organisation_id: uuid.UUID,
                       questionnaire_id: uuid.UUID):  # noqa: ANN201
    return (await conn.execute(
        sa.select(documents.c.id, documents.c.kind, documents.c.language, documents.c.filename,
                  documents.c.media_type, documents.c.created_at)
        .where(documents.c.organisation_id == organisation_id,
               documents.c.questionnaire_id == questionnaire_id)
        .order_by(documents.c.kind, documents.c.language)
    )).all()


async def report_languages(conn: AsyncConnection, questionnaire_id: uuid.UUID) -> set[str]:
    return set((await conn.execute(
        sa.select(documents.c.language).where(documents.c.questionnaire_id == questionnaire_id,
                                              documents.c.kind == domain.REPORT)
    )).scalars())
