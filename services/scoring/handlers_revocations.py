"""A respondent taken off a scan: the scan waits for one response fewer, and completes when
everyone left has submitted, exactly once, as on the last submission."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Awaitable, Callable

import sqlalchemy as sa
from faststream.nats import NatsRouter
from sqlalchemy.ext.asyncio import AsyncConnection

from services.scoring import store
from shared.bus import Consumer, subscribe_batch
from shared.events import CloudEvent, InvitationRevoked

CompleteIfDue = Callable[[AsyncConnection, object], Awaitable[None]]


def build_router(consumer: Consumer, complete_if_due: CompleteIfDue) -> NatsRouter:
    async def on_invitations_revoked(
            conn: AsyncConnection, events: list[tuple[InvitationRevoked, CloudEvent]]) -> None:
        revoked = [event for event, _ in events]
        # The same locks, in the same order, as every other consumer takes: completion is
        # decided once even while a last response arrives at the same moment.
        await store.lock_questionnaires(
            conn, {e.questionnaire_id: e.organisation_id for e in revoked})
        # A response that was on its way when the admin removed the person still counts, and
        # so does its invitation.
        answered = set((await conn.execute(
            sa.select(store.scored_responses.c.invitation_id).where(
                store.scored_responses.c.invitation_id.in_([e.invitation_id for e in revoked]))
        )).scalars())
        # One fewer per revocation rather than the event's total: each is counted once (the
        # inbox), whatever order they and the skipped ones arrive in.
        fewer: Counter[uuid.UUID] = Counter(
            e.questionnaire_id for e in revoked if e.invitation_id not in answered)
        for questionnaire_id in sorted(fewer):
            q = (await conn.execute(
                store.questionnaires.update()
                .where(store.questionnaires.c.id == questionnaire_id)
                .values(invitations_total=sa.func.greatest(
                    store.questionnaires.c.invitations_total - fewer[questionnaire_id], 0))
                .returning(*store.questionnaires.c))).one()
            await complete_if_due(conn, q)

    router = NatsRouter()
    subscribe_batch(router, consumer, purpose="track-revocations", event=InvitationRevoked,
                    handler=on_invitations_revoked)
    return router
