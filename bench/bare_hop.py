"""The bare hop: JetStream publish -> durable pull consumer -> one PostgreSQL transaction -> ack,
and for a message marked last, a JetStream publish of a follow-up event after the commit.

What an engineer would write by hand with nats-py and psycopg, importing nothing of the
product, so the latency comparison in ``bench/latency.py`` can be rerun by anyone:

    python bench/bare_hop.py --nats nats://127.0.0.1:4222 --database postgresql://... \\
        --namespace bare1

It creates the stream ``<namespace>-bare`` (subjects ``<namespace>.answer`` and
``<namespace>.followup``) and a table ``bare_answers`` whose inserts NOTIFY ``bench_scored`` with
the message id on commit, the same probe ``bench/latency.py`` adds to the product. It prints
``ready`` once consuming, and runs until SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

import nats
import psycopg
from nats.js.api import StreamConfig

SCHEMA = """
CREATE TABLE IF NOT EXISTS bare_answers (id text PRIMARY KEY, payload bytea NOT NULL);
CREATE TABLE IF NOT EXISTS bare_inbox (id text PRIMARY KEY, handled_at timestamptz NOT NULL);
CREATE OR REPLACE FUNCTION bare_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM pg_notify('bench_scored', NEW.id); RETURN NULL; END $$;
DROP TRIGGER IF EXISTS bare_notify ON bare_answers;
CREATE TRIGGER bare_notify AFTER INSERT ON bare_answers FOR EACH ROW EXECUTE FUNCTION bare_notify();
"""

RECORD = """
WITH first AS (INSERT INTO bare_inbox VALUES (%(id)s, now()) ON CONFLICT DO NOTHING RETURNING id)
INSERT INTO bare_answers SELECT id, %(payload)s FROM first
"""


async def serve(*, nats_url: str, database_url: str, namespace: str) -> None:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    stream = f"{namespace}-bare"
    await js.add_stream(StreamConfig(name=stream, subjects=[f"{namespace}.answer",
                                                            f"{namespace}.followup"]))
    db = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
    await db.execute(SCHEMA)
    sub = await js.pull_subscribe(f"{namespace}.answer", durable="bare", stream=stream)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    while not stop.is_set():
        # One at a time: nats-py's fetch of a larger batch, once it has to wait on the server,
        # holds the first message until the batch fills or the timeout ends.
        try:
            messages = await sub.fetch(1, timeout=0.5)
        except nats.errors.TimeoutError:
            continue
        for msg in messages:
            msg_id = msg.headers["Nats-Msg-Id"]
            # Inbox row and payload in one statement, so one round trip is the whole transaction.
            await db.execute(RECORD, {"id": msg_id, "payload": msg.data})
            await msg.ack()
            if msg.headers.get("Last"):
                await js.publish(f"{namespace}.followup", msg_id.encode(), stream=stream,
                                 headers={"Nats-Msg-Id": f"followup-{msg_id}"})
    await db.close()
    await js.delete_stream(stream)
    await nc.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nats", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--namespace", required=True)
    args = parser.parse_args()
    asyncio.run(serve(nats_url=args.nats, database_url=args.database, namespace=args.namespace))


if __name__ == "__main__":
    main()
