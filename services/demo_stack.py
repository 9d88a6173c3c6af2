"""Where ``iso20400 demo`` runs: the stack named on the command line, the one recorded in the data
folder (checked to be healthy, or told what is wrong with it), or a fresh one of its own."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx


class DemoFailed(RuntimeError):
    pass


def find_or_start_stack(args: argparse.Namespace):  # noqa: ANN202
    data = args.data
    if args.url:
        creds = _credentials(data) if args.password is None else {"password": args.password}
        return args.url.rstrip("/"), args.email, creds["password"], None
    stack_file = data / "stack.json"
    if stack_file.exists():
        # A stack was started here: use it, or say what is wrong with it. Starting another one
        # beside it would hide the problem and run the demo against other data.
        stack = json.loads(stack_file.read_text())
        _wait_until_healthy(stack, stack_file, data=data)
        return stack["url"], args.email, args.password or _credentials(data)["password"], None
    return _start_fresh_stack(args)


def _start_fresh_stack(args: argparse.Namespace):  # noqa: ANN202
    from shared.embedded import die_with_parent, free_port

    fresh = Path(tempfile.mkdtemp(prefix="iso20400-demo-"))
    # Ours, made just now: passable, so that as root PostgreSQL's user keeps its data here
    # rather than in /var/lib/iso20400 (the secrets inside are 600 anyway).
    fresh.chmod(0o755)
    log = fresh / "iso20400.log"
    port = free_port()
    print(f"no running stack found; starting a fresh one in {fresh} (log: {log})", flush=True)
    with open(log, "ab") as out:
        # Stopped by us when the demo ends, and by the kernel if the demo is killed.
        proc = subprocess.Popen([sys.executable, "-m", "services.cli", "up", "--data", str(fresh),
                                 "--port", str(port)], stdout=out, stderr=subprocess.STDOUT,
                                preexec_fn=die_with_parent)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while _unhealthy(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait(10)
            raise DemoFailed(f"the embedded stack did not start; its log, {log}, ends with:\n"
                             + _tail(log))
        time.sleep(0.3)
    return url, args.email, _credentials(fresh)["password"], proc


def _wait_until_healthy(stack: dict, stack_file: Path, *, data: Path,
                        timeout: float = 20) -> None:
    where = (f"its log is {stack['log']}" if stack.get("log")
             else f"its log is in the terminal where `iso20400 up` runs (pid {stack.get('pid')})")
    servers = [str(p) for p in (data / "nats/nats-server.log", data / "postgres/postgres.log")
               if p.exists()]
    if servers:
        where += f"; the servers' logs: {', '.join(servers)}"
    deadline = time.monotonic() + timeout
    while problems := _unhealthy(stack["url"]):
        if not _alive(stack.get("pid")):
            raise DemoFailed(f"the stack recorded in {stack_file} (pid {stack.get('pid')}) is not "
                             "running; start it again (./dev run) or remove that file")
        if time.monotonic() > deadline:
            raise DemoFailed(f"the stack recorded in {stack_file} at {stack['url']} is not "
                             f"healthy: {'; '.join(problems)}; {where}")
        time.sleep(0.5)


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log written)"


def _credentials(data: Path) -> dict:
    path = data / "demo-admin.json"
    if not path.exists():
        raise DemoFailed(f"no demo admin credentials in {path}; pass --password")
    return json.loads(path.read_text())


def _unhealthy(url: str) -> list[str]:
    """What is wrong, per service ("scoring: database down"); empty when all four are healthy."""
    problems = []
    for name in ("invitations", "responses", "scoring", "documents"):
        try:
            answer = httpx.get(f"{url}/{name}/health", timeout=2)
        except httpx.HTTPError as exc:
            problems.append(f"{name} does not answer ({type(exc).__name__})")
            continue
        if answer.status_code != 200:
            try:
                checks = answer.json()
                down = [k for k in ("database", "nats") if checks.get(k) is False]
            except ValueError:
                down = []
            problems.append(f"{name} is not healthy ({', '.join(f'{d} down' for d in down)})"
                            if down else f"{name} answers {answer.status_code}")
    return problems
