"""Latency from an event to its effect, the product beside one bare hop (``bench/bare_hop.py``).

Driven as an integrator drives the product: this process publishes on a fixed schedule while
the service under test runs in its own process (``iso20400 serve``) and the bare hop in another,
so the load generator shares no CPU time with what it measures. A commit is observed through a
NOTIFY sent by a row trigger this benchmark adds (the same in product and baseline): PostgreSQL
delivers it when the writing transaction commits.

- p99 submitted -> scored at 250/s: response.submitted published -> its scored row committed,
  2,000 samples per round after 100 of warm-up, over 20 questionnaires kept open (completing
  one is the next row). Baseline: the bare loop at the same rate, same probe.
- last submission -> scan.completed: a questionnaire's last response.submitted published ->
  scan.completed arriving on the stream (consumer, commit, outbox relay), median. Baseline:
  the bare hop, publish -> its follow-up event published after its commit.
- responses: save POST commit -> response.submitted on the stream (that service's outbox
  relay), median; with the row above it is the whole way from the last answer to the scan.

    .venv/bin/python -m bench.latency [--rounds 1]
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from pathlib import Path
from subprocess import PIPE, Popen

import httpx
import nats

from bench.common import Comparison, Servers, median, percentile, run_alone
from bench.probes import Bus, Commits, Message, arrivals, questionnaire, service_process, stop
from shared.content import content
from shared.events import ResponseSubmitted, ScanCompleted, subject_for
from shared.streams import events_stream
from shared.tokens import new_token
from tests.servers import fresh_database, fresh_namespace

RATE = 250  # events per second
SAMPLES = 2_000
WARMUP = 100
QUESTIONNAIRES = 20
HOPS = 20  # single-event samples per round
SCORED_PROBE = """
CREATE FUNCTION scoring.bench_scored() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM pg_notify('bench_scored', NEW.invitation_id::text); RETURN NULL; END $$;
CREATE TRIGGER bench_scored AFTER INSERT ON scoring.scored_responses
    FOR EACH ROW EXECUTE FUNCTION scoring.bench_scored();
"""
SUBMITTED_PROBE = """
CREATE FUNCTION responses.bench_emitted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM pg_notify('bench_emitted', NEW.event_id::text); RETURN NULL; END $$;
CREATE TRIGGER bench_emitted AFTER INSERT ON responses.outbox
    FOR EACH ROW EXECUTE FUNCTION responses.bench_emitted();
"""

async def at_rate(js, stream: str, messages: list[Message], commits: Commits) -> list[float]:  # noqa: ANN001
    """Publish ``messages`` at RATE; ms from each publish to its commit, after the warm-up."""
    sent: list[tuple[str, float]] = []
    start = time.perf_counter()
    for n, (key, subject, body) in enumerate(messages):
        if (pause := start + n / RATE - time.perf_counter()) > 0:
            await asyncio.sleep(pause)
        sent.append((key, time.perf_counter()))
        await js.publish(subject, body, stream=stream, headers={"Nats-Msg-Id": key})
    if (late := time.perf_counter() - start - len(messages) / RATE) > 1.0:
        print(f"  note: the publisher fell {late:.1f} s behind its schedule", file=sys.stderr)
    await commits.wait_for([k for k, _ in sent], timeout=300)
    return [(commits.seen[k] - t) * 1000 for k, t in sent[WARMUP:]]


async def scoring_round(servers: Servers) -> tuple[list[float], list[float]]:
    """(submitted -> scored at RATE, last submission -> scan.completed), in ms."""
    async with service_process(servers, "scoring", probe=SCORED_PROBE) as (ns, db, _):
        nc = await nats.connect(servers.nats_url)
        bus, commits = Bus(nc, ns), Commits("bench_scored")
        listener = asyncio.create_task(commits.listen(db))
        try:
            makers = []
            for _ in range(QUESTIONNAIRES):
                setup, submitted = questionnaire(total=10**6)  # never complete
                for event in setup:
                    await bus.send(event)
                makers.append(submitted)
            # Encoded before the clock starts, so the load generator only publishes; the
            # scored row's invitation id is the key the probe reports.
            messages = []
            for n in range(WARMUP + SAMPLES):
                key = str(uuid.uuid4())
                _, subject, body = bus.message(makers[n % QUESTIONNAIRES](key))
                messages.append((key, subject, body))
            scored = await at_rate(bus.js, events_stream(ns), messages, commits)
            sub, completed = await arrivals(nc, subject_for(ns, ScanCompleted))
            hops = []
            for _ in range(HOPS):
                setup, submitted = questionnaire(total=2)
                first = str(uuid.uuid4())
                for event in [*setup, submitted(first)]:
                    await bus.send(event)
                await commits.wait_for([first], timeout=30)
                last = submitted(str(uuid.uuid4()))
                started = time.perf_counter()
                await bus.send(last)
                hops.append((((await asyncio.wait_for(completed.get(), 30))[0]) - started) * 1000)
            await sub.unsubscribe()
        finally:
            listener.cancel()
            await nc.close()
    return scored, hops


async def responses_round(servers: Servers) -> list[float]:
    """Save POST commit -> response.submitted on the stream, in ms."""
    async with service_process(servers, "responses", probe=SUBMITTED_PROBE) as (ns, db, url):
        nc = await nats.connect(servers.nats_url)
        bus, commits = Bus(nc, ns), Commits("bench_emitted")
        listener = asyncio.create_task(commits.listen(db))
        tokens = [new_token() for _ in range(HOPS)]
        setup, _ = questionnaire(total=HOPS, tokens=tokens)
        for event in setup:
            await bus.send(event)
        form = {f"answer-{s.id}": "volledig" for s in content().statements} | {"action": "submit"}
        sub, submitted = await arrivals(nc, subject_for(ns, ResponseSubmitted))
        hops = []
        try:
            async with httpx.AsyncClient(base_url=url, timeout=30) as client:
                for token in tokens:
                    while (await client.get(f"/r/{token}")).status_code != 200:
                        await asyncio.sleep(0.05)  # responses has not learnt of it yet
                    answer = await client.post(f"/r/{token}", data=form)
                    if answer.status_code != 200:
                        raise RuntimeError(f"the save POST answered {answer.status_code}")
                    arrived, msg = await asyncio.wait_for(submitted.get(), 30)
                    key = msg.headers["Nats-Msg-Id"]
                    await commits.wait_for([key], timeout=30)
                    hops.append((arrived - commits.seen[key]) * 1000)
            await sub.unsubscribe()
        finally:
            listener.cancel()
            await nc.close()
    return hops


async def bare_round(servers: Servers) -> tuple[list[float], list[float]]:
    """The bare loop at RATE and the bare hop, in ms, against bench/bare_hop.py."""
    namespace = fresh_namespace()
    stream = f"{namespace}-bare"
    payload = questionnaire(total=2)[1](str(uuid.uuid4())).model_dump_json().encode()
    with fresh_database(servers.postgres_url) as database_url:
        proc = Popen([sys.executable, str(Path(__file__).with_name("bare_hop.py")), "--nats",
                      servers.nats_url, "--database", database_url, "--namespace", namespace],
                     stdout=PIPE, text=True)
        try:
            if (await asyncio.to_thread(proc.stdout.readline)).strip() != "ready":
                raise RuntimeError("bench/bare_hop.py did not start")
            nc = await nats.connect(servers.nats_url)
            js, commits = nc.jetstream(), Commits("bench_scored")
            listener = asyncio.create_task(commits.listen(database_url))
            await asyncio.sleep(0.2)  # listening
            messages = [(str(uuid.uuid4()), f"{namespace}.answer", payload)
                        for _ in range(WARMUP + SAMPLES)]
            scored = await at_rate(js, stream, messages, commits)
            sub, followed = await arrivals(nc, f"{namespace}.followup")
            hops = []
            for _ in range(HOPS):
                started = time.perf_counter()
                await js.publish(f"{namespace}.answer", payload, stream=stream,
                                 headers={"Nats-Msg-Id": str(uuid.uuid4()), "Last": "1"})
                hops.append(((await asyncio.wait_for(followed.get(), 30))[0] - started) * 1000)
            await sub.unsubscribe()
            listener.cancel()
            await nc.close()
        finally:
            stop(proc)
    return scored, hops


def compare(servers: Servers, *, rounds: int) -> list[Comparison]:
    scored, completed, submitted, bare_scored, bare_hops = [], [], [], [], []
    for _ in range(rounds):  # interleaved: product, baseline, product, ...
        product_scored, product_hops = asyncio.run(scoring_round(servers))
        scored += product_scored
        completed += product_hops
        submitted += asyncio.run(responses_round(servers))
        baseline_scored, baseline_hops = asyncio.run(bare_round(servers))
        bare_scored += baseline_scored
        bare_hops += baseline_hops
    p99, hop, relay, bare_hop = (percentile(scored, 99), median(completed), median(submitted),
                                 median(bare_hops))
    return [
        Comparison("p99 submitted -> scored at 250/s", p99, percentile(bare_scored, 99), "ms",
                   "p99 ≤ 20 ms", p99 <= 20),
        Comparison("last submission -> scan.completed", hop, bare_hop, "ms", "≤ 50 ms",
                   hop <= 50),
        Comparison("responses: save commit -> response.submitted", relay, bare_hop, "ms",
                   "≤ 50 ms with the row above", relay + hop <= 50),
    ]


if __name__ == "__main__":
    run_alone(compare, __doc__)
