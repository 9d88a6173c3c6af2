"""Responses: every personal link of an invitation (a reminder may carry a new one; a new link
can replace the earlier ones), deleted scans, the admin's guidance per statement, and when a
response was started.

Revision ID: resp0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "resp0003"
down_revision = "resp0002"
SCHEMA = "responses"
UUID = pg.UUID(as_uuid=True)
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "links",
        sa.Column("token_hash", sa.Text, primary_key=True),
        sa.Column("invitation_id", UUID, sa.ForeignKey(f"{SCHEMA}.invitations.id"),
                  nullable=False),
        schema=SCHEMA,
    )
    op.create_index("links_of_invitation", "links", ["invitation_id"], schema=SCHEMA)
    op.execute(f"INSERT INTO {SCHEMA}.links (token_hash, invitation_id) "
               f"SELECT token_hash, id FROM {SCHEMA}.invitations")
    op.add_column("invitations", sa.Column("revoked_at", TS), schema=SCHEMA)
    op.add_column("questionnaires", sa.Column("deleted_at", TS), schema=SCHEMA)
    op.add_column("responses", sa.Column("started_at", TS), schema=SCHEMA)
    op.create_table(
        "guidance",
        sa.Column("questionnaire_id", UUID, primary_key=True),
        sa.Column("statement_id", sa.Text, primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("changed_at", TS, nullable=False),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("guidance", schema=SCHEMA)
    op.drop_column("responses", "started_at", schema=SCHEMA)
    op.drop_column("questionnaires", "deleted_at", schema=SCHEMA)
    op.drop_column("invitations", "revoked_at", schema=SCHEMA)
    op.drop_table("links", schema=SCHEMA)
