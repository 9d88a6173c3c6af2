"""Scoring's tables: its copy of questionnaires, scored responses and scan results."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.ext.asyncio import AsyncConnection

SCHEMA = "scoring"
metadata = sa.MetaData(schema=SCHEMA)
UUID = pg.UUID(as_uuid=True)
TS = sa.DateTime(timezone=True)

questionnaires = sa.Table(
    "questionnaires", metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("organisation_id", UUID, nullable=False),
    sa.Column("organisation_name", sa.Text),  # null until questionnaire.created arrived
    sa.Column("title", sa.Text),
    sa.Column("content_version", sa.Text),
    sa.Column("invitations_total", sa.Integer, nullable=False, server_default="0"),
    sa.Column("closed_at", TS),
    sa.Column("completed_at", TS),
)

scored_responses = sa.Table(
    "scored_responses", metadata,
    sa.Column("invitation_id", UUID, primary_key=True),
    sa.Column("response_id", UUID, nullable=False),
    sa.Column("questionnaire_id", UUID, nullable=False, index=True),
    sa.Column("organisation_id", UUID, nullable=False),
    sa.Column("answers", pg.JSONB, nullable=False),
    sa.Column("percent", sa.Float),
    sa.Column("scored_at", TS, nullable=False),
)

scan_results = sa.Table(
    "scan_results", metadata,
    sa.Column("questionnaire_id", UUID, primary_key=True),
    sa.Column("organisation_id", UUID, nullable=False, index=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("result", pg.JSONB, nullable=False),
    sa.Column("completed_at", TS, nullable=False),
)


async def lock_questionnaire(conn: AsyncConnection, questionnaire_id: uuid.UUID,
                             organisation_id: uuid.UUID):  # noqa: ANN201
    """Create the row if this is the first event about it, then lock it.

    Every handler takes this lock first, so concurrent workers handle one questionnaire's
    events one at a time and completion is decided exactly once.
    """
    await conn.execute(pg.insert(questionnaires).values(
        id=questionnaire_id, organisation_id=organisation_id).on_conflict_do_nothing())
    return (await conn.execute(
        sa.select(questionnaires).where(questionnaires.c.id == questionnaire_id)
        .with_for_update()
    )).one()


async def submitted_count(conn: AsyncConnection, questionnaire_id: uuid.UUID) -> int:
    return await conn.scalar(
        sa.select(sa.func.count()).select_from(scored_responses)
        .where(scored_responses.c.questionnaire_id == questionnaire_id))


async def responses_of(conn: AsyncConnection, questionnaire_id: uuid.UUID):  # noqa: ANN201
    return (await conn.execute(
        sa.select(scored_responses.c.invitation_id, scored_responses.c.answers)
        .where(scored_responses.c.questionnaire_id == questionnaire_id)
        .order_by(scored_responses.c.invitation_id)
    )).all()


async def result_for(conn: AsyncConnection, organisation_id: uuid.UUID,
                     questionnaire_id: uuid.UUID):  # noqa: ANN201
    return (await conn.execute(
        sa.select(scan_results).where(scan_results.c.questionnaire_id == questionnaire_id,
                                      scan_results.c.organisation_id == organisation_id)
    )).first()
