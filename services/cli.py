"""The ``iso20400`` command: the one place that composes all four services.

    iso20400 up                 everything on this machine: NATS, PostgreSQL, mail sink, services
    iso20400 serve SERVICE      one service against ISO20400_NATS_URL and ISO20400_DATABASE_URL
    iso20400 migrate [SERVICE]  bring the database schemas up to date
    iso20400 demo               a whole scan over HTTP, against a running stack or a fresh one
    iso20400 content check      validate the scan content and count it
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import ModuleType

from services.up import DEMO_ADMIN_EMAIL

log = logging.getLogger("iso20400")


class _Services(Mapping):
    """The four services' ``app`` modules by name, imported on first use.

    A PDF worker (multiprocessing's spawn) re-imports this module as its main module; importing
    all four services there doubled each worker's memory (about 120 MB instead of 60) and its
    start-up time.
    """

    _modules: dict[str, ModuleType] | None = None

    def _load(self) -> dict[str, ModuleType]:
        if self._modules is None:
            self._modules = {name: importlib.import_module(f"services.{name}.app")
                             for name in SERVICE_NAMES}
        return self._modules

    def __getitem__(self, name: str) -> ModuleType:
        return self._load()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


SERVICE_NAMES = ("invitations", "responses", "scoring", "documents")
SERVICES: Mapping[str, ModuleType] = _Services()


class Stopped(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C raises KeyboardInterrupt, so both stop the same way."""


def main(argv: list[str] | None = None) -> int:
    if threading.current_thread() is threading.main_thread():  # tests call main() from threads
        signal.signal(signal.SIGTERM, _raise_stopped)
    command = None
    try:
        parser = _parser()
        args = parser.parse_args(argv)
        if args.command == "migrate" and (unknown := set(args.service) - set(SERVICE_NAMES)):
            parser.error(f"unknown service {', '.join(sorted(unknown))}; "
                         f"choose from {', '.join(sorted(SERVICE_NAMES))}")
        from shared.logs import setup_logging

        setup_logging(verbose=getattr(args, "verbose", False))
        command = args.command
        return _run(args)
    except KeyboardInterrupt as stop:
        # Everything is stopped by now (the finally blocks ran); no traceback for a request.
        # SIGTERM is how a supervisor ends a server: success. Anything else was cut short.
        if isinstance(stop, Stopped):
            return 0 if command in ("up", "serve") else 128 + signal.SIGTERM
        return 128 + signal.SIGINT


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="iso20400", description="ISO 20400 Scan")
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="start the whole product on this machine")
    up.add_argument("--data", type=Path, default=Path("var"), help="data folder (default ./var)")
    up.add_argument("--port", type=int, default=8020, help="HTTP port (default 8020)")
    up.add_argument("--verbose", action="store_true", help="log every message handled")

    serve = sub.add_parser("serve", help="run one service (production shape)")
    serve.add_argument("service", choices=sorted(SERVICE_NAMES))
    serve.add_argument("--host", default=os.environ.get("ISO20400_HTTP_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("ISO20400_HTTP_PORT", 8000)))
    serve.add_argument("--no-migrate", action="store_true", help="skip the schema migration")
    serve.add_argument("--verbose", action="store_true", help="log every message and request")

    migrate = sub.add_parser("migrate", help="run the services' database migrations")
    # No `choices=`: argparse checks an empty nargs="*" list against them and refuses it.
    migrate.add_argument("service", nargs="*", metavar="SERVICE",
                         help=f"one of {', '.join(sorted(SERVICE_NAMES))} (default: all)")

    demo = sub.add_parser("demo", help="run one scan end to end over HTTP")
    demo.add_argument("--url", help="a running stack (default: the one `up` started in --data, "
                                    "else a fresh embedded stack)")
    demo.add_argument("--data", type=Path, default=Path("var"))
    demo.add_argument("--email", default=DEMO_ADMIN_EMAIL)
    demo.add_argument("--password", help="admin password (default: read from --data)")
    demo.add_argument("--out", type=Path, default=Path("demo-output"))
    demo.add_argument("--respondents", type=int, default=5)

    from shared import dead_letters_cli  # here, not at the top: PDF workers re-import this module

    dead_letters_cli.add_parser(sub)

    content = sub.add_parser("content", help="scan content tools")
    content.add_argument("action", choices=["check"])
    return parser


def _raise_stopped(signum: int, frame: object) -> None:
    raise Stopped


def _run(args: argparse.Namespace) -> int:
    if args.command == "up":
        from services.up import up
        from shared.embedded import StartError

        try:
            return asyncio.run(up(args, SERVICES, seed_demo=_seed_demo))
        except StartError as exc:  # says what to do; a traceback would bury that
            log.error("could not start: %s", exc)
            return 1
    if args.command == "serve":
        return _serve(args)
    if args.command == "migrate":
        from shared.settings import Settings

        settings = Settings()
        for name in args.service or SERVICES:
            SERVICES[name].migrate(settings)
            print(f"migrated {name}", flush=True)
        return 0
    if args.command == "dead-letters":
        from shared import dead_letters_cli

        return dead_letters_cli.run(args)
    if args.command == "demo":
        from services.demo import run_demo

        return run_demo(args)
    return _content_check()


async def _seed_demo(settings, *, email: str, password: str) -> bool:  # noqa: ANN001
    # The services are imported only now, once `up` has set NATS and PostgreSQL starting.
    return await SERVICES["invitations"].seed_demo(settings, email=email, password=password)


def _content_check() -> int:
    from shared.content import ContentError, load_content
    from shared.content_report import content_report

    try:
        print(content_report(load_content()))
    except ContentError as exc:
        print(f"content error: {exc}", file=sys.stderr)
        return 1
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from shared.runtime import build_app, make_broker
    from shared.settings import Settings

    settings = Settings()
    module = SERVICES[args.service]
    if not args.no_migrate:
        module.migrate(settings)
    broker = make_broker(settings)
    app = build_app(settings, broker, [module.build(settings, broker)])
    server = uvicorn.Server(uvicorn.Config(app, host=args.host, port=args.port, log_config=None,
                                           log_level=None))
    log.info("starting %s on http://%s:%d", args.service, args.host, args.port)
    try:
        server.run()
    finally:
        log.info("%s stopped", args.service)
    return 0 if server.started else 1


if __name__ == "__main__":
    sys.exit(main())
