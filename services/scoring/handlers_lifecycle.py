"""Scoring follows a scan's life: a reopen starts a new result round, a purge removes the
scan's scores and results."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from faststream.nats import NatsRouter
from sqlalchemy.ext.asyncio import AsyncConnection

from services.scoring import store
from shared.bus import Consumer, subscribe_batch
from shared.consumer import BatchHandler, Handler
from shared.events import CloudEvent, QuestionnairePurged, QuestionnaireUpdated

q = store.questionnaires.c


async def on_questionnaire_updated(conn: AsyncConnection, event: QuestionnaireUpdated,
                                   envelope: CloudEvent) -> None:
    """Called with the questionnaire locked, like every completion, so a round is completed
    exactly once whichever worker handles which event."""
    values: dict = {"title": event.title}
    if event.reopened:
        row = (await conn.execute(sa.select(store.questionnaires)
                                  .where(q.id == event.questionnaire_id))).one()
        values |= {"closed_at": None, "closed_reason": None, "reopened_at": event.updated_at}
        if row.completed_at is not None:
            # The completed round's result stays; the next completion is the next round,
            # over every response submitted, the earlier ones included.
            values |= {"completed_at": None, "round": row.round + 1,
                       "round_start_submitted": row.submitted}
    await conn.execute(store.questionnaires.update()
                       .where(q.id == event.questionnaire_id,
                              q.organisation_id == event.organisation_id).values(**values))


async def on_questionnaire_purged(conn: AsyncConnection, event: QuestionnairePurged,
                                  envelope: CloudEvent) -> None:
    for table in (store.scored_responses, store.scan_results):
        await conn.execute(table.delete().where(
            table.c.questionnaire_id == event.questionnaire_id,
            table.c.organisation_id == event.organisation_id))
    await conn.execute(store.questionnaires.delete().where(
        q.id == event.questionnaire_id, q.organisation_id == event.organisation_id))


def build_router(consumer: Consumer, *,
                 locked_first: Callable[[Handler], BatchHandler]) -> NatsRouter:
    router = NatsRouter()
    subscribe_batch(router, consumer, purpose="track-updates", event=QuestionnaireUpdated,
                    handler=locked_first(on_questionnaire_updated))
    subscribe_batch(router, consumer, purpose="purge", event=QuestionnairePurged,
                    handler=locked_first(on_questionnaire_purged))
    return router
