"""Invitations' tables in its own schema, and the queries on them. Every query that serves an
admin takes the admin's organisation id."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.ext.asyncio import AsyncConnection

SCHEMA = "invitations"
metadata = sa.MetaData(schema=SCHEMA)
UUID = pg.UUID(as_uuid=True)
TS = sa.DateTime(timezone=True)

organisations = sa.Table(
    "organisations", metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False, server_default="other_public"),
    sa.Column("size_band", sa.Text, nullable=False, server_default="medium"),
    sa.Column("created_at", TS, nullable=False),
)

admins = sa.Table(
    "admins", metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("organisation_id", UUID, sa.ForeignKey(organisations.c.id), nullable=False),
    sa.Column("email", sa.Text, nullable=False, unique=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("created_at", TS, nullable=False),
)

respondents = sa.Table(
    "respondents", metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("organisation_id", UUID, sa.ForeignKey(organisations.c.id), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("language", sa.Text, nullable=False, server_default="nl"),  # of their mails
    sa.Column("tags", pg.ARRAY(sa.Text), nullable=False, server_default="{}"),  # role, department
    sa.Column("removed_at", TS),  # off the list; their answers in earlier scans stay
    sa.Column("admin_id", UUID),  # the admin themself, answering like anyone else
    sa.UniqueConstraint("organisation_id", "email"),
)

questionnaires = sa.Table(
    "questionnaires", metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("organisation_id", UUID, sa.ForeignKey(organisations.c.id), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("content_version", sa.Text, nullable=False),
    sa.Column("deadline", TS, nullable=False),
    sa.Column("status", sa.Text, nullable=False),  # open, closed, completed
    sa.Column("created_at", TS, nullable=False),
    sa.Column("closed_at", TS),
    sa.Column("completed_at", TS),
    sa.Column("overall_percent", sa.Float),
    sa.Column("overall_level", sa.Integer),
    sa.Column("mail_language", sa.Text, nullable=False, server_default="nl"),
    sa.Column("updated_at", TS),
    sa.Column("deleted_at", TS),  # off the dashboard; restorable until purge_after
    sa.Column("purge_after", TS),
    sa.Column("round", sa.Integer, nullable=False, server_default="1"),  # result round
    sa.Column("reminder_gap_days", sa.Integer, nullable=False, server_default="3"),
    sa.Column("reminder_max", sa.Integer, nullable=False, server_default="3"),
    sa.Column("auto_remind_days_before", sa.Integer),  # None: reminders on demand only
    sa.Column("reopened_at", TS),  # a completion from before it belongs to an earlier round
    sa.Index("questionnaires_by_organisation", "organisation_id", "created_at"),
)

# Respondents chosen for a questionnaire; an invitation row appears once the mail went out.
participants = sa.Table(
    "participants", metadata,
    sa.Column("questionnaire_id", UUID, sa.ForeignKey(questionnaires.c.id), primary_key=True),
    sa.Column("respondent_id", UUID, sa.ForeignKey(respondents.c.id), primary_key=True),
)

# Generated report per language, learnt from document.generated.
reports = sa.Table(
    "reports", metadata,
    sa.Column("questionnaire_id", UUID, sa.ForeignKey(questionnaires.c.id), primary_key=True),
    sa.Column("language", sa.Text, primary_key=True),
    sa.Column("document_id", UUID, nullable=False),
)

invitations = sa.Table(
    "invitations", metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("questionnaire_id", UUID, sa.ForeignKey(questionnaires.c.id), nullable=False),
    sa.Column("respondent_id", UUID, sa.ForeignKey(respondents.c.id), nullable=False),
    sa.Column("organisation_id", UUID, nullable=False),
    sa.Column("token_hash", sa.Text, unique=True),  # of the newest link; None until mailed
    sa.Column("created_at", TS, nullable=False),
    sa.Column("sent_at", TS),  # the invitation mail went out
    sa.Column("submitted_at", TS),
    sa.Column("mail_state", sa.Text, nullable=False, server_default="sent"),  # queued/sent/failed
    sa.Column("mail_error", sa.Text),  # why the last mail failed, for the admin
    sa.Column("started_at", TS),
    sa.Column("reminders", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_reminded_at", TS),
    sa.Column("revoked_at", TS),  # the respondent was taken off the scan
    sa.UniqueConstraint("questionnaire_id", "respondent_id"),
)

# Mails to send, queued by a request and sent by the mail worker with retries: invitations and
# reminders. What they say is rendered when they are sent, from ``mail_texts``.
mails = sa.Table(
    "mails", metadata,
    sa.Column("id", UUID, primary_key=True),
    sa.Column("organisation_id", UUID, nullable=False),
    sa.Column("questionnaire_id", UUID, sa.ForeignKey(questionnaires.c.id), nullable=False),
    sa.Column("invitation_id", UUID, sa.ForeignKey(invitations.c.id), nullable=False),
    sa.Column("kind", sa.Text, nullable=False),  # invitation, reminder_not_started, ..._not_submitted
    sa.Column("state", sa.Text, nullable=False),  # queued, sending, sent, failed
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", TS, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("sent_at", TS),
    sa.Column("admin_id", UUID),  # who queued it, for the admin's name in the mail (0005)
)

# The admin's own subject and body per mail kind and language; the product's text otherwise.
mail_texts = sa.Table(
    "mail_texts", metadata,
    sa.Column("questionnaire_id", UUID, sa.ForeignKey(questionnaires.c.id), primary_key=True),
    sa.Column("kind", sa.Text, primary_key=True),
    sa.Column("language", sa.Text, primary_key=True),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
)

# The admin's note per statement ("Toelichting"), shown to respondents beside the help text.
guidance = sa.Table(
    "guidance", metadata,
    sa.Column("questionnaire_id", UUID, sa.ForeignKey(questionnaires.c.id), primary_key=True),
    sa.Column("statement_id", sa.Text, primary_key=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
)


async def admin_by_email(conn: AsyncConnection, email: str):  # noqa: ANN201
    return (await conn.execute(
        sa.select(admins, organisations.c.name.label("organisation_name"))
        .join(organisations, organisations.c.id == admins.c.organisation_id)
        .where(admins.c.email == email.strip().lower())
    )).first()


async def replace_password_hash(conn: AsyncConnection, admin_id: uuid.UUID, password_hash: str
                                ) -> None:
    await conn.execute(admins.update().where(admins.c.id == admin_id)
                       .values(password_hash=password_hash))


async def organisation(conn: AsyncConnection, organisation_id: uuid.UUID):  # noqa: ANN201
    return (await conn.execute(
        sa.select(organisations).where(organisations.c.id == organisation_id)
    )).one()


async def list_questionnaires(conn: AsyncConnection, organisation_id: uuid.UUID):  # noqa: ANN201
    invited = (sa.select(sa.func.count()).where(invitations.c.questionnaire_id == questionnaires.c.id,
                                                invitations.c.revoked_at.is_(None))
               .scalar_subquery())
    submitted = (sa.select(sa.func.count())
                 .where(invitations.c.questionnaire_id == questionnaires.c.id,
                        invitations.c.submitted_at.is_not(None)).scalar_subquery())
    return (await conn.execute(
        sa.select(questionnaires, invited.label("invited"), submitted.label("submitted"))
        .where(questionnaires.c.organisation_id == organisation_id,
               questionnaires.c.deleted_at.is_(None))  # deleted ones have a page of their own
        .order_by(questionnaires.c.created_at.desc())
    )).all()


async def questionnaire(conn: AsyncConnection, organisation_id: uuid.UUID,
                        questionnaire_id: uuid.UUID, *, for_update: bool = False):  # noqa: ANN201
    stmt = sa.select(questionnaires).where(
        questionnaires.c.id == questionnaire_id,
        questionnaires.c.organisation_id == organisation_id,
    )
    if for_update:
        stmt = stmt.with_for_update()
    return (await conn.execute(stmt)).first()


async def participants_of(conn: AsyncConnection, questionnaire_id: uuid.UUID):  # noqa: ANN201
    return (await conn.execute(
        sa.select(respondents.c.id, respondents.c.name, respondents.c.email,
                  respondents.c.language, invitations.c.sent_at, invitations.c.submitted_at,
                  # each one's status (services/invitations/domain_mail.respondent_status)
                  invitations.c.id.label("invitation_id"), invitations.c.started_at,
                  invitations.c.mail_state, invitations.c.mail_error, invitations.c.reminders,
                  invitations.c.last_reminded_at, invitations.c.revoked_at)
        .select_from(participants.join(respondents, respondents.c.id == participants.c.respondent_id)
                     .outerjoin(invitations, sa.and_(
                         invitations.c.questionnaire_id == participants.c.questionnaire_id,
                         invitations.c.respondent_id == participants.c.respondent_id)))
        .where(participants.c.questionnaire_id == questionnaire_id)
        .order_by(respondents.c.name)
    )).all()


async def upsert_respondents(conn: AsyncConnection, organisation_id: uuid.UUID,
                             entries, now: datetime) -> list[uuid.UUID]:  # noqa: ANN001
    ids = []
    for entry in entries:
        stmt = pg.insert(respondents).values(
            id=uuid.uuid4(), organisation_id=organisation_id, name=entry.name,
            email=entry.email, created_at=now,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["organisation_id", "email"], set_={"name": stmt.excluded.name}
        ).returning(respondents.c.id)
        ids.append((await conn.execute(stmt)).scalar_one())
    return ids


async def reports_of(conn: AsyncConnection, questionnaire_id: uuid.UUID) -> dict[str, uuid.UUID]:
    rows = (await conn.execute(sa.select(reports.c.language, reports.c.document_id)
                               .where(reports.c.questionnaire_id == questionnaire_id))).all()
    return {r.language: r.document_id for r in rows}


# Scans whose completion is stuck: an event about them was dead-lettered by some service.
# Filled from the dead-letter stream, cleared when the scan completes or a report arrives.
stuck_scans = sa.Table(
    "stuck_scans", metadata,
    sa.Column("questionnaire_id", UUID, sa.ForeignKey(questionnaires.c.id), primary_key=True),
    sa.Column("organisation_id", UUID, nullable=False),
    sa.Column("consumer", sa.Text, nullable=False),
    sa.Column("event", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("since", TS, nullable=False),
)


async def is_stuck(conn: AsyncConnection, organisation_id: uuid.UUID,
                   questionnaire_id: uuid.UUID) -> bool:
    return await conn.scalar(sa.select(sa.func.count()).select_from(stuck_scans).where(
        stuck_scans.c.questionnaire_id == questionnaire_id,
        stuck_scans.c.organisation_id == organisation_id)) > 0
