"""Responses per second through the scoring service on real NATS and PostgreSQL.

Starts embedded servers in a temporary folder (or uses ISO20400_TEST_NATS_URL and
ISO20400_TEST_DATABASE_URL), runs the scoring service in this process, puts one questionnaire
with N submitted responses on the bus and times until scan.completed is published.

    .venv/bin/python -m bench.scoring_pipeline [--responses 200] [--workers 1]
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

from faststream.nats import NatsBroker

from services.scoring import app as scoring
from shared.bus import events_stream
from shared.content import Answer, content
from shared.events import (
    AnswerGiven,
    InvitationSent,
    QuestionnaireCreated,
    ResponseSubmitted,
    ScanCompleted,
    encode,
    envelope,
    subject_for,
)
from shared.runtime import build_app
from shared.settings import Settings
from tests.servers import fresh_database, fresh_namespace, nats_server, postgres_server, \
    remove_namespace


def events(n: int) -> list:
    scan = content()
    org, qid, now = uuid.uuid4(), uuid.uuid4(), datetime.now(UTC)
    out = [QuestionnaireCreated(organisation_id=org, questionnaire_id=qid,
                                organisation_name="Bench", title="Bench",
                                content_version=scan.version,
                                deadline=now + timedelta(days=1), created_at=now)]
    answers = tuple(AnswerGiven(statement_id=s.id, answer=Answer.DEELS) for s in scan.statements)
    for _ in range(n):
        inv = uuid.uuid4()
        out.append(InvitationSent(organisation_id=org, questionnaire_id=qid, invitation_id=inv,
                                  respondent_id=uuid.uuid4(), respondent_name="R",
                                  token_hash="0" * 64, invitations_total=n, sent_at=now))
        out.append(ResponseSubmitted(organisation_id=org, questionnaire_id=qid,
                                     response_id=uuid.uuid4(), invitation_id=inv,
                                     content_version=scan.version, submitted_at=now,
                                     answers=answers))
    return out


async def run(n: int, workers: int, nats_url: str, database_url: str) -> None:
    namespace = fresh_namespace()
    settings = Settings(nats_url=nats_url, database_url=database_url, bus_namespace=namespace,
                        secret_key="bench-" + "x" * 40, relay_interval=0.02)
    scoring.migrate(settings)
    apps = []
    for _ in range(workers):
        broker = NatsBroker(nats_url)
        apps.append(build_app(settings, broker, [scoring.build(settings, broker)]))
    contexts = [a.router.lifespan_context(a) for a in apps]
    for ctx in contexts:
        await ctx.__aenter__()
    import nats

    nc = await nats.connect(nats_url)
    jsc = nc.jetstream()
    start = time.perf_counter()
    for event in events(n):
        env = envelope(event, source="bench", time=datetime.now(UTC))
        await jsc.publish(subject_for(namespace, type(event), event.organisation_id),
                          encode(env), stream=events_stream(namespace),
                          headers={"Nats-Msg-Id": str(env.id)})
    published = time.perf_counter() - start
    while True:
        info = await jsc.stream_info(events_stream(namespace),
                                     subjects_filter=f"{namespace}.*.{ScanCompleted.name}")
        if info.state.subjects:
            break
        await asyncio.sleep(0.01)
    total = time.perf_counter() - start
    print(f"{n} responses, {workers} scoring worker(s): published in {published:.2f}s, "
          f"scan completed after {total:.2f}s -> {n / total:,.0f} responses/s")
    for ctx in contexts:
        await ctx.__aexit__(None, None, None)
    await nc.close()
    await remove_namespace(nats_url, namespace)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--responses", type=int, default=200)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    with nats_server() as nats_url, postgres_server() as pg_url, fresh_database(pg_url) as db:
        asyncio.run(run(args.responses, args.workers, nats_url, db))


if __name__ == "__main__":
    main()
