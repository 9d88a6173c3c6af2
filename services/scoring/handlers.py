"""Scoring scores each response and completes the scan exactly once."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from faststream.nats import NatsRouter
from sqlalchemy.ext.asyncio import AsyncConnection

from services.scoring import domain, handlers_lifecycle, handlers_revocations, store
from shared.bus import Consumer, each_in_turn, subscribe_batch
from shared.consumer import BatchHandler, Handler
from shared.content import content
from shared.events import (
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
            submitted=q.submitted, closed=q.closed_at is not None,
            completed=q.completed_at is not None, closed_reason=q.closed_reason,
            round_start_submitted=q.round_start_submitted,
        )
        reason = domain.completion_reason(state)
        if reason is None:
            return
        now = clock()
        event = domain.scan_completed(
            organisation_id=q.organisation_id, questionnaire_id=q.id,
            organisation_name=q.organisation_name, title=q.title,
            content=content(q.content_version),
            responses=[domain.ScoredResponse(invitation_id=r.invitation_id, answers=r.answer_map)
                       for r in await store.answers_of(conn, q.id)],
            invitations_total=q.invitations_total, reason=reason, now=now, round=q.round,
        )
        await conn.execute(store.scan_results.insert().values(
            questionnaire_id=q.id, round=q.round, organisation_id=q.organisation_id,
            reason=reason,
            result=event.result.model_dump(mode="json"), completed_at=now))
        await conn.execute(store.questionnaires.update()
                           .where(store.questionnaires.c.id == q.id).values(completed_at=now))
        await messaging.emit(conn, event, now=now)

    async def on_questionnaire_created(conn: AsyncConnection, event: QuestionnaireCreated,
                                       envelope: CloudEvent) -> None:
        await conn.execute(store.questionnaires.update()
                           .where(store.questionnaires.c.id == event.questionnaire_id)
                           .values(organisation_name=event.organisation_name,
                                   title=event.title, content_version=event.content_version))
        await complete_if_due(conn, await _reload(conn, event.questionnaire_id))

    async def on_invitations_sent(
            conn: AsyncConnection, events: list[tuple[InvitationSent, CloudEvent]]) -> None:
        sent = [event for event, _ in events]
        await store.lock_questionnaires(
            conn, {e.questionnaire_id: e.organisation_id for e in sent})
        totals: dict[uuid.UUID, int] = {}
        for e in sent:
            totals[e.questionnaire_id] = max(totals.get(e.questionnaire_id, 0),
                                             e.invitations_total)
        for q in await store.raise_invitations_total(conn, totals):
            await complete_if_due(conn, q)

    async def on_responses_submitted(
            conn: AsyncConnection, events: list[tuple[ResponseSubmitted, CloudEvent]]) -> None:
        submitted = [event for event, _ in events]
        locked = await store.lock_questionnaires(
            conn, {e.questionnaire_id: e.organisation_id for e in submitted})
        now = clock()
        updated = await store.add_responses(conn, [
            {"invitation_id": e.invitation_id, "response_id": e.response_id,
             "questionnaire_id": e.questionnaire_id, "organisation_id": e.organisation_id,
             "answers": e.answers, "answer_map": {a.statement_id: a.answer for a in e.answers},
             "percent": domain.response_percent(e.answers)}
            for e in submitted
            # a late response after the admin closed the scan is kept out of the result
            if locked[e.questionnaire_id].completed_at is None
        ], scored_at=now)
        for q in updated:
            await complete_if_due(conn, q)

    async def on_questionnaire_closed(conn: AsyncConnection, event: QuestionnaireClosed,
                                      envelope: CloudEvent) -> None:
        q = store.questionnaires.c
        await conn.execute(store.questionnaires.update()
                           .where(q.id == event.questionnaire_id, q.closed_at.is_(None),
                                  # a reopen after this close has the last word
                                  sa.or_(q.reopened_at.is_(None),
                                         q.reopened_at < event.closed_at))
                           .values(closed_at=event.closed_at, closed_reason=event.reason))
        await complete_if_due(conn, await _reload(conn, event.questionnaire_id))

    router = NatsRouter()
    # Every consumer here takes the messages waiting for it in one transaction; invitations and
    # responses come in numbers worth multi-row statements.
    subscribe_batch(router, consumer, purpose="track-questionnaires", event=QuestionnaireCreated,
                    handler=locked_first(on_questionnaire_created))
    subscribe_batch(router, consumer, purpose="track-invitations", event=InvitationSent,
                    handler=on_invitations_sent)
    subscribe_batch(router, consumer, purpose="score-responses", event=ResponseSubmitted,
                    handler=on_responses_submitted)
    subscribe_batch(router, consumer, purpose="track-closures", event=QuestionnaireClosed,
                    handler=locked_first(on_questionnaire_closed))
    router.include_router(handlers_revocations.build_router(consumer, complete_if_due))
    router.include_router(handlers_lifecycle.build_router(consumer, locked_first=locked_first))
    return router


def locked_first(handler: Handler) -> BatchHandler:
    """``each_in_turn`` once every questionnaire of the batch is locked, in id order like the
    other consumers' batches: one event at a time, a batch of questionnaire.created would
    lock its questionnaires in arrival order and deadlock with a batch of invitations."""
    handle_each = each_in_turn(handler)

    async def handle(conn: AsyncConnection, events: list) -> None:
        await store.lock_questionnaires(
            conn, {event.questionnaire_id: event.organisation_id for event, _ in events})
        await handle_each(conn, events)

    return handle


async def _reload(conn: AsyncConnection, questionnaire_id: uuid.UUID):  # noqa: ANN202
    return (await conn.execute(sa.select(store.questionnaires)
                               .where(store.questionnaires.c.id == questionnaire_id))).one()


