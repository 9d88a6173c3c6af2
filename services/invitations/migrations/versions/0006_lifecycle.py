"""Invitations: when a scan was last reopened, so that a completion from before the reopen
(still on its way) does not mark the reopened scan completed again.

Revision ID: inv0005l
"""

import sqlalchemy as sa
from alembic import op

revision = "inv0005l"
down_revision = "inv0005r"
SCHEMA = "invitations"


def upgrade() -> None:
    op.add_column("questionnaires", sa.Column("reopened_at", sa.DateTime(timezone=True)),
                  schema=SCHEMA)
    op.create_index("questionnaires_open_by_deadline", "questionnaires", ["deadline"],
                    schema=SCHEMA, postgresql_where=sa.text("status = 'open'"))
    op.create_index("questionnaires_deleted_by_purge", "questionnaires", ["purge_after"],
                    schema=SCHEMA, postgresql_where=sa.text("deleted_at IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("questionnaires_deleted_by_purge", "questionnaires", schema=SCHEMA)
    op.drop_index("questionnaires_open_by_deadline", "questionnaires", schema=SCHEMA)
    op.drop_column("questionnaires", "reopened_at", schema=SCHEMA)
