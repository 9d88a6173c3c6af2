"""The ``iso20400`` command: the one place that composes all four services.

    iso20400 up                 everything on this machine: NATS, PostgreSQL, mail sink, services
    iso20400 serve SERVICE      one service against ISO20400_NATS_URL and ISO20400_DATABASE_URL
    iso20400 migrate [SERVICE]  bring the database schemas up to date
    iso20400 demo               a whole scan over HTTP, against a running stack or a fresh one
    iso20400 dead-letters       list or replay the events no consumer could handle
    iso20400 content check      validate the scan content and count it
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import secrets
import sys
import time
from pathlib import Path

from services.documents import app as documents
from services.invitations import app as invitations
from services.responses import app as responses
from services.scoring import app as scoring
from shared import dead_letters_cli

SERVICES = {m.NAME: m for m in (invitations, responses, scoring, documents)}
DEMO_ADMIN_EMAIL = "admin@voorbeeldstad.example"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="iso20400", description="ISO 20400 Scan")
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="start the whole product on this machine")
    up.add_argument("--data", type=Path, default=Path("var"), help="data folder (default ./var)")
    up.add_argument("--port", type=int, default=8020, help="HTTP port (default 8020)")
    up.add_argument("--verbose", action="store_true", help="log every message handled")

    serve = sub.add_parser("serve", help="run one service (production shape)")
    serve.add_argument("service", choices=sorted(SERVICES))
    serve.add_argument("--host", default=os.environ.get("ISO20400_HTTP_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("ISO20400_HTTP_PORT", 8000)))
    serve.add_argument("--no-migrate", action="store_true", help="skip the schema migration")

    migrate = sub.add_parser("migrate", help="run the services' database migrations")
    migrate.add_argument("service", nargs="*", choices=sorted(SERVICES))

    demo = sub.add_parser("demo", help="run one scan end to end over HTTP")
    demo.add_argument("--url", help="a running stack (default: the one `up` started in --data, "
                                    "else a fresh embedded stack)")
    demo.add_argument("--data", type=Path, default=Path("var"))
    demo.add_argument("--email", default=DEMO_ADMIN_EMAIL)
    demo.add_argument("--password", help="admin password (default: read from --data)")
    demo.add_argument("--out", type=Path, default=Path("demo-output"))
    demo.add_argument("--respondents", type=int, default=5)

    dead_letters_cli.add_parser(sub)

    content = sub.add_parser("content", help="scan content tools")
    content.add_argument("action", choices=["check"])

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "up":
        return asyncio.run(_up(args))
    if args.command == "serve":
        return _serve(args)
    if args.command == "migrate":
        from shared.settings import Settings

        settings = Settings()
        for name in args.service or SERVICES:
            SERVICES[name].migrate(settings)
            print(f"migrated {name}")
        return 0
    if args.command == "dead-letters":
        return dead_letters_cli.run(args)
    if args.command == "demo":
        from services.demo import run_demo

        _quiet_message_logs(verbose=False)
        return run_demo(args)
    return _content_check()


def _content_check() -> int:
    from shared.content import ContentError, load_content
    from shared.content_report import content_report

    try:
        print(content_report(load_content()))
    except ContentError as exc:
        print(f"content error: {exc}", file=sys.stderr)
        return 1
    return 0


def _quiet_message_logs(verbose: bool) -> None:
    if not verbose:
        for name in ("faststream", "faststream.access", "faststream.access.nats", "alembic",
                     "httpx"):
            logging.getLogger(name).setLevel(logging.WARNING)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from shared.runtime import build_app, make_broker
    from shared.settings import Settings

    settings = Settings()
    _quiet_message_logs(verbose=False)
    module = SERVICES[args.service]
    if not args.no_migrate:
        module.migrate(settings)
    broker = make_broker(settings)
    app = build_app(settings, broker, [module.build(settings, broker)])
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def _secret(path: Path) -> str:
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _demo_admin(data: Path) -> dict:
    path = data / "demo-admin.json"
    if not path.exists():
        path.write_text(json.dumps({"email": DEMO_ADMIN_EMAIL,
                                    "password": secrets.token_urlsafe(12)}))
        path.chmod(0o600)
    return json.loads(path.read_text())


async def _up(args: argparse.Namespace) -> int:
    import uvicorn

    from shared.embedded import EmbeddedNats, EmbeddedPostgres, free_port
    from shared.mail import MailSink, mailbox_router
    from shared.runtime import build_app, make_broker
    from shared.settings import Settings

    started = time.monotonic()
    data = args.data.resolve()
    data.mkdir(parents=True, exist_ok=True)
    _quiet_message_logs(args.verbose)
    base_url = f"http://127.0.0.1:{args.port}"
    nats = EmbeddedNats(data / "nats")
    postgres = EmbeddedPostgres(data / "postgres")
    sink = MailSink(data / "mail", port=free_port())
    try:
        await asyncio.to_thread(nats.start)
        await asyncio.to_thread(postgres.start)
        sink.start()
        settings = Settings(
            embedded=True, nats_url=nats.url, database_url=postgres.url,
            secret_key=_secret(data / "secret.key"), base_url=base_url,
            smtp_host="127.0.0.1", smtp_port=sink.port,
        )
        for module in SERVICES.values():
            await asyncio.to_thread(module.migrate, settings)
        admin = _demo_admin(data)
        await invitations.seed_demo(settings, email=admin["email"], password=admin["password"])
        broker = make_broker(settings)
        app = build_app(settings, broker, [m.build(settings, broker) for m in SERVICES.values()],
                        extra=lambda a: a.include_router(mailbox_router(sink)))
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=args.port,
                                               log_level="warning"))
        (data / "stack.json").write_text(json.dumps({"url": base_url, "pid": os.getpid()}))
        startup = asyncio.create_task(server.serve())
        while not server.started and not startup.done():
            await asyncio.sleep(0.05)
        if server.started:
            print(f"\nISO 20400 Scan is running at {base_url}  (ready in "
                  f"{time.monotonic() - started:.1f}s)\n"
                  f"  log in as {admin['email']} with password {admin['password']}\n"
                  f"  mail sent to respondents: {base_url}/mailbox\n"
                  f"  try it: iso20400 demo --data {args.data}   (Ctrl-C stops everything)\n",
                  flush=True)
        await startup
        return 0 if server.started else 1
    finally:
        (data / "stack.json").unlink(missing_ok=True)
        sink.stop()
        postgres.stop()
        nats.stop()


if __name__ == "__main__":
    sys.exit(main())
