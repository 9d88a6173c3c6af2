"""Documents renders the results report, in Dutch and English, when a scan completes.

Rendering takes a fraction of a second of CPU per language, so it happens before the event's
transaction, never inside it: ``render_reports`` reads which reports exist (one short read) and
renders the missing ones, both languages at once; ``store_reports`` then stores them and emits
document.generated in one short transaction with the inbox. A crash between the two leaves
nothing but the unacked event, which comes back and is rendered again; a redelivery after the
commit finds its reports made and renders nothing.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from faststream.nats import NatsRouter
from jinja2 import Environment
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.documents import domain, handlers_lifecycle, store
from services.documents.render import PdfRenderer
from shared.bus import Consumer, subscribe
from shared.content import content
from shared.events import CloudEvent, ScanCompleted
from shared.gate import is_unavailable
from shared.web import translate


@dataclass(frozen=True)
class RenderedReports:
    event: ScanCompleted
    pdfs: dict[str, bytes]  # language -> PDF, for the reports not stored yet


def build_router(consumer: Consumer, *, renderer: PdfRenderer, env: Environment) -> NatsRouter:
    async def render_reports(event: ScanCompleted, envelope: CloudEvent) -> RenderedReports:
        stored = await _stored_languages(consumer.engine, event.questionnaire_id, event.round)
        missing = [lang for lang in domain.REPORT_LANGUAGES if lang not in stored]
        scan = content(event.result.content_version)
        pages = [report_html(env, domain.report_view(event, scan, language=lang))
                 for lang in missing]
        pdfs = await asyncio.gather(*(renderer.render(page) for page in pages))
        return RenderedReports(event=event, pdfs=dict(zip(missing, pdfs, strict=True)))

    async def store_reports(conn: AsyncConnection, rendered: RenderedReports,
                            envelope: CloudEvent) -> None:
        event, now = rendered.event, consumer.clock()
        reports = [(domain.document_generated(
            event, document_id=uuid.uuid4(), language=language, pdf=pdf, now=now,
            filename=domain.report_filename(event.title, event.completed_at, language,
                                            round=event.round),
        ), pdf) for language, pdf in rendered.pdfs.items()]
        stored = await store.add_documents(conn, reports)
        for generated, _ in reports:
            if generated.document_id in stored:  # another delivery may have stored it meanwhile
                await consumer.messaging.emit(conn, generated, now=now)

    router = NatsRouter()
    # One scan more than there are render workers: while a scan's reports are being stored,
    # the workers render the next scan's rather than wait for that commit.
    subscribe(router, consumer, purpose="render-reports", event=ScanCompleted,
              prepare=render_reports, handler=store_reports, concurrency=renderer.workers + 1)
    router.include_router(handlers_lifecycle.build_router(consumer))
    return router


def report_html(env: Environment, view: domain.ReportView) -> str:
    language = view.language
    return env.get_template("report.html").render(
        view=view, lang=language, t=lambda key, **values: translate(language, key, **values))


async def _stored_languages(engine: AsyncEngine, questionnaire_id: uuid.UUID,
                            round: int) -> set[str]:
    try:
        async with engine.connect() as conn:
            return await store.report_languages(conn, questionnaire_id, round)
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        return set()  # render them all: the transaction that stores them waits for the database
