"""Scoring: copies of questionnaires, scored responses, scan results.

Revision ID: score0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from shared.db import create_messaging_tables

revision = "score0001"
down_revision = None
SCHEMA = "scoring"
UUID = pg.UUID(as_uuid=True)
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "questionnaires",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("organisation_id", UUID, nullable=False),
        sa.Column("organisation_name", sa.Text),
        sa.Column("title", sa.Text),
        sa.Column("content_version", sa.Text),
        sa.Column("invitations_total", sa.Integer, nullable=False, server_default="0"),
        sa.Column("closed_at", TS),
        sa.Column("completed_at", TS),
        schema=SCHEMA,
    )
    op.create_table(
        "scored_responses",
        sa.Column("invitation_id", UUID, primary_key=True),
        sa.Column("response_id", UUID, nullable=False),
        sa.Column("questionnaire_id", UUID, nullable=False, index=True),
        sa.Column("organisation_id", UUID, nullable=False),
        sa.Column("answers", pg.JSONB, nullable=False),
        sa.Column("percent", sa.Float),
        sa.Column("scored_at", TS, nullable=False),
        schema=SCHEMA,
    )
    op.create_table(
        "scan_results",
        sa.Column("questionnaire_id", UUID, primary_key=True),
        sa.Column("organisation_id", UUID, nullable=False, index=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("result", pg.JSONB, nullable=False),
        sa.Column("completed_at", TS, nullable=False),
        schema=SCHEMA,
    )
    create_messaging_tables(op, SCHEMA)


def downgrade() -> None:
    for table in ("inbox", "outbox", "scan_results", "scored_responses", "questionnaires"):
        op.drop_table(table, schema=SCHEMA)
