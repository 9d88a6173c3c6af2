"""``iso20400 dead-letters list|replay``: the operator's way to see and bring back dead letters.

Both use ISO20400_NATS_URL and ISO20400_BUS_NAMESPACE, like the services.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime
from typing import TYPE_CHECKING

# Imported where used: building the command line must stay light, for `iso20400 up` starts
# NATS and PostgreSQL only after parsing it.
if TYPE_CHECKING:
    from shared.dead_letters import DeadLetter
    from shared.settings import Settings


def add_parser(sub) -> None:  # noqa: ANN001 - argparse's subparsers action
    parser = sub.add_parser("dead-letters", help="list or replay events no consumer could handle")
    action = parser.add_subparsers(dest="action", required=True)
    action.add_parser("list", help="one line each: sequence, time, consumer, subject, reason")
    again = action.add_parser("replay", help="publish them again to their original subjects")
    again.add_argument("--consumer", help="only those of this consumer, e.g. scoring-score-responses")
    again.add_argument("--since", type=_moment, help="only those dead-lettered at or after "
                                                      "this moment (ISO 8601, UTC unless it says)")


def _moment(text: str) -> datetime:
    from shared.dead_letters import utc

    return utc(text)


def run(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from shared.settings import Settings

    try:
        settings = Settings(embedded=True)  # no secret needed to talk to NATS
    except ValidationError as exc:
        print(f"settings error: {exc}", file=sys.stderr)
        return 2
    return asyncio.run(_run(args, settings))


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    import nats
    from nats.js.errors import NotFoundError

    try:
        nc = await nats.connect(settings.nats_servers, connect_timeout=5,
                                max_reconnect_attempts=1, reconnect_time_wait=1,
                                error_cb=_quiet)
    except Exception as exc:  # noqa: BLE001 - said plainly, no traceback
        print(f"cannot reach NATS at {settings.nats_url}: {exc!r}", file=sys.stderr)
        return 1
    try:
        return await _act(args, nc.jetstream(), settings)
    except NotFoundError:
        print(f"no dead-letter stream in namespace {settings.bus_namespace!r}: no service has "
              "started there yet", file=sys.stderr)
        return 1
    finally:
        await nc.close()


async def _quiet(exc: Exception) -> None:
    """nats-py would log each failed attempt with a traceback; the command says it once."""


async def _act(args: argparse.Namespace, js, settings: Settings) -> int:  # noqa: ANN001
    from shared.dead_letters import read_dead_letters, replay

    if args.action == "list":
        letters = await read_dead_letters(js, settings.bus_namespace)
        for letter in letters:
            print(line(letter))
        print(f"{len(letters)} dead letter(s)")
        return 0
    count = await replay(js, settings.bus_namespace, consumer=args.consumer, since=args.since,
                         on_replayed=lambda letter: print(f"replayed {line(letter)}"))
    print(f"{count} dead letter(s) replayed")
    return 0


def line(letter: DeadLetter) -> str:
    when = letter.time.isoformat(timespec="seconds") if letter.time else "?"
    ref = " (by reference)" if letter.by_reference else ""
    return (f"{letter.sequence}\t{when}\t{letter.consumer}\t{letter.subject}\t"
            f"{letter.reason}{ref}")
