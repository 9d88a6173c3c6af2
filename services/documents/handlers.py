"""Documents renders the results report when a scan completes."""

from __future__ import annotations

import uuid

from faststream.nats import NatsRouter
from jinja2 import Environment
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.ext.asyncio import AsyncConnection

from services.documents import domain, store
from services.documents.render import PdfRenderer
from shared.bus import Consumer, subscribe
from shared.content import content
from shared.events import CloudEvent, ScanCompleted
from shared.web import translate


def build_router(consumer: Consumer, *, renderer: PdfRenderer, env: Environment) -> NatsRouter:
    async def on_scan_completed(conn: AsyncConnection, event: ScanCompleted,
                                envelope: CloudEvent) -> None:
        scan = content(event.result.content_version)
        for language in domain.REPORT_LANGUAGES:
            view = domain.report_view(event, scan, language=language)
            html = env.get_template("report.html").render(
                view=view, lang=language, t=lambda key, _l=language, **v: translate(_l, key, **v))
            pdf = await renderer.render(html)
            now = consumer.clock()
            generated = domain.document_generated(
                event, document_id=uuid.uuid4(), language=language, pdf=pdf, now=now,
                filename=domain.report_filename(event.title, event.completed_at, language))
            inserted = (await conn.execute(pg.insert(store.documents).values(
                id=generated.document_id, organisation_id=event.organisation_id,
                questionnaire_id=event.questionnaire_id, kind=generated.kind,
                language=language, filename=generated.filename, media_type=generated.media_type,
                content=pdf, sha256=generated.sha256, created_at=now,
            ).on_conflict_do_nothing().returning(store.documents.c.id))).first()
            if inserted is not None:  # a redelivered scan.completed finds its reports made
                await consumer.messaging.emit(conn, generated, now=now)

    router = NatsRouter()
    subscribe(router, consumer, purpose="render-reports", event=ScanCompleted,
              handler=on_scan_completed)
    return router
