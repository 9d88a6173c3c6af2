"""Invitations learns from responses when a respondent starts, for the scan's progress."""

from __future__ import annotations

from faststream.nats import NatsRouter
from sqlalchemy.ext.asyncio import AsyncConnection

from services.invitations.store import invitations
from shared.bus import Consumer, subscribe
from shared.events import CloudEvent, ResponseStarted


async def on_response_started(conn: AsyncConnection, event: ResponseStarted,
                              envelope: CloudEvent) -> None:
    # Only the first start counts; the organisation in the event must own the invitation.
    await conn.execute(
        invitations.update()
        .where(invitations.c.id == event.invitation_id,
               invitations.c.questionnaire_id == event.questionnaire_id,
               invitations.c.organisation_id == event.organisation_id,
               invitations.c.started_at.is_(None))
        .values(started_at=event.started_at)
    )


def build_router(consumer: Consumer) -> NatsRouter:
    router = NatsRouter()
    subscribe(router, consumer, purpose="track-starts", event=ResponseStarted,
              handler=on_response_started)
    return router
