"""Scoring's tables: its copy of questionnaires, scored responses and scan results."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

import sqlalchemy as sa
from pydantic import TypeAdapter
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import TypeEngine
from typing_extensions import TypedDict

from shared.content import Answer
from shared.events import AnswerGiven

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
    sa.Column("completed_at", TS),  # of the current round
    sa.Column("round", sa.Integer, nullable=False, server_default="1"),
    # ``submitted`` when this round began: a reopened scan completes by itself only once
    # someone submits in it, not at once because everyone had submitted before.
    sa.Column("round_start_submitted", sa.Integer, nullable=False, server_default="0"),
    sa.Column("closed_reason", sa.Text),  # closed_by_admin or deadline_passed
    sa.Column("reopened_at", TS),  # a close from before the last reopen is stale
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
    sa.Column("round", sa.Integer, primary_key=True, server_default="1"),
    sa.Column("organisation_id", UUID, nullable=False, index=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("result", pg.JSONB, nullable=False),
    sa.Column("completed_at", TS, nullable=False),
)


def _rows(**columns: TypeEngine) -> sa.TableValuedAlias:
    """``unnest(:a, :b, ...) AS rows(a, b, ...)``: rows given as one array per column.

    A statement over these has the same text for any number of rows, so SQLAlchemy compiles
    it once and PostgreSQL prepares it once, where a multi-row VALUES list is new text for
    each batch size (and a cache miss for each batch).
    """
    return (sa.func.unnest(*[sa.bindparam(f"rows_{name}", type_=pg.ARRAY(type_))
                             for name, type_ in columns.items()])
            .table_valued(*[sa.column(name, type_) for name, type_ in columns.items()])
            .render_derived(name="rows"))


def _arrays(**columns: Sequence) -> dict[str, list]:
    """The parameters of ``_rows``: each column's values, in row order."""
    return {f"rows_{name}": list(values) for name, values in columns.items()}


_new = _rows(id=UUID, organisation_id=UUID)
_insert_new = pg.insert(questionnaires).from_select(
    ["id", "organisation_id"], sa.select(_new.c.id, _new.c.organisation_id))
# One round trip: a row not there yet is inserted, one that is gets a row lock from an update
# that changes nothing, and either way comes back as it now is.
_create_and_lock = (
    _insert_new
    .on_conflict_do_update(index_elements=[questionnaires.c.id],
                           set_={"organisation_id": questionnaires.c.organisation_id})
    .returning(*questionnaires.c))


async def lock_questionnaires(conn: AsyncConnection,
                              organisations: Mapping[uuid.UUID, uuid.UUID]) -> dict:
    """Create the rows of questionnaires (id -> organisation id) not seen before, then lock
    them all; returns them by id.

    Every handler takes these locks first, so concurrent workers handle one questionnaire's
    events one at a time and completion is decided exactly once. Rows are created and locked
    in the order of their ids, so two batches that share questionnaires wait for each other
    instead of deadlocking.
    """
    ids = sorted(organisations)
    rows = await conn.execute(_create_and_lock, _arrays(
        id=ids, organisation_id=[organisations[qid] for qid in ids]))
    return {row.id: row for row in rows}


class NewResponse(TypedDict):
    """A scored response for ``add_responses``."""

    invitation_id: uuid.UUID
    response_id: uuid.UUID
    questionnaire_id: uuid.UUID
    organisation_id: uuid.UUID
    answers: tuple[AnswerGiven, ...]
    answer_map: dict[str, Answer]  # statement id -> answer: all that completion reads
    percent: float | None


# The rows travel as one JSON document, written by pydantic's serializer and read by
# PostgreSQL: 84 answers a row would cost more through the standard library's json and
# psycopg's escaping of a text array.
_NEW_RESPONSES = TypeAdapter(list[NewResponse])
_new_responses = (
    sa.func.jsonb_to_recordset(sa.cast(sa.bindparam("responses", type_=sa.Text), pg.JSONB))
    .table_valued(*[sa.column(c.name, c.type) for c in scored_responses.c
                    if c.name in NewResponse.__annotations__])
    .render_derived(name="rows", with_types=True))
_inserted = (
    pg.insert(scored_responses)
    .from_select([*_new_responses.c.keys(), "scored_at"],
                 sa.select(*_new_responses.c, sa.bindparam("scored_at", type_=TS)))
    .on_conflict_do_nothing()
    .returning(scored_responses.c.questionnaire_id)
    .cte("inserted"))
_added = (sa.select(_inserted.c.questionnaire_id, sa.func.count().label("added"))
          .group_by(_inserted.c.questionnaire_id).subquery("added"))
# Inserted and counted in one statement, so completion needs no COUNT(*).
_add_and_count = (
    questionnaires.update().where(questionnaires.c.id == _added.c.questionnaire_id)
    .values(submitted=questionnaires.c.submitted + _added.c.added)
    .returning(*questionnaires.c))


async def add_responses(conn: AsyncConnection, responses: list[NewResponse],
                        *, scored_at: datetime) -> list:
    """Insert scored responses (a response already there is left as it was) and count them on
    their questionnaires; returns the questionnaires that got new ones, as updated."""
    if not responses:
        return []
    return list(await conn.execute(_add_and_count, {
        "responses": _NEW_RESPONSES.dump_json(responses).decode(), "scored_at": scored_at}))


_given = _rows(id=UUID, total=sa.Integer)
_raise_invitations_total = (
    questionnaires.update().where(questionnaires.c.id == _given.c.id)
    .values(invitations_total=sa.func.greatest(questionnaires.c.invitations_total,
                                               _given.c.total))
    .returning(*questionnaires.c))


async def raise_invitations_total(conn: AsyncConnection,
                                  totals: Mapping[uuid.UUID, int]) -> list:
    """Raise each questionnaire's invitations_total to at least the given one (invitations may
    arrive in any order); returns the questionnaires as updated."""
    ids = sorted(totals)
    return list(await conn.execute(
        _raise_invitations_total, _arrays(id=ids, total=[totals[qid] for qid in ids])))


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
        .order_by(scan_results.c.round.desc()).limit(1)  # the latest round's
    )).first()
