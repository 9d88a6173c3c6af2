"""Responses follows a scan's life: edits and reopening, deleting, restoring and purging."""

from __future__ import annotations

import sqlalchemy as sa
from faststream.nats import NatsRouter
from sqlalchemy.ext.asyncio import AsyncConnection

from services.responses.store import (
    answers,
    guidance,
    invitations,
    links,
    questionnaires,
    responses,
)
from shared.bus import Consumer, subscribe
from shared.events import (
    CloudEvent,
    QuestionnaireDeleted,
    QuestionnairePurged,
    QuestionnaireRestored,
    QuestionnaireUpdated,
)


def _this(event) -> sa.ColumnElement[bool]:  # noqa: ANN001
    return sa.and_(questionnaires.c.id == event.questionnaire_id,
                   questionnaires.c.organisation_id == event.organisation_id)


async def on_questionnaire_updated(conn: AsyncConnection, event: QuestionnaireUpdated,
                                   envelope: CloudEvent) -> None:
    values: dict = {"title": event.title, "deadline": event.deadline}
    if event.reopened:
        # Respondents carry on through the links they have; their drafts were never touched.
        values |= {"closed_at": None, "reopened_at": event.updated_at}
    await conn.execute(questionnaires.update().where(_this(event)).values(**values))


async def on_questionnaire_deleted(conn: AsyncConnection, event: QuestionnaireDeleted,
                                   envelope: CloudEvent) -> None:
    await conn.execute(questionnaires.update().where(
        _this(event), sa.or_(questionnaires.c.restored_at.is_(None),
                             questionnaires.c.restored_at < event.deleted_at))
                       .values(deleted_at=event.deleted_at))


async def on_questionnaire_restored(conn: AsyncConnection, event: QuestionnaireRestored,
                                    envelope: CloudEvent) -> None:
    await conn.execute(questionnaires.update().where(_this(event))
                       .values(deleted_at=None, restored_at=event.restored_at))


async def on_questionnaire_purged(conn: AsyncConnection, event: QuestionnairePurged,
                                  envelope: CloudEvent) -> None:
    """Remove the scan with every answer given to it; children before their parents."""
    owned = sa.select(invitations.c.id).where(
        invitations.c.questionnaire_id == event.questionnaire_id,
        invitations.c.organisation_id == event.organisation_id)
    of_scan = sa.select(responses.c.id).where(responses.c.invitation_id.in_(owned))
    await conn.execute(answers.delete().where(answers.c.response_id.in_(of_scan)))
    await conn.execute(responses.delete().where(responses.c.invitation_id.in_(owned)))
    await conn.execute(links.delete().where(links.c.invitation_id.in_(owned)))
    await conn.execute(invitations.delete().where(
        invitations.c.questionnaire_id == event.questionnaire_id,
        invitations.c.organisation_id == event.organisation_id))
    owner = sa.select(questionnaires.c.id).where(_this(event))
    await conn.execute(guidance.delete().where(guidance.c.questionnaire_id.in_(owner)))
    await conn.execute(questionnaires.delete().where(_this(event)))


def build_router(consumer: Consumer) -> NatsRouter:
    router = NatsRouter()
    subscribe(router, consumer, purpose="copy-updates", event=QuestionnaireUpdated,
              handler=on_questionnaire_updated)
    subscribe(router, consumer, purpose="copy-deletes", event=QuestionnaireDeleted,
              handler=on_questionnaire_deleted)
    subscribe(router, consumer, purpose="copy-restores", event=QuestionnaireRestored,
              handler=on_questionnaire_restored)
    subscribe(router, consumer, purpose="purge", event=QuestionnairePurged,
              handler=on_questionnaire_purged)
    return router
