"""Invitations keeps the admin's overview current from other services' events."""

from __future__ import annotations

from faststream.nats import NatsRouter
from sqlalchemy.ext.asyncio import AsyncConnection

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from services.invitations import handlers_progress
from services.invitations.store import invitations, questionnaires, reports, stuck_scans
from shared.bus import Consumer, DeadLetter, subscribe, subscribe_dead_letters
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
               questionnaires.c.organisation_id == event.organisation_id,
               # the latest round's result is kept; one completed before a reopen is not news
               questionnaires.c.round <= event.round,
               sa.or_(questionnaires.c.reopened_at.is_(None),
                      questionnaires.c.reopened_at < event.completed_at))
        .values(status="completed", completed_at=event.completed_at, round=event.round,
                overall_percent=event.result.overall_percent,
                overall_level=event.result.overall_level)
    )
    await _unstick(conn, event.questionnaire_id, event.organisation_id)


async def on_document_generated(conn: AsyncConnection, event: DocumentGenerated,
                                envelope: CloudEvent) -> None:
    if event.kind != "results_report":
        return
    owned = await conn.scalar(sa.select(questionnaires.c.id).where(
        questionnaires.c.id == event.questionnaire_id,
        questionnaires.c.organisation_id == event.organisation_id,
        questionnaires.c.round <= event.round))  # an earlier round's report is not the latest
    if owned is not None:
        await conn.execute(pg.insert(reports).values(
            questionnaire_id=event.questionnaire_id, language=event.language,
            document_id=event.document_id,
        ).on_conflict_do_update(index_elements=["questionnaire_id", "language"],
                                set_={"document_id": event.document_id}))
        await _unstick(conn, event.questionnaire_id, event.organisation_id)


async def on_dead_letter(conn: AsyncConnection, letter: DeadLetter) -> None:
    """Show the admin that the scan is stuck rather than "being calculated"."""
    questionnaire_id, organisation_id = letter.questionnaire_id, letter.organisation_id
    if questionnaire_id is None or organisation_id is None:
        return  # unreadable: the operator sees it in `iso20400 dead-letters list`
    owned = await conn.scalar(sa.select(questionnaires.c.id).where(
        questionnaires.c.id == questionnaire_id,
        questionnaires.c.organisation_id == organisation_id))  # the subject's organisation
    if owned is not None:
        await conn.execute(pg.insert(stuck_scans).values(
            questionnaire_id=questionnaire_id, organisation_id=organisation_id,
            consumer=letter.consumer, event=letter.event_name, reason=letter.reason,
            since=sa.func.now(),
        ).on_conflict_do_nothing())


async def _unstick(conn: AsyncConnection, questionnaire_id, organisation_id) -> None:  # noqa: ANN001
    await conn.execute(stuck_scans.delete().where(
        stuck_scans.c.questionnaire_id == questionnaire_id,
        stuck_scans.c.organisation_id == organisation_id))


def build_router(consumer: Consumer) -> NatsRouter:
    router = NatsRouter()
    subscribe(router, consumer, purpose="track-progress", event=ResponseSubmitted,
              handler=on_response_submitted)
    subscribe(router, consumer, purpose="track-completion", event=ScanCompleted,
              handler=on_scan_completed)
    subscribe(router, consumer, purpose="track-documents", event=DocumentGenerated,
              handler=on_document_generated)
    subscribe_dead_letters(router, consumer, purpose="track-dead-letters",
                           handler=on_dead_letter)
    router.include_router(handlers_progress.build_router(consumer))
    return router
