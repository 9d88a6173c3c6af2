"""Scoring: a commit that writes outbox rows wakes the outbox relays at once (NOTIFY).

Revision ID: score0002
"""

from alembic import op

from shared.db import drop_outbox_notify_ddl, outbox_notify_ddl

revision = "score0002"
down_revision = "score0001"
SCHEMA = "scoring"


def upgrade() -> None:
    for statement in outbox_notify_ddl(SCHEMA):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_outbox_notify_ddl(SCHEMA):
        op.execute(statement)
