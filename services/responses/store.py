"""Responses' tables: its copy of questionnaires and invitations, and the answers."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.ext.asyncio import AsyncConnection

from services.responses.domain import Draft
from shared.content import Answer

SCHEMA = "responses"
metadata = sa.MetaData(schema=SCHEMA)
UUID = pg.UUID(as_uuid=True)
TS = sa.DateTime(timezone=True)

questionnaires = sa.Table(
    "questionnaires", metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("organisation_id", UUID, nullable=False),
    sa.Column("organisation_name", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("content_version", sa.Text, nullable=False),
    sa.Column("deadline", TS, nullable=False),
    sa.Column("closed_at", TS),
    sa.Column("deleted_at", TS),
    sa.Column("reopened_at", TS),  # a close from before it is stale
    sa.Column("restored_at", TS),  # a delete from before it is stale
)

invitations = sa.Table(
    "invitations", metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("questionnaire_id", UUID, nullable=False),
    sa.Column("organisation_id", UUID, nullable=False),
    sa.Column("token_hash", sa.Text, nullable=False, unique=True),
    sa.Column("respondent_name", sa.Text, nullable=False),
    sa.Column("revoked_at", TS),
)

# Every personal link of an invitation that still works (a reminder may carry a new one).
links = sa.Table(
    "links", metadata,
    sa.Column("token_hash", sa.Text, primary_key=True),
    sa.Column("invitation_id", UUID, sa.ForeignKey(invitations.c.id), nullable=False),
)

# The admin's note per statement, copied from guidance.changed.
guidance = sa.Table(
    "guidance", metadata,
    sa.Column("questionnaire_id", UUID, primary_key=True),
    sa.Column("statement_id", sa.Text, primary_key=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("changed_at", TS, nullable=False),
)

responses = sa.Table(
    "responses", metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("invitation_id", UUID, nullable=False, unique=True),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("submitted_at", TS),
    sa.Column("started_at", TS),
)

answers = sa.Table(
    "answers", metadata,
    sa.Column("response_id", UUID, sa.ForeignKey(responses.c.id), primary_key=True),
    sa.Column("statement_id", sa.Text, primary_key=True),
    sa.Column("answer", sa.Text),
    sa.Column("comment", sa.Text),
)


# Built once: a statement made per request costs its construction and its cache key each time.
_INVITATION = (
    sa.select(invitations.c.id.label("invitation_id"), invitations.c.respondent_name,
              invitations.c.revoked_at, questionnaires, responses.c.id.label("response_id"),
              responses.c.submitted_at)
    .join(questionnaires, questionnaires.c.id == invitations.c.questionnaire_id)
    .join(links, links.c.invitation_id == invitations.c.id)  # every link that still works
    .outerjoin(responses, responses.c.invitation_id == invitations.c.id)
    .where(links.c.token_hash == sa.bindparam("token_hash"))
)
_INVITATION_FOR_UPDATE = _INVITATION.with_for_update(of=invitations)
_INVITATION_WITH_DRAFT = (
    _INVITATION.add_columns(answers.c.statement_id, answers.c.answer, answers.c.comment)
    .outerjoin(answers, answers.c.response_id == responses.c.id)
)


async def invitation_by_token_hash(conn: AsyncConnection, token_hash: str, *,
                                   for_update: bool = False):  # noqa: ANN201
    stmt = _INVITATION_FOR_UPDATE if for_update else _INVITATION
    return (await conn.execute(stmt, {"token_hash": token_hash})).first()


async def invitation_with_draft(conn: AsyncConnection, token_hash: str):  # noqa: ANN201
    """The invitation and its saved draft in one round trip (a row per answer), or None."""
    rows = (await conn.execute(_INVITATION_WITH_DRAFT, {"token_hash": token_hash})).all()
    if not rows:
        return None
    return rows[0], _draft([r for r in rows if r.statement_id is not None])


async def load_draft(conn: AsyncConnection, response_id) -> Draft:  # noqa: ANN001
    rows = (await conn.execute(
        sa.select(answers).where(answers.c.response_id == response_id))).all()
    return _draft(rows)


def _draft(rows: list) -> Draft:
    return Draft(answers={r.statement_id: Answer(r.answer) for r in rows if r.answer},
                 comments={r.statement_id: r.comment for r in rows if r.comment})


async def save_draft(conn: AsyncConnection, response_id, invitation_id, draft: Draft,  # noqa: ANN001
                     *, now, submitted: bool) -> tuple:  # noqa: ANN001
    """Save the draft; returns the response's id and whether this save created the response.

    Whether it created it is PostgreSQL's word (a row inserted, not updated), so two first
    saves at once still start the response only once.
    """
    stmt = pg.insert(responses).values(id=response_id, invitation_id=invitation_id,
                                       updated_at=now, submitted_at=now if submitted else None,
                                       started_at=now)
    response_id, created = (await conn.execute(stmt.on_conflict_do_update(
        index_elements=["invitation_id"],
        set_={"updated_at": now, "submitted_at": now if submitted else None},
    ).returning(responses.c.id, sa.literal_column("xmax = 0")))).one()
    ids = sorted(set(draft.answers) | set(draft.comments))
    await conn.execute(_SAVE_ANSWERS, {
        "response_id": response_id, "ids": ids,
        "answers": [draft.answers[sid].value if sid in draft.answers else None for sid in ids],
        "comments": [draft.comments.get(sid) for sid in ids],
    })
    return response_id, created


# A whole draft in one statement, its columns as arrays (a save sends up to 84 statements).
# Only what changed is written: a respondent saves often and changes little each time, and an
# unchanged row rewritten is a dead row for vacuum to clear.
_SAVE_ANSWERS = sa.text(f"""
    WITH given AS (
        SELECT * FROM unnest(CAST(:ids AS text[]), CAST(:answers AS text[]),
                             CAST(:comments AS text[])) AS g (statement_id, answer, comment)
    ), changed AS (
        SELECT g.* FROM given AS g
        LEFT JOIN {SCHEMA}.answers AS a
            ON a.response_id = CAST(:response_id AS uuid) AND a.statement_id = g.statement_id
        WHERE a.statement_id IS NULL
           OR (a.answer, a.comment) IS DISTINCT FROM (g.answer, g.comment)
    ), cleared AS (
        DELETE FROM {SCHEMA}.answers AS a
        WHERE a.response_id = CAST(:response_id AS uuid)
          AND a.statement_id NOT IN (SELECT statement_id FROM given)
    )
    INSERT INTO {SCHEMA}.answers (response_id, statement_id, answer, comment)
    SELECT CAST(:response_id AS uuid), statement_id, answer, comment FROM changed
    ON CONFLICT (response_id, statement_id) DO UPDATE
        SET answer = excluded.answer, comment = excluded.comment
""")

