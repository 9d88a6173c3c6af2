"""``iso20400 up``: the whole product on one machine, for a newcomer and for the demo.

NATS and PostgreSQL run as child processes with their data under ``--data``, next to a local mail
sink; all four services run in this process. The terminal gets a banner and one line per
meaningful thing (see shared/logs.py). Ctrl-C and SIGTERM stop everything, children included.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import secrets
import shlex
import sys
import time
from pathlib import Path

from shared.logs import log_format

DEMO_ADMIN_EMAIL = "admin@voorbeeldstad.example"
_IMPORTED = time.monotonic()
log = logging.getLogger("iso20400")


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


async def up(args: argparse.Namespace, services: dict, *, seed_demo) -> int:  # noqa: ANN001
    from shared.embedded import EmbeddedNats, EmbeddedPostgres, free_port

    _check_port_free(args.port)
    # Start-up allocates some 200,000 objects that live as long as the process; collecting
    # them over and over while importing costs a tenth of a second. build_app collects once
    # before it freezes what it built; the banner turns collection back on.
    gc.disable()
    data = args.data.resolve()
    data.mkdir(parents=True, exist_ok=True)
    base_url = f"http://127.0.0.1:{args.port}"
    nats = EmbeddedNats(data / "nats")
    # Its port and password are chosen now, so that the settings exist while initdb runs.
    postgres = EmbeddedPostgres(data / "postgres").choose_address()
    new_database = postgres.is_new  # before start() makes it
    server = seeding = sink = None
    loop = asyncio.get_running_loop()
    # Both servers start at once, in executor threads (which live as long as the loop, as
    # die_with_parent requires), while this thread imports the product: the seconds of initdb
    # and of the imports overlap instead of adding up.
    starting = [loop.run_in_executor(None, nats.start),
                loop.run_in_executor(None, postgres.start)]
    background = [*starting]  # stopping waits for these: they must not outlive the loop
    try:
        _import_everything(services, migrating=new_database)
        # What the imports made lives as long as the process (they leave some 800 objects of
        # garbage): frozen now, build_app's collection walks only what was made since.
        gc.freeze()
        from shared.mail import MailSink

        sink = MailSink(data / "mail", port=free_port())
        settings = _settings(data, nats=nats, postgres=postgres, sink=sink, base_url=base_url)
        # Shielded: Ctrl-C now must not let stopping overtake a server still starting.
        await asyncio.shield(asyncio.gather(*starting))
        sink.start()
        log.info("NATS on %s, PostgreSQL on 127.0.0.1:%d, data in %s", nats.url, postgres.port,
                 data)
        # Migrations mostly wait for PostgreSQL: the app is built meanwhile, then connects to
        # NATS; its handlers start once the tables are there, the demo seed once those of
        # invitations (where the admin lives) are.
        migrated = {name: loop.create_future() for name in services}
        migrating = asyncio.create_task(_migrate(services, settings, migrated))
        background.append(migrating)
        await asyncio.sleep(0)  # the first migration starts now, not once the app is built
        shown = asyncio.Event()  # the banner: work that can wait (PDF workers) starts then
        # Shielded: a cancelled wait must not let stopping overtake a migration still running.
        server = _server(args.port, services, settings=settings, sink=sink,
                         before_consuming=lambda: asyncio.shield(migrating), ready=shown.wait)
        admin = _demo_admin(data)
        seeding = asyncio.create_task(_seed_when_migrated(migrated["invitations"], seed_demo,
                                                          settings, admin))
        banner = asyncio.create_task(_banner(server, seeding, data=data, shown_data=args.data,
                                             admin=admin, base_url=base_url, shown=shown))
        # Uvicorn turns Ctrl-C and SIGTERM into a graceful shutdown, then raises them again
        # here (KeyboardInterrupt or Stopped), after which the finally below stops the rest.
        await server.serve()
        banner.cancel()
        return 0 if server.started else 1
    finally:
        if seeding is not None and not seeding.done():
            seeding.cancel()
        await asyncio.wait(background)  # a server still starting is stopped once started
        (data / "stack.json").unlink(missing_ok=True)
        if sink is not None:
            sink.stop()
        postgres.stop()
        nats.stop()
        if server is not None and server.started:
            log.info("stopped")
        gc.enable()


def _import_everything(services: dict, *, migrating: bool) -> None:  # noqa: ANN001
    """The modules ``up`` needs, imported now rather than where they are first used.

    Alembic only when ``migrating`` (a new database, while initdb runs): a restart seldom
    needs it (see shared/schema_version.py)."""
    if migrating:
        import alembic.command  # noqa: F401
        import alembic.context  # noqa: F401
    import uvicorn  # noqa: F401
    from faststream.nats import NatsBroker  # noqa: F401

    import shared.runtime  # noqa: F401

    len(services)  # the four services' modules


def _settings(data: Path, *, nats, postgres, sink, base_url: str):  # noqa: ANN001, ANN202
    from shared.settings import Settings

    return Settings(
        embedded=True, nats_url=nats.url, database_url=postgres.url,
        secret_key=_secret(data / "secret.key"), base_url=base_url,
        smtp_host="127.0.0.1", smtp_port=sink.port, mailbox_dir=str(sink.folder),
    )


async def _migrate(services: dict, settings,  # noqa: ANN001
                   migrated: dict[str, asyncio.Future]) -> None:
    """Each service in turn (alembic is not thread-safe), in a thread; ``migrated[name]`` is
    done once that service's tables are there."""
    for name, module in services.items():
        await asyncio.to_thread(module.migrate, settings)
        migrated[name].set_result(None)


async def _seed_when_migrated(migrated: asyncio.Future, seed_demo, settings,  # noqa: ANN001
                              admin: dict) -> None:
    await asyncio.shield(migrated)
    await seed_demo(settings, email=admin["email"], password=admin["password"])


def _server(port: int, services: dict, *, settings, sink,  # noqa: ANN001, ANN202
            before_consuming, ready):  # noqa: ANN001
    import uvicorn
    from faststream.nats import NatsBroker

    from shared.logs import broker_logging
    from shared.mail import mailbox_router
    from shared.runtime import build_app

    broker = NatsBroker(settings.nats_url, **broker_logging())
    app = build_app(settings, broker, [m.build(settings, broker) for m in services.values()],
                    extra=lambda a: a.include_router(mailbox_router(sink)),
                    before_consuming=before_consuming, ready=ready)
    return uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                         log_level=None))


async def _banner(server, seeding: asyncio.Task, *, data: Path, shown_data: Path,  # noqa: ANN001
                  admin: dict, base_url: str, shown: asyncio.Event) -> None:
    while not server.started:
        await asyncio.sleep(0.01)
    gc.enable()  # build_app has collected and frozen what start-up made
    await seeding  # the banner invites to log in: the demo admin must exist by then
    (data / "stack.json").write_text(json.dumps({"url": base_url, "pid": os.getpid(),
                                                 "log": _stderr_file()}))
    ready = seconds_since_start()
    if log_format() == "json":  # every line a JSON object; the password stays out of log stores
        log.info("running at %s (ready in %.1fs); demo admin %s, password in %s", base_url,
                 ready, admin["email"], data / "demo-admin.json")
    else:
        print(f"\nISO 20400 Scan is running at {base_url}  (ready in {ready:.1f}s)\n"
              f"  log in as {admin['email']} with password {admin['password']}\n"
              f"  mail sent to respondents: {base_url}/mailbox\n"
              f"  try it, in a second terminal here: {_demo_command(shown_data)}\n"
              f"  Ctrl-C stops everything\n", flush=True)
    shown.set()


def seconds_since_start() -> float:
    """Seconds since this process started, interpreter start-up and imports included."""
    try:
        # Field 22 of /proc/self/stat: the start time in clock ticks since boot (the command
        # name, field 2, is in parentheses and may contain spaces).
        ticks = int(Path("/proc/self/stat").read_text().rpartition(")")[2].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return max(0.0, uptime - ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):  # not Linux: from when this module was imported
        return time.monotonic() - _IMPORTED


def _check_port_free(port: int) -> None:
    import socket

    from shared.embedded import StartError

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise StartError(f"port {port} is in use (another `iso20400 up`?); stop that or "
                             "pass --port") from None


def _demo_command(data: Path) -> str:
    """A command that works from this folder in a new terminal, where .venv is not on PATH."""
    exe = Path(sys.executable).parent / "iso20400"
    shown = os.path.relpath(exe)
    if shown.startswith(".."):
        shown = str(exe)
    elif "/" not in shown:
        shown = f"./{shown}"
    return f"{shlex.quote(shown)} demo --data {shlex.quote(str(data))}"


def _stderr_file() -> str | None:
    """Where our log goes when it goes to a file (so `demo` can point there), else None."""
    try:
        target = os.readlink("/proc/self/fd/2")
    except OSError:
        return None
    return target if target.startswith("/") and Path(target).is_file() else None
