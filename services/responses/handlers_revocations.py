"""A respondent taken off a scan: their personal links stop working; their draft is kept.

The links stay known, so that opening one says the invitation was withdrawn (410) rather than
that the link does not exist; every lookup checks the invitation's ``revoked_at``."""

from __future__ import annotations

from faststream.nats import NatsRouter
from sqlalchemy.ext.asyncio import AsyncConnection

from services.responses.store import invitations
from shared.bus import Consumer, subscribe
from shared.events import CloudEvent, InvitationRevoked


async def on_invitation_revoked(conn: AsyncConnection, event: InvitationRevoked,
                                envelope: CloudEvent) -> None:
    await conn.execute(
        invitations.update()
        .where(invitations.c.id == event.invitation_id,
               invitations.c.organisation_id == event.organisation_id,
               invitations.c.questionnaire_id == event.questionnaire_id)
        .values(revoked_at=event.revoked_at))  # never another organisation's invitation


def build_router(consumer: Consumer) -> NatsRouter:
    router = NatsRouter()
    subscribe(router, consumer, purpose="copy-revocations", event=InvitationRevoked,
              handler=on_invitation_revoked)
    return router
