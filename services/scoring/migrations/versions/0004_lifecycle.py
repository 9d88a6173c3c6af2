"""Scoring: result rounds. A scan reopened after it completed keeps that result as its round;
its next completion is the next round. A close that a later reopen overtook is ignored.

Revision ID: score0004
"""

import sqlalchemy as sa
from alembic import op

revision = "score0004"
down_revision = "score0003"
SCHEMA = "scoring"
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("questionnaires", sa.Column("round", sa.Integer, nullable=False,
                                              server_default="1"), schema=SCHEMA)
    # Responses counted when this round began: "all submitted" needs one more than that.
    op.add_column("questionnaires", sa.Column("round_start_submitted", sa.Integer,
                                              nullable=False, server_default="0"), schema=SCHEMA)
    op.add_column("questionnaires", sa.Column("closed_reason", sa.Text), schema=SCHEMA)
    op.add_column("questionnaires", sa.Column("reopened_at", TS), schema=SCHEMA)
    op.add_column("scan_results", sa.Column("round", sa.Integer, nullable=False,
                                            server_default="1"), schema=SCHEMA)
    op.drop_constraint("scan_results_pkey", "scan_results", schema=SCHEMA)
    op.create_primary_key("scan_results_pkey", "scan_results", ["questionnaire_id", "round"],
                          schema=SCHEMA)


def downgrade() -> None:
    op.execute(f"DELETE FROM {SCHEMA}.scan_results WHERE round > 1")
    op.drop_constraint("scan_results_pkey", "scan_results", schema=SCHEMA)
    op.create_primary_key("scan_results_pkey", "scan_results", ["questionnaire_id"],
                          schema=SCHEMA)
    op.drop_column("scan_results", "round", schema=SCHEMA)
    for column in ("reopened_at", "closed_reason", "round_start_submitted", "round"):
        op.drop_column("questionnaires", column, schema=SCHEMA)
