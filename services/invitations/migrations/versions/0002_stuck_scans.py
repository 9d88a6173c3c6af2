"""Invitations: scans whose completion is stuck on a dead-lettered event.

Revision ID: inv0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "inv0002"
down_revision = "inv0001"
SCHEMA = "invitations"
UUID = pg.UUID(as_uuid=True)


def upgrade() -> None:
    op.create_table(
        "stuck_scans",
        sa.Column("questionnaire_id", UUID, sa.ForeignKey(f"{SCHEMA}.questionnaires.id"),
                  primary_key=True),
        sa.Column("organisation_id", UUID, nullable=False),
        sa.Column("consumer", sa.Text, nullable=False),
        sa.Column("event", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("stuck_scans", schema=SCHEMA)
