"""Scoring throughput against the bare loop (bench/bare_loop.py), and the 2,000-respondent scan.

Every run gets a fresh database and bus namespace. The events (questionnaire.created,
invitation.sent, response.submitted) are published before any worker starts; a run is timed
from the moment its worker processes, connected and ready, start consuming to the last
scan.completed on the stream. The bare loop gets the same response.submitted bodies and is
timed from its connections being made to its last ack. Beside the table it prints the CPU every
process on the machine used in each 20x50 run (``bench/machine.py``), and what the cores leave
for a second worker.

    .venv/bin/python -m bench.scoring [--rounds 3]
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import nats
import psycopg

from bench import bare_loop
from bench.common import Comparison, Servers, median, run_alone
from bench.machine import CpuUse, Usage
from bench.scoring_workers import Workers
from shared.bus import events_stream
from shared.content import Answer
from shared.events import (
    ResponseSubmitted,
    ScanCompleted,
    encode,
    envelope,
    subject_for,
)
from shared.settings import Settings
from tests.scans import submitted_scan
from tests.servers import fresh_database, fresh_namespace, remove_namespace

T = TypeVar("T")


@dataclass(frozen=True)
class Run:
    seconds: float
    responses: int
    cpu_seconds: float  # Python CPU of the worker processes while they ran
    statements: int  # SQL statements the worker processes sent
    machine: Usage  # CPU of every process on the machine during the run

    @property
    def per_second(self) -> float:
        return self.responses / self.seconds


def compare(servers: Servers, *, rounds: int) -> list[Comparison]:
    one_many, one_big, two_many, bare_many, bare_big = [], [], [], [], []
    for _ in range(rounds):
        bare_many.append(bare(servers, questionnaires=20, responses=50))
        one_many.append(product(servers, questionnaires=20, responses=50, workers=1))
        two_many.append(product(servers, questionnaires=20, responses=50, workers=2))
        bare_big.append(bare(servers, questionnaires=1, responses=1000))
        one_big.append(product(servers, questionnaires=1, responses=1000, workers=1))
    scan = [completion(servers, respondents=2000) for _ in range(rounds)]
    for name, runs in (("scoring 1 worker, 20x50", one_many), ("bare loop, 20x50", bare_many),
                       ("scoring 1 worker, 1x1000", one_big), ("bare loop, 1x1000", bare_big)):
        cpu = median([r.cpu_seconds / r.responses * 1000 for r in runs])
        sql = median([r.statements / r.responses for r in runs])
        print(f"  {name}: {cpu:.2f} ms Python CPU and {sql:.2f} SQL statements per response")
    # What the machine's cores leave for a second worker (goal: 2 workers ≥ 1.7× one).
    for name, runs in (("scoring 1 worker, 20x50", one_many),
                       ("scoring 2 workers, 20x50", two_many), ("bare loop, 20x50", bare_many)):
        for run in runs:
            print(f"  {name}: {run.machine.summary()}")
    rate = lambda runs: median([r.per_second for r in runs])  # noqa: E731
    return [
        row("scoring 20x50, 1 worker", rate(one_many), rate(bare_many), "responses/s", 1.0),
        row("scoring 1x1000, 1 worker", rate(one_big), rate(bare_big), "responses/s", 0.7),
        row("scoring 2 workers vs 1", rate(two_many), rate(one_many), "responses/s", 1.7),
        Comparison(workload="2,000-respondent scan, scoring time", product=median(scan),
                   baseline=1.0, unit="s", goal="≤ 1.0 s", met=median(scan) <= 1.0),
    ]


def row(workload: str, product: float, baseline: float, unit: str, goal: float) -> Comparison:
    return Comparison(workload=workload, product=product, baseline=baseline, unit=unit,
                      goal=f"ratio ≥ {goal}", met=product >= goal * baseline)


def bare(servers: Servers, *, questionnaires: int, responses: int) -> Run:
    """The bare loop on the same response.submitted bodies (4 statements a message: BEGIN,
    two inserts, COMMIT)."""
    bodies = [body for event, body in scan_events(questionnaires, responses, "bare")
              if isinstance(event, ResponseSubmitted)]
    with fresh_database(servers.postgres_url) as database_url:
        async def run() -> Run:
            stream = await bare_loop.publish(servers.nats_url, bodies)
            cpu, machine = time.process_time(), CpuUse([os.getpid()])
            machine.start()
            seconds = await bare_loop.consume(servers.nats_url, database_url, stream,
                                              expected=len(bodies))
            return Run(seconds=seconds, responses=len(bodies),
                       cpu_seconds=time.process_time() - cpu, statements=4 * len(bodies),
                       machine=machine.stop())
        return asyncio.run(run())


def product(servers: Servers, *, questionnaires: int, responses: int, workers: int) -> Run:
    """Scoring worker processes on pre-published events, until every scan completed."""
    with fresh_database(servers.postgres_url) as database_url:
        settings = bench_settings(servers, database_url)
        from services.scoring import app as scoring

        scoring.migrate(settings)
        asyncio.run(publish(settings, scan_events(questionnaires, responses,
                                                  settings.bus_namespace)))
        try:
            with Workers(settings, workers) as running:
                seconds, machine = asyncio.run(scans_completed(
                    settings, questionnaires, after=lambda: asyncio.to_thread(running.start),
                    then=running.finished))
        finally:
            asyncio.run(remove_namespace(servers.nats_url, settings.bus_namespace))
    return Run(seconds=seconds, responses=questionnaires * responses,
               cpu_seconds=sum(r[0] for r in running.reports),
               statements=sum(r[1] for r in running.reports), machine=machine)


def completion(servers: Servers, *, respondents: int) -> float:
    """Seconds from the last of ``respondents`` submissions to scan.completed on the stream,
    with all the others already scored."""
    with fresh_database(servers.postgres_url) as database_url:
        settings = bench_settings(servers, database_url)
        from services.scoring import app as scoring

        scoring.migrate(settings)
        *first, last = scan_events(1, respondents, settings.bus_namespace)
        asyncio.run(publish(settings, first))
        try:
            with Workers(settings, 1) as running:
                running.start()
                asyncio.run(responses_scored(database_url, respondents - 1))
                started = time.perf_counter()
                return asyncio.run(scans_completed(
                    settings, 1, after=lambda: publish(settings, [last]),
                    then=lambda: time.perf_counter() - started))
        finally:
            asyncio.run(remove_namespace(servers.nats_url, settings.bus_namespace))


def bench_settings(servers: Servers, database_url: str) -> Settings:
    return Settings(nats_url=servers.nats_url, database_url=database_url,
                    bus_namespace=fresh_namespace(), secret_key=secrets.token_urlsafe(48))


def scan_events(questionnaires: int, responses: int, namespace: str) -> list[tuple]:
    """(event, encoded CloudEvent) for each questionnaire: created, then per respondent an
    invitation and a submitted response of every statement."""
    now = datetime.now(UTC)
    out = [event for _ in range(questionnaires)
           for event in submitted_scan(respondents=responses, answer=Answer.DEELS)]
    return [(event, encode(envelope(event, source="bench", time=now))) for event in out]


async def publish(settings: Settings, events: list[tuple]) -> None:
    nc = await nats.connect(settings.nats_url)
    js = nc.jetstream()
    from shared.streams import ensure_streams

    await ensure_streams(js, settings.bus_namespace, replicas=1)
    for event, body in events:
        await js.publish(subject_for(settings.bus_namespace, type(event), event.organisation_id),
                         body, stream=events_stream(settings.bus_namespace))
    await nc.close()


async def scans_completed(settings: Settings, expected: int, *,
                          after: Callable[[], Awaitable[object]], then: Callable[[], T]) -> T:
    """Listen for scan.completed, run ``after``, and once ``expected`` scans completed return
    what ``then`` returns.

    A subscription rather than asking the stream over and over: on two cores, a poller takes
    CPU from the workers and NATS it measures.
    """
    nc = await nats.connect(settings.nats_url)
    completed: set[str] = set()
    done = asyncio.Event()

    async def arrived(msg) -> None:  # noqa: ANN001
        completed.add(msg.headers["Nats-Msg-Id"])  # once each, should the relay publish twice
        if len(completed) >= expected:
            done.set()

    await nc.subscribe(f"{settings.bus_namespace}.*.{ScanCompleted.name}", cb=arrived)
    await nc.flush()
    await after()
    await asyncio.wait_for(done.wait(), 600)
    result = then()
    await nc.close()
    return result


async def responses_scored(database_url: str, expected: int) -> None:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as db:
        while (await (await db.execute(
                "SELECT count(*) FROM scoring.scored_responses")).fetchone())[0] < expected:
            await asyncio.sleep(0.05)


if __name__ == "__main__":
    run_alone(compare, __doc__)
