"""Documents: results reports rendered per second and per scan, against bare WeasyPrint.

Runs the documents service in this process on real NATS and PostgreSQL (a fresh database and bus
namespace per measurement), puts scan.completed events on the bus and times the reports; the
baseline is ``bench/bare_weasyprint.py`` rendering the same report HTML (made once here with the
product's templates) in a plain process pool. Product and baseline alternate in every round.
It also prints the CPU every process on the machine used while 2 render workers ran: on two
cores that shows how much of them rendering got, and where the rest went.

    .venv/bin/python -m bench.documents [--rounds 3]
"""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import nats
import psutil

from bench.common import Comparison, Servers, median, run_alone
from bench.machine import CpuUse, Usage
from services.documents import app as documents
from services.documents import domain
from services.documents.handlers import report_html
from services.documents.render import WORKER, PdfRenderer
from services.scoring.rules import RespondentAnswers, score_scan
from shared.bus import events_stream
from shared.content import Answer, content
from shared.events import (
    DocumentGenerated,
    ScanCompleted,
    encode,
    envelope,
    subject_for,
)
from shared.runtime import build_app, make_broker
from shared.settings import Settings
from shared.web import templates
from tests.servers import fresh_database, fresh_namespace, remove_namespace

BARE = Path(__file__).with_name("bare_weasyprint.py")
SCANS = 6  # scan.completed events per throughput run: 12 PDFs
PAIRS = 5  # single scans timed one after the other per latency run


def scan_completed() -> ScanCompleted:
    scan = content()
    answers = {s.id: (Answer.VOLLEDIG if s.level <= 3 else Answer.DEELS) for s in scan.statements}
    return ScanCompleted(
        organisation_id=uuid.uuid4(), questionnaire_id=uuid.uuid4(),
        organisation_name="Gemeente Voorbeeldstad", title="MVI-scan 2026",
        completed_at=datetime.now(UTC), reason="all_submitted", respondents_invited=2,
        respondents_submitted=2,
        result=score_scan(scan, [RespondentAnswers(respondent_id=r, answers=answers)
                                 for r in ("a", "b")]))


def report_pages(folder: Path) -> list[Path]:
    """The report of one scan in both languages, as the product renders its HTML."""
    event, env = scan_completed(), templates(Path(documents.__file__).parent)
    paths = []
    for language in domain.REPORT_LANGUAGES:
        view = domain.report_view(event, content(), language=language)
        paths.append(folder / f"report-{language}.html")
        paths[-1].write_text(report_html(env, view))
    return paths


def bare(*args: str) -> float:
    out = subprocess.run([sys.executable, str(BARE), *args], check=True, capture_output=True,
                         text=True, timeout=600)
    return float(out.stdout)


@dataclass
class Product:
    """The documents service running with its render processes, on a fresh database and bus."""

    nc: nats.NATS
    namespace: str
    generated: dict[uuid.UUID, int] = field(default_factory=dict)  # questionnaire -> events
    waiting: dict[uuid.UUID, asyncio.Event] = field(default_factory=dict)  # for both events
    all_generated: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def on_generated(self, msg) -> None:  # noqa: ANN001
        qid = uuid.UUID(json.loads(msg.data)["subject"])
        self.generated[qid] = self.generated.get(qid, 0) + 1
        self.all_generated += 1
        self.arrived.set()
        if self.generated[qid] == 2 and qid in self.waiting:
            self.waiting.pop(qid).set()

    async def publish(self, event: ScanCompleted) -> None:
        env = envelope(event, source="bench", time=datetime.now(UTC))
        await self.nc.jetstream().publish(
            subject_for(self.namespace, ScanCompleted, event.organisation_id), encode(env),
            stream=events_stream(self.namespace), headers={"Nats-Msg-Id": str(env.id)})

    async def scans(self, events: list[ScanCompleted]) -> float:
        """Seconds from publishing ``events`` until all their reports are stored and announced
        (document.generated on the bus). Waiting for those messages costs the renders no CPU;
        polling the table every 20 ms took about 10 ms of this process's CPU per scan."""
        expected = self.all_generated + 2 * len(events)
        started = time.perf_counter()
        for event in events:
            await self.publish(event)
        while self.all_generated < expected:
            self.arrived.clear()
            await self.arrived.wait()
        return time.perf_counter() - started

    async def both_generated_ms(self) -> float:
        """Milliseconds from one scan.completed to both document.generated on the bus."""
        event = scan_completed()
        both = self.waiting[event.questionnaire_id] = asyncio.Event()
        started = time.perf_counter()
        await self.publish(event)
        await both.wait()
        return (time.perf_counter() - started) * 1000


@asynccontextmanager
async def running(servers: Servers, *, workers: int) -> AsyncIterator[Product]:
    namespace = fresh_namespace()
    with fresh_database(servers.postgres_url) as database_url:
        settings = Settings(nats_url=servers.nats_url, database_url=database_url,
                            bus_namespace=namespace, secret_key=secrets.token_urlsafe(48),
                            document_workers=workers)
        await asyncio.to_thread(documents.migrate, settings)
        broker = make_broker(settings)
        app = build_app(settings, broker, [documents.build(settings, broker)])
        async with app.router.lifespan_context(app):
            product = Product(nc=await nats.connect(servers.nats_url), namespace=namespace)
            await product.nc.subscribe(subject_for(namespace, DocumentGenerated),
                                       cb=product.on_generated)
            try:
                await product.scans([scan_completed()])  # each worker's first render: untimed
                yield product
            finally:
                await product.nc.close()
        await remove_namespace(servers.nats_url, namespace)


async def product_throughput(servers: Servers, *, workers: int) -> tuple[float, Usage]:
    """PDFs per second, and the CPU every process on the machine used meanwhile."""
    async with running(servers, workers=workers) as product:
        events = [scan_completed() for _ in range(SCANS)]
        cpu = CpuUse(p.pid for p in psutil.Process().children() if str(WORKER) in p.cmdline())
        cpu.start()
        seconds = await product.scans(events)
        return 2 * SCANS / seconds, cpu.stop()


async def product_latency(servers: Servers) -> float:
    async with running(servers, workers=2) as product:
        return median([await product.both_generated_ms() for _ in range(PAIRS)])


async def worker_rss(page: Path) -> float:
    """MB resident in a product render worker after it rendered ``page``."""
    renderer = PdfRenderer(workers=1)
    await renderer.start()
    try:
        await renderer.render(page.read_text())
        [worker] = [p for p in psutil.Process().children() if str(WORKER) in p.cmdline()]
        return worker.memory_info().rss / 2**20
    finally:
        await renderer.stop()


def compare(servers: Servers, *, rounds: int) -> list[Comparison]:
    figures: dict[str, list[float]] = {}
    two_workers: list[tuple[float, Usage]] = []

    def note(name: str, value: float) -> None:
        figures.setdefault(name, []).append(value)

    with tempfile.TemporaryDirectory() as folder:
        pages = report_pages(Path(folder))
        names = [str(p) for p in pages]
        for _ in range(rounds):
            note("bare 1", bare("throughput", "--workers", "1", "--renders", str(2 * SCANS),
                                *names))
            note("bare 2", bare("throughput", "--workers", "2", "--renders", str(2 * SCANS),
                                *names))
            note("product 1", asyncio.run(product_throughput(servers, workers=1))[0])
            two_workers.append(asyncio.run(product_throughput(servers, workers=2)))
            note("product 2", two_workers[-1][0])
            note("bare pair", bare("pair", "--workers", "2", "--pairs", str(PAIRS), *names))
            note("product pair", asyncio.run(product_latency(servers)))
            note("bare rss", bare("rss", names[0]))
            note("product rss", asyncio.run(worker_rss(pages[0])))
    m = {name: median(values) for name, values in figures.items()}
    print(f"  bare WeasyPrint, 2 processes: {m['bare 2']:.3g} PDFs/s, "
          f"{m['bare 2'] / m['bare 1']:.2f}× one; the product with 2 render workers: "
          f"{m['product 2']:.3g} PDFs/s")
    rate, cpu = sorted(two_workers, key=lambda run: run[0])[len(two_workers) // 2]
    print(f"  CPU of every process while 2 render workers made {2 * SCANS} PDFs "
          f"({rate:.3g}/s, the median run):")
    labels = {"workers": "render workers", "benchmark": "documents service (and this bench)"}
    for line in cpu.lines(per=2 * SCANS, unit="PDF", labels=labels):
        print(f"    {line}")
    return [
        Comparison("documents, 1 render worker", m["product 1"], m["bare 1"], "PDFs/s",
                   "ratio ≥ 0.9 (bare: 1 process)", m["product 1"] >= 0.9 * m["bare 1"]),
        Comparison("documents, 2 render workers vs 1", m["product 2"], m["product 1"], "PDFs/s",
                   "ratio ≥ 1.8", m["product 2"] >= 1.8 * m["product 1"]),
        Comparison("scan.completed -> both documents", m["product pair"], m["bare pair"], "ms",
                   "ratio ≤ 1.2 (2 workers)", m["product pair"] <= 1.2 * m["bare pair"]),
        Comparison("render worker memory", m["product rss"], m["bare rss"], "MB RSS",
                   "ratio ≤ 1.1", m["product rss"] <= 1.1 * m["bare rss"]),
    ]


if __name__ == "__main__":
    run_alone(compare, __doc__)
