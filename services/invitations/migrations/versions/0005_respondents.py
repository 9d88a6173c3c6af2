"""Invitations: every admin is on their organisation's list of respondents, so they can add
themself to a scan like anyone else. Their row is the one with their address if there is one.

Revision ID: inv0005r
"""

from alembic import op

revision = "inv0005r"
down_revision = "inv0004"
SCHEMA = "invitations"


def upgrade() -> None:
    op.execute(f"""
        INSERT INTO {SCHEMA}.respondents (id, organisation_id, name, email, created_at, admin_id)
        SELECT gen_random_uuid(), a.organisation_id, a.name, lower(a.email), now(), a.id
        FROM {SCHEMA}.admins AS a
        WHERE NOT EXISTS (SELECT 1 FROM {SCHEMA}.respondents AS r WHERE r.admin_id = a.id)
        ON CONFLICT (organisation_id, email) DO UPDATE SET admin_id = excluded.admin_id
        WHERE {SCHEMA}.respondents.admin_id IS NULL
    """)


def downgrade() -> None:
    pass  # the rows are ordinary respondents by then; nothing to undo
