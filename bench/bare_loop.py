"""The bare loop scoring is measured against: what an engineer would write by hand.

nats-py publishes the messages to a JetStream stream; a durable pull consumer fetches up to 100
at a time; each message gets its own PostgreSQL transaction (psycopg 3, async, one connection)
that records its id in an inbox and writes its payload (the answers, as JSON); the message is
acked after that commit. No framework, no validation beyond json.loads. Imports nothing of the
product, so anyone can rerun it.

    .venv/bin/python -m bench.bare_loop [--messages 1000]
    (ISO20400_TEST_NATS_URL and ISO20400_TEST_DATABASE_URL, or local defaults)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid

import nats
import psycopg
from nats.js.api import ConsumerConfig

FETCH = 100

# Tables named after the stream, dropped at the end.
SCHEMA = """
CREATE TABLE {stream}_inbox (event_id uuid PRIMARY KEY, handled_at timestamptz NOT NULL);
CREATE TABLE {stream}_payloads (event_id uuid PRIMARY KEY, subject text NOT NULL,
                                answers jsonb NOT NULL);
"""


async def publish(nats_url: str, bodies: list[bytes]) -> str:
    """Put ``bodies`` on a new stream; returns the stream's name (also its subject prefix)."""
    name = f"bare{uuid.uuid4().hex[:12]}"
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await js.add_stream(name=name, subjects=[f"{name}.>"])
    for body in bodies:
        await js.publish(f"{name}.event", body, stream=name)
    await nc.close()
    return name


async def consume(nats_url: str, database_url: str, stream: str, *, expected: int) -> float:
    """Handle ``expected`` messages of ``stream``; returns the seconds from start to last ack."""
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    db = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
    await db.execute(SCHEMA.format(stream=stream))
    add_inbox = (f"INSERT INTO {stream}_inbox VALUES (%s, now()) ON CONFLICT DO NOTHING "
                 "RETURNING event_id")
    add_payload = f"INSERT INTO {stream}_payloads VALUES (%s, %s, %s)"
    started = time.perf_counter()
    sub = await js.pull_subscribe(f"{stream}.>", durable="bare", stream=stream,
                                  config=ConsumerConfig(ack_wait=30))
    handled = 0
    while handled < expected:
        try:
            messages = await sub.fetch(batch=FETCH, timeout=5)
        except nats.errors.TimeoutError:
            continue
        for msg in messages:
            event = json.loads(msg.data)
            async with db.transaction():
                new = await (await db.execute(add_inbox, (event["id"],))).fetchone()
                if new:
                    await db.execute(add_payload, (event["id"], msg.subject,
                                                   json.dumps(event["data"]["answers"])))
            await msg.ack()
            handled += 1
    elapsed = time.perf_counter() - started
    await db.execute(f"DROP TABLE {stream}_inbox, {stream}_payloads")
    await db.close()
    await js.delete_stream(stream)
    await nc.close()
    return elapsed


def sample_bodies(count: int, answers: int = 80) -> list[bytes]:
    """Messages shaped like response.submitted: an envelope with ``answers`` answers."""
    return [json.dumps({
        "specversion": "1.0", "id": str(uuid.uuid4()), "type": "bare.response.submitted",
        "data": {"answers": [{"statement_id": f"S{n}", "answer": "deels", "comment": None}
                             for n in range(answers)]},
    }).encode() for _ in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    args = parser.parse_args()
    nats_url = os.environ.get("ISO20400_TEST_NATS_URL", "nats://127.0.0.1:4222")
    database_url = os.environ.get("ISO20400_TEST_DATABASE_URL",
                                  "postgresql://postgres@127.0.0.1:5432/postgres")

    async def run() -> float:
        stream = await publish(nats_url, sample_bodies(args.messages))
        return await consume(nats_url, database_url, stream, expected=args.messages)

    elapsed = asyncio.run(run())
    print(f"{args.messages} messages in {elapsed:.2f} s: {args.messages / elapsed:,.0f} msg/s")


if __name__ == "__main__":
    main()
