"""Scoring: what completion reads, kept ready: the submitted count on the questionnaire (no
COUNT(*)) and each response's answers as statement id -> answer (no unpacking of the list).

Revision ID: score0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "score0003"
down_revision = "score0002"
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
    op.add_column("scored_responses", sa.Column("answer_map", pg.JSONB), schema=SCHEMA)
    op.execute(f"""
        UPDATE {SCHEMA}.scored_responses
        SET answer_map = coalesce((SELECT jsonb_object_agg(a ->> 'statement_id', a ->> 'answer')
                                   FROM jsonb_array_elements(answers) a), '{{}}'::jsonb)
    """)
    op.alter_column("scored_responses", "answer_map", nullable=False, schema=SCHEMA)


def downgrade() -> None:
    op.drop_column("scored_responses", "answer_map", schema=SCHEMA)
    op.drop_column("questionnaires", "submitted", schema=SCHEMA)
