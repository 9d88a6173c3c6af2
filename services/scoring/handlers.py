"""Scoring scores each response and completes the scan exactly once."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from faststream.nats import NatsRouter
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.ext.asyncio import AsyncConnection

from services.scoring import domain, store
from shared.bus import Consumer, subscribe
from shared.content import content
from shared.events import (
    AnswerGiven,
    CloudEvent,
    InvitationSent,
    QuestionnaireClosed,
    QuestionnaireCreated,
    ResponseSubmitted,
)


def build_router(consumer: Consumer) -> NatsRouter:
    messaging = consumer.messaging
    clock = consumer.clock

    async def complete_if_due(conn: AsyncConnection, q) -> None:  # noqa: ANN001
        state = domain.QuestionnaireState(
            known=q.content_version is not None, invitations_total=q.invitations_total,
            submitted=await store.submitted_count(conn, q.id),
            closed=q.closed_at is not None, completed=q.completed_at is not None,
        )
        reason = domain.completion_reason(state)
        if reason is None:
            return
        now = clock()
        rows = await store.responses_of(conn, q.id)
        event = domain.scan_completed(
            organisation_id=q.organisation_id, questionnaire_id=q.id,
            organisation_name=q.organisation_name, title=q.title,
            content=content(q.content_version),
            responses=[domain.ScoredResponse(
                invitation_id=r.invitation_id,
                answers=tuple(AnswerGiven.model_validate(a) for a in r.answers))
                for r in rows],
            invitations_total=q.invitations_total, reason=reason, now=now,
        )
        await conn.execute(store.scan_results.insert().values(
            questionnaire_id=q.id, organisation_id=q.organisation_id, reason=reason,
            result=event.result.model_dump(mode="json"), completed_at=now))
        await conn.execute(store.questionnaires.update()
                           .where(store.questionnaires.c.id == q.id).values(completed_at=now))
        await messaging.emit(conn, event, now=now)

    async def on_questionnaire_created(conn: AsyncConnection, event: QuestionnaireCreated,
                                       envelope: CloudEvent) -> None:
        await store.lock_questionnaire(conn, event.questionnaire_id, event.organisation_id)
        await conn.execute(store.questionnaires.update()
                           .where(store.questionnaires.c.id == event.questionnaire_id)
                           .values(organisation_name=event.organisation_name,
                                   title=event.title, content_version=event.content_version))
        await complete_if_due(conn, await _reload(conn, event.questionnaire_id))

    async def on_invitation_sent(conn: AsyncConnection, event: InvitationSent,
                                 envelope: CloudEvent) -> None:
        await store.lock_questionnaire(conn, event.questionnaire_id, event.organisation_id)
        await conn.execute(
            store.questionnaires.update()
            .where(store.questionnaires.c.id == event.questionnaire_id)
            .values(invitations_total=sa.func.greatest(
                store.questionnaires.c.invitations_total, event.invitations_total)))
        await complete_if_due(conn, await _reload(conn, event.questionnaire_id))

    async def on_response_submitted(conn: AsyncConnection, event: ResponseSubmitted,
                                    envelope: CloudEvent) -> None:
        q = await store.lock_questionnaire(conn, event.questionnaire_id, event.organisation_id)
        if q.completed_at is not None:
            return  # a late response after the admin closed the scan is kept out of the result
        await conn.execute(pg.insert(store.scored_responses).values(
            invitation_id=event.invitation_id, response_id=event.response_id,
            questionnaire_id=event.questionnaire_id, organisation_id=event.organisation_id,
            answers=[a.model_dump(mode="json") for a in event.answers],
            percent=domain.response_percent(event.answers), scored_at=clock(),
        ).on_conflict_do_nothing())
        await complete_if_due(conn, q)

    async def on_questionnaire_closed(conn: AsyncConnection, event: QuestionnaireClosed,
                                      envelope: CloudEvent) -> None:
        await store.lock_questionnaire(conn, event.questionnaire_id, event.organisation_id)
        await conn.execute(store.questionnaires.update()
                           .where(store.questionnaires.c.id == event.questionnaire_id,
                                  store.questionnaires.c.closed_at.is_(None))
                           .values(closed_at=event.closed_at))
        await complete_if_due(conn, await _reload(conn, event.questionnaire_id))

    router = NatsRouter()
    subscribe(router, consumer, purpose="track-questionnaires", event=QuestionnaireCreated,
              handler=on_questionnaire_created)
    subscribe(router, consumer, purpose="track-invitations", event=InvitationSent,
              handler=on_invitation_sent)
    subscribe(router, consumer, purpose="score-responses", event=ResponseSubmitted,
              handler=on_response_submitted)
    subscribe(router, consumer, purpose="track-closures", event=QuestionnaireClosed,
              handler=on_questionnaire_closed)
    return router


async def _reload(conn: AsyncConnection, questionnaire_id: uuid.UUID):  # noqa: ANN202
    return (await conn.execute(sa.select(store.questionnaires)
                               .where(store.questionnaires.c.id == questionnaire_id))).one()


