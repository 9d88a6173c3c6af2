"""Responses keeps its own copy of the admin's notes per statement, from guidance.changed."""

from __future__ import annotations

import sqlalchemy as sa
from faststream.nats import NatsRouter
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.ext.asyncio import AsyncConnection

from services.responses.store import guidance, questionnaires
from shared.bus import Consumer, subscribe
from shared.events import CloudEvent, GuidanceChanged


async def on_guidance_changed(conn: AsyncConnection, event: GuidanceChanged,
                              envelope: CloudEvent) -> None:
    owner = await conn.scalar(sa.select(questionnaires.c.organisation_id)
                              .where(questionnaires.c.id == event.questionnaire_id))
    if owner is not None and owner != event.organisation_id:
        return  # another organisation's questionnaire: never theirs to annotate
    # Kept even before questionnaire.created arrives (another consumer may be behind), and an
    # emptied note stays as an empty row: a late, older event then cannot bring a removed note
    # back, because only a newer change replaces a stored one.
    stmt = pg.insert(guidance).values(questionnaire_id=event.questionnaire_id,
                                      statement_id=event.statement_id, text=event.text,
                                      changed_at=event.changed_at)
    await conn.execute(stmt.on_conflict_do_update(
        index_elements=["questionnaire_id", "statement_id"],
        set_={"text": stmt.excluded.text, "changed_at": stmt.excluded.changed_at},
        where=guidance.c.changed_at <= stmt.excluded.changed_at))


def build_router(consumer: Consumer) -> NatsRouter:
    router = NatsRouter()
    subscribe(router, consumer, purpose="copy-guidance", event=GuidanceChanged,
              handler=on_guidance_changed)
    return router
