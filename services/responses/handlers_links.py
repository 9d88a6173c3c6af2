"""Responses keeps every personal link that works: a reminder brings a new one beside the
earlier ones; a new link issued by the admin replaces them all."""

from __future__ import annotations

import sqlalchemy as sa
from faststream.nats import NatsRouter
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.ext.asyncio import AsyncConnection

from services.responses.store import invitations, links
from shared.bus import Consumer, subscribe
from shared.events import CloudEvent, InvitationSent, ReminderSent


class InvitationNotKnownYet(Exception):
    """The reminder overtook its invitation's event; handled again after a back-off."""


async def on_reminder_sent(conn: AsyncConnection, event: ReminderSent,
                           envelope: CloudEvent) -> None:
    known = await conn.scalar(sa.select(invitations.c.id).where(
        invitations.c.id == event.invitation_id,
        invitations.c.organisation_id == event.organisation_id))
    if known is None:
        raise InvitationNotKnownYet(str(event.invitation_id))
    await conn.execute(pg.insert(links).values(
        token_hash=event.token_hash, invitation_id=event.invitation_id,
    ).on_conflict_do_nothing())


async def replace_earlier_links(conn: AsyncConnection, event: InvitationSent) -> None:
    """Only the event's link works from now on: called by ``on_invitation_sent`` before it adds
    that link, in the consumer that copies invitations, so the links of the same invitation's
    earlier events (handled before, in order) cannot come back after it."""
    await conn.execute(links.delete().where(
        links.c.invitation_id == event.invitation_id,
        links.c.token_hash != event.token_hash,
        links.c.invitation_id.in_(sa.select(invitations.c.id).where(
            invitations.c.organisation_id == event.organisation_id))))


def build_router(consumer: Consumer) -> NatsRouter:
    router = NatsRouter()
    subscribe(router, consumer, purpose="copy-reminder-links", event=ReminderSent,
              handler=on_reminder_sent)
    return router
