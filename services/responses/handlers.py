"""Responses keeps its own copy of questionnaires and invitations from events."""

from __future__ import annotations

import sqlalchemy as sa
from faststream.nats import NatsRouter
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.ext.asyncio import AsyncConnection

from services.responses import (
    handlers_guidance,
    handlers_lifecycle,
    handlers_links,
    handlers_revocations,
)
from services.responses.store import invitations, links, questionnaires
from shared.bus import Consumer, subscribe
from shared.events import CloudEvent, InvitationSent, QuestionnaireClosed, QuestionnaireCreated


async def on_questionnaire_created(conn: AsyncConnection, event: QuestionnaireCreated,
                                   envelope: CloudEvent) -> None:
    await conn.execute(pg.insert(questionnaires).values(
        id=event.questionnaire_id, organisation_id=event.organisation_id,
        organisation_name=event.organisation_name, title=event.title,
        content_version=event.content_version, deadline=event.deadline,
    ).on_conflict_do_nothing())


async def on_questionnaire_closed(conn: AsyncConnection, event: QuestionnaireClosed,
                                  envelope: CloudEvent) -> None:
    await conn.execute(
        questionnaires.update()
        .where(questionnaires.c.id == event.questionnaire_id,
               questionnaires.c.organisation_id == event.organisation_id,
               # a reopen that happened after this close has the last word
               sa.or_(questionnaires.c.reopened_at.is_(None),
                      questionnaires.c.reopened_at < event.closed_at))
        .values(closed_at=event.closed_at)
    )


async def on_invitation_sent(conn: AsyncConnection, event: InvitationSent,
                             envelope: CloudEvent) -> None:
    await conn.execute(pg.insert(invitations).values(
        id=event.invitation_id, questionnaire_id=event.questionnaire_id,
        organisation_id=event.organisation_id, token_hash=event.token_hash,
        respondent_name=event.respondent_name,
    ).on_conflict_do_nothing())
    if event.replaces_earlier_links:
        await handlers_links.replace_earlier_links(conn, event)
    await conn.execute(pg.insert(links).values(
        token_hash=event.token_hash, invitation_id=event.invitation_id,
    ).on_conflict_do_nothing())


def build_router(consumer: Consumer) -> NatsRouter:
    router = NatsRouter()
    subscribe(router, consumer, purpose="copy-questionnaires", event=QuestionnaireCreated,
              handler=on_questionnaire_created)
    subscribe(router, consumer, purpose="copy-closures", event=QuestionnaireClosed,
              handler=on_questionnaire_closed)
    subscribe(router, consumer, purpose="copy-invitations", event=InvitationSent,
              handler=on_invitation_sent)
    router.include_router(handlers_guidance.build_router(consumer))
    router.include_router(handlers_revocations.build_router(consumer))
    router.include_router(handlers_lifecycle.build_router(consumer))
    router.include_router(handlers_links.build_router(consumer))
    return router
