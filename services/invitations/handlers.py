"""Invitations keeps the admin's overview current from other services' events."""

from __future__ import annotations

from faststream.nats import NatsRouter
from sqlalchemy.ext.asyncio import AsyncConnection

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from services.invitations.store import invitations, questionnaires, reports
from shared.bus import Consumer, subscribe
from shared.events import CloudEvent, DocumentGenerated, ResponseSubmitted, ScanCompleted


async def on_response_submitted(conn: AsyncConnection, event: ResponseSubmitted,
                                envelope: CloudEvent) -> None:
    await conn.execute(
        invitations.update()
        .where(invitations.c.id == event.invitation_id,
               invitations.c.organisation_id == event.organisation_id,
               invitations.c.submitted_at.is_(None))
        .values(submitted_at=event.submitted_at)
    )


async def on_scan_completed(conn: AsyncConnection, event: ScanCompleted,
                            envelope: CloudEvent) -> None:
    await conn.execute(
        questionnaires.update()
        .where(questionnaires.c.id == event.questionnaire_id,
               questionnaires.c.organisation_id == event.organisation_id)
        .values(status="completed", completed_at=event.completed_at,
                overall_percent=event.result.overall_percent,
                overall_level=event.result.overall_level)
    )


async def on_document_generated(conn: AsyncConnection, event: DocumentGenerated,
                                envelope: CloudEvent) -> None:
    if event.kind != "results_report":
        return
    owned = await conn.scalar(sa.select(questionnaires.c.id).where(
        questionnaires.c.id == event.questionnaire_id,
        questionnaires.c.organisation_id == event.organisation_id))
    if owned is not None:
        await conn.execute(pg.insert(reports).values(
            questionnaire_id=event.questionnaire_id, language=event.language,
            document_id=event.document_id,
        ).on_conflict_do_update(index_elements=["questionnaire_id", "language"],
                                set_={"document_id": event.document_id}))


def build_router(consumer: Consumer) -> NatsRouter:
    router = NatsRouter()
    subscribe(router, consumer, purpose="track-progress", event=ResponseSubmitted,
              handler=on_response_submitted)
    subscribe(router, consumer, purpose="track-completion", event=ScanCompleted,
              handler=on_scan_completed)
    subscribe(router, consumer, purpose="track-documents", event=DocumentGenerated,
              handler=on_document_generated)
    return router
