"""Invitations: a queued mail remembers the admin who queued it, whose name it may carry.

Revision ID: inv0005m
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "inv0005m"
down_revision = "inv0005l"
SCHEMA = "invitations"


def upgrade() -> None:
    op.add_column("mails", sa.Column("admin_id", pg.UUID(as_uuid=True)), schema=SCHEMA)


def downgrade() -> None:
    op.drop_column("mails", "admin_id", schema=SCHEMA)
