"""Documents follows a scan's life: a purged scan's documents are removed."""

from __future__ import annotations

from faststream.nats import NatsRouter
from sqlalchemy.ext.asyncio import AsyncConnection

from services.documents.store import documents
from shared.bus import Consumer, subscribe
from shared.events import CloudEvent, QuestionnairePurged


async def on_questionnaire_purged(conn: AsyncConnection, event: QuestionnairePurged,
                                  envelope: CloudEvent) -> None:
    await conn.execute(documents.delete().where(
        documents.c.questionnaire_id == event.questionnaire_id,
        documents.c.organisation_id == event.organisation_id))


def build_router(consumer: Consumer) -> NatsRouter:
    router = NatsRouter()
    subscribe(router, consumer, purpose="purge", event=QuestionnairePurged,
              handler=on_questionnaire_purged)
    return router
