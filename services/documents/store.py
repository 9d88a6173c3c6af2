"""Documents' table: generated files, each belonging to one organisation."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.ext.asyncio import AsyncConnection

from services.documents import domain
from shared.events import DocumentGenerated

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
    sa.Column("round", sa.Integer, nullable=False, server_default="1"),  # the result round
    sa.UniqueConstraint("questionnaire_id", "kind", "language", "round",
                        name="documents_per_round"),
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
                  documents.c.media_type, documents.c.created_at, documents.c.round)
        .where(documents.c.organisation_id == organisation_id,
               documents.c.questionnaire_id == questionnaire_id)
        .order_by(documents.c.round.desc(), documents.c.kind, documents.c.language)
    )).all()


async def report_languages(conn: AsyncConnection, questionnaire_id: uuid.UUID,
                           round: int = 1) -> set[str]:
    return set((await conn.execute(
        sa.select(documents.c.language).where(documents.c.questionnaire_id == questionnaire_id,
                                              documents.c.kind == domain.REPORT,
                                              documents.c.round == round)
    )).scalars())


async def add_documents(conn: AsyncConnection,
                        generated: list[tuple[DocumentGenerated, bytes]]) -> set[uuid.UUID]:
    """Store each document with its content, all in one statement. Returns the ids of those
    stored: not of one whose kind, language and round another delivery stored first."""
    if not generated:
        return set()
    return set((await conn.execute(pg.insert(documents).values([dict(
        id=d.document_id, organisation_id=d.organisation_id, questionnaire_id=d.questionnaire_id,
        kind=d.kind, language=d.language, filename=d.filename, media_type=d.media_type,
        content=content, sha256=d.sha256, created_at=d.generated_at, round=d.round,
    ) for d, content in generated]).on_conflict_do_nothing().returning(documents.c.id))).scalars())
