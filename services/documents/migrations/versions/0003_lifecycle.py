"""Documents: reports per result round. A reopened scan's next completion has reports of its
own; the earlier round's stay.

Revision ID: doc0003
"""

import sqlalchemy as sa
from alembic import op

revision = "doc0003"
down_revision = "doc0002"
SCHEMA = "documents"


def upgrade() -> None:
    op.add_column("documents", sa.Column("round", sa.Integer, nullable=False,
                                         server_default="1"), schema=SCHEMA)
    op.drop_constraint("documents_questionnaire_id_kind_language_key", "documents",
                       schema=SCHEMA)
    op.create_unique_constraint("documents_per_round", "documents",
                                ["questionnaire_id", "kind", "language", "round"],
                                schema=SCHEMA)


def downgrade() -> None:
    op.execute(f"DELETE FROM {SCHEMA}.documents WHERE round > 1")
    op.drop_constraint("documents_per_round", "documents", schema=SCHEMA)
    op.create_unique_constraint("documents_questionnaire_id_kind_language_key", "documents",
                                ["questionnaire_id", "kind", "language"], schema=SCHEMA)
    op.drop_column("documents", "round", schema=SCHEMA)
