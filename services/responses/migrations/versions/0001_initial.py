"""Responses: copies of questionnaires and invitations, responses and answers.

Revision ID: resp0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from shared.db import create_messaging_tables

revision = "resp0001"
down_revision = None
SCHEMA = "responses"
UUID = pg.UUID(as_uuid=True)
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "questionnaires",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("organisation_id", UUID, nullable=False),
        sa.Column("organisation_name", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("content_version", sa.Text, nullable=False),
        sa.Column("deadline", TS, nullable=False),
        sa.Column("closed_at", TS),
        schema=SCHEMA,
    )
    op.create_table(
        "invitations",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("questionnaire_id", UUID, nullable=False),
        sa.Column("organisation_id", UUID, nullable=False),
        sa.Column("token_hash", sa.Text, nullable=False, unique=True),
        sa.Column("respondent_name", sa.Text, nullable=False),
        schema=SCHEMA,
    )
    op.create_table(
        "responses",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("invitation_id", UUID, nullable=False, unique=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("submitted_at", TS),
        schema=SCHEMA,
    )
    op.create_table(
        "answers",
        sa.Column("response_id", UUID, sa.ForeignKey(f"{SCHEMA}.responses.id"), primary_key=True),
        sa.Column("statement_id", sa.Text, primary_key=True),
        sa.Column("answer", sa.Text),
        sa.Column("comment", sa.Text),
        schema=SCHEMA,
    )
    create_messaging_tables(op, SCHEMA)


def downgrade() -> None:
    for table in ("inbox", "outbox", "answers", "responses", "invitations", "questionnaires"):
        op.drop_table(table, schema=SCHEMA)
