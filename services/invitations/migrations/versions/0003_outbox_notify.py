"""Invitations: a commit that writes outbox rows wakes the outbox relays at once (NOTIFY).

Revision ID: inv0003
"""

from alembic import op

from shared.db import drop_outbox_notify_ddl, outbox_notify_ddl

revision = "inv0003"
down_revision = "inv0002"
SCHEMA = "invitations"


def upgrade() -> None:
    for statement in outbox_notify_ddl(SCHEMA):
        op.execute(statement)


def downgrade() -> None:
    for statement in drop_outbox_notify_ddl(SCHEMA):
        op.execute(statement)
