"""Responses: when a scan was last reopened and restored, so that a close or delete overtaken by
a later reopen or restore (they travel on different consumers) does not undo it.

Revision ID: resp0004l
"""

import sqlalchemy as sa
from alembic import op

revision = "resp0004l"
down_revision = "resp0003"
SCHEMA = "responses"


def upgrade() -> None:
    op.add_column("questionnaires", sa.Column("reopened_at", sa.DateTime(timezone=True)),
                  schema=SCHEMA)
    op.add_column("questionnaires", sa.Column("restored_at", sa.DateTime(timezone=True)),
                  schema=SCHEMA)


def downgrade() -> None:
    op.drop_column("questionnaires", "restored_at", schema=SCHEMA)
    op.drop_column("questionnaires", "reopened_at", schema=SCHEMA)
