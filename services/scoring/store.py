"""Scoring's tables: its copy of questionnaires, scored responses and scan results."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping

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
    # Kept with each insert into scored_responses, so completion needs no COUNT(*).
    sa.Column("submitted", sa.Integer, nullable=False, server_default="0"),
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
    # statement id -> answer: all that completion reads, so it need not unpack ``answers``
    sa.Column("answer_map", pg.JSONB, nullable=False),
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
    return (await lock_questionnaires(conn, {questionnaire_id: organisation_id}))[
        questionnaire_id]


async def lock_questionnaires(conn: AsyncConnection,
                              organisations: Mapping[uuid.UUID, uuid.UUID]) -> dict:
    """``lock_questionnaire`` for several (questionnaire id -> organisation id) at once.

    Rows are created and locked in the order of their ids, so two workers whose batches share
    questionnaires wait for each other instead of deadlocking.
    """
    ids = sorted(organisations)
    await conn.execute(pg.insert(questionnaires).on_conflict_do_nothing(),
                       [{"id": qid, "organisation_id": organisations[qid]} for qid in ids])
    rows = await conn.execute(
        sa.select(questionnaires).where(questionnaires.c.id.in_(ids))
        .order_by(questionnaires.c.id).with_for_update())
    return {row.id: row for row in rows}


async def add_responses(conn: AsyncConnection, responses: list[dict]) -> list:
    """Insert scored responses (a response already there is left as it was) and count them on
    their questionnaires; returns the questionnaires that got new ones, as updated."""
    if not responses:
        return []
    inserted = await conn.execute(
        pg.insert(scored_responses).on_conflict_do_nothing()
        .returning(scored_responses.c.questionnaire_id), responses)
    added = Counter(inserted.scalars())
    if not added:
        return []
    counts = sa.values(sa.column("id", UUID), sa.column("added", sa.Integer),
                       name="counts").data(sorted(added.items()))
    return list(await conn.execute(
        questionnaires.update().where(questionnaires.c.id == counts.c.id)
        .values(submitted=questionnaires.c.submitted + counts.c.added)
        .returning(*questionnaires.c)))


async def raise_invitations_total(conn: AsyncConnection,
                                  totals: Mapping[uuid.UUID, int]) -> list:
    """Raise each questionnaire's invitations_total to at least the given one (invitations may
    arrive in any order); returns the questionnaires as updated."""
    given = sa.values(sa.column("id", UUID), sa.column("total", sa.Integer),
                      name="given").data(sorted(totals.items()))
    return list(await conn.execute(
        questionnaires.update().where(questionnaires.c.id == given.c.id)
        .values(invitations_total=sa.func.greatest(questionnaires.c.invitations_total,
                                                   given.c.total))
        .returning(*questionnaires.c)))


async def answers_of(conn: AsyncConnection, questionnaire_id: uuid.UUID):  # noqa: ANN201
    """Each response's answers as stored (statement id -> answer), in invitation order."""
    return (await conn.execute(
        sa.select(scored_responses.c.invitation_id, scored_responses.c.answer_map)
        .where(scored_responses.c.questionnaire_id == questionnaire_id)
        .order_by(scored_responses.c.invitation_id)
    )).all()


async def result_for(conn: AsyncConnection, organisation_id: uuid.UUID,
                     questionnaire_id: uuid.UUID):  # noqa: ANN201
    return (await conn.execute(
        sa.select(scan_results).where(scan_results.c.questionnaire_id == questionnaire_id,
                                      scan_results.c.organisation_id == organisation_id)
    )).first()
