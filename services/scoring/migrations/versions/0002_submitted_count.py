"""Scoring: count submitted responses on the questionnaire, so completion needs no COUNT(*).

Revision ID: score0002
"""

import sqlalchemy as sa
from alembic import op

revision = "score0002"
down_revision = "score0001"
SCHEMA = "scoring"


def upgrade() -> None:
    op.add_column("questionnaires",
                  sa.Column("submitted", sa.Integer, nullable=False, server_default="0"),
                  schema=SCHEMA)
    op.execute(f"""
        UPDATE {SCHEMA}.questionnaires q
        SET submitted = (SELECT count(*) FROM {SCHEMA}.scored_responses r
                         WHERE r.questionnaire_id = q.id)
    """)


def downgrade() -> None:
    op.drop_column("questionnaires", "submitted", schema=SCHEMA)
