"""Invitations: organisations, admins, respondents, questionnaires, invitations.

Revision ID: inv0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from shared.db import create_messaging_tables

revision = "inv0001"
down_revision = None
SCHEMA = "invitations"
UUID = pg.UUID(as_uuid=True)
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False, server_default="other_public"),
        sa.Column("size_band", sa.Text, nullable=False, server_default="medium"),
        sa.Column("created_at", TS, nullable=False),
        schema=SCHEMA,
    )
    op.create_table(
        "admins",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("organisation_id", UUID, sa.ForeignKey(f"{SCHEMA}.organisations.id"),
                  nullable=False),
        sa.Column("email", sa.Text, nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        schema=SCHEMA,
    )
    op.create_table(
        "respondents",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("organisation_id", UUID, sa.ForeignKey(f"{SCHEMA}.organisations.id"),
                  nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("organisation_id", "email"),
        schema=SCHEMA,
    )
    op.create_table(
        "questionnaires",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("organisation_id", UUID, sa.ForeignKey(f"{SCHEMA}.organisations.id"),
                  nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("content_version", sa.Text, nullable=False),
        sa.Column("deadline", TS, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("closed_at", TS),
        sa.Column("completed_at", TS),
        sa.Column("overall_percent", sa.Float),
        sa.Column("overall_level", sa.Integer),
        schema=SCHEMA,
    )
    op.create_table(
        "reports",
        sa.Column("questionnaire_id", UUID, sa.ForeignKey(f"{SCHEMA}.questionnaires.id"),
                  primary_key=True),
        sa.Column("language", sa.Text, primary_key=True),
        sa.Column("document_id", UUID, nullable=False),
        schema=SCHEMA,
    )
    op.create_index("questionnaires_by_organisation", "questionnaires",
                    ["organisation_id", "created_at"], schema=SCHEMA)
    op.create_table(
        "participants",
        sa.Column("questionnaire_id", UUID, sa.ForeignKey(f"{SCHEMA}.questionnaires.id"),
                  primary_key=True),
        sa.Column("respondent_id", UUID, sa.ForeignKey(f"{SCHEMA}.respondents.id"),
                  primary_key=True),
        schema=SCHEMA,
    )
    op.create_table(
        "invitations",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("questionnaire_id", UUID, sa.ForeignKey(f"{SCHEMA}.questionnaires.id"),
                  nullable=False),
        sa.Column("respondent_id", UUID, sa.ForeignKey(f"{SCHEMA}.respondents.id"),
                  nullable=False),
        sa.Column("organisation_id", UUID, nullable=False),
        sa.Column("token_hash", sa.Text, nullable=False, unique=True),
        sa.Column("sent_at", TS, nullable=False),
        sa.Column("submitted_at", TS),
        sa.UniqueConstraint("questionnaire_id", "respondent_id"),
        schema=SCHEMA,
    )
    create_messaging_tables(op, SCHEMA)


def downgrade() -> None:
    for table in ("inbox", "outbox", "invitations", "participants", "reports", "questionnaires",
                  "respondents", "admins", "organisations"):
        op.drop_table(table, schema=SCHEMA)
