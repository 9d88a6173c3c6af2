"""Invitations: the admin's scan work. Respondents get a language, tags, a removal date and
(for an admin) their account; questionnaires a mail language, reminder rules, deletion dates and
a result round; invitations a mail state, a start and reminders; the mails to send are queued;
the admin's mail texts and guidance per statement are kept.

Revision ID: inv0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "inv0004"
down_revision = "inv0003"
SCHEMA = "invitations"
UUID = pg.UUID(as_uuid=True)
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    add = lambda table, column: op.add_column(table, column, schema=SCHEMA)  # noqa: E731
    add("respondents", sa.Column("language", sa.Text, nullable=False, server_default="nl"))
    add("respondents", sa.Column("tags", pg.ARRAY(sa.Text), nullable=False,
                                 server_default="{}"))
    add("respondents", sa.Column("removed_at", TS))
    add("respondents", sa.Column("admin_id", UUID))
    op.create_index("respondents_of_admin", "respondents", ["admin_id"], unique=True,
                    schema=SCHEMA, postgresql_where=sa.text("admin_id IS NOT NULL"))

    add("questionnaires", sa.Column("mail_language", sa.Text, nullable=False,
                                    server_default="nl"))
    add("questionnaires", sa.Column("updated_at", TS))
    add("questionnaires", sa.Column("deleted_at", TS))
    add("questionnaires", sa.Column("purge_after", TS))
    add("questionnaires", sa.Column("round", sa.Integer, nullable=False, server_default="1"))
    add("questionnaires", sa.Column("reminder_gap_days", sa.Integer, nullable=False,
                                    server_default="3"))
    add("questionnaires", sa.Column("reminder_max", sa.Integer, nullable=False,
                                    server_default="3"))
    add("questionnaires", sa.Column("auto_remind_days_before", sa.Integer))

    op.alter_column("invitations", "sent_at", nullable=True, schema=SCHEMA)
    op.alter_column("invitations", "token_hash", nullable=True, schema=SCHEMA)
    add("invitations", sa.Column("created_at", TS))
    op.execute(f"UPDATE {SCHEMA}.invitations SET created_at = sent_at")
    op.alter_column("invitations", "created_at", nullable=False, schema=SCHEMA)
    add("invitations", sa.Column("mail_state", sa.Text, nullable=False, server_default="sent"))
    add("invitations", sa.Column("mail_error", sa.Text))
    add("invitations", sa.Column("started_at", TS))
    add("invitations", sa.Column("reminders", sa.Integer, nullable=False, server_default="0"))
    add("invitations", sa.Column("last_reminded_at", TS))
    add("invitations", sa.Column("revoked_at", TS))

    op.create_table(
        "mails",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("organisation_id", UUID, nullable=False),
        sa.Column("questionnaire_id", UUID, sa.ForeignKey(f"{SCHEMA}.questionnaires.id"),
                  nullable=False),
        sa.Column("invitation_id", UUID, sa.ForeignKey(f"{SCHEMA}.invitations.id"),
                  nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS),
        schema=SCHEMA,
    )
    op.create_index("mails_due", "mails", ["next_attempt_at"], schema=SCHEMA,
                    postgresql_where=sa.text("state IN ('queued', 'sending')"))
    op.create_index("mails_of_invitation", "mails", ["invitation_id"], schema=SCHEMA)

    op.create_table(
        "mail_texts",
        sa.Column("questionnaire_id", UUID, sa.ForeignKey(f"{SCHEMA}.questionnaires.id"),
                  primary_key=True),
        sa.Column("kind", sa.Text, primary_key=True),
        sa.Column("language", sa.Text, primary_key=True),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        schema=SCHEMA,
    )
    op.create_table(
        "guidance",
        sa.Column("questionnaire_id", UUID, sa.ForeignKey(f"{SCHEMA}.questionnaires.id"),
                  primary_key=True),
        sa.Column("statement_id", sa.Text, primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        schema=SCHEMA,
    )


def downgrade() -> None:
    for table in ("guidance", "mail_texts", "mails"):
        op.drop_table(table, schema=SCHEMA)
    for column in ("revoked_at", "last_reminded_at", "reminders", "started_at", "mail_error",
                   "mail_state", "created_at"):
        op.drop_column("invitations", column, schema=SCHEMA)
    for column in ("auto_remind_days_before", "reminder_max", "reminder_gap_days", "round",
                   "purge_after", "deleted_at", "updated_at", "mail_language"):
        op.drop_column("questionnaires", column, schema=SCHEMA)
    op.drop_index("respondents_of_admin", "respondents", schema=SCHEMA)
    for column in ("admin_id", "removed_at", "tags", "language"):
        op.drop_column("respondents", column, schema=SCHEMA)
