"""Cold start: ``iso20400 up`` until it is ready, against NATS and PostgreSQL alone.

    .venv/bin/python -m bench.cold_start [--rounds 3]

Two workloads, each in a fresh folder under /tmp per round: a new data folder (initdb included)
and a warm restart on that same folder. The product counts from the command's start until every
service's ``/health`` answers 200 and the banner is printed; the baseline (bench/bare_servers.py)
from its start until NATS accepts a connection and PostgreSQL a login. Product and baseline run
alternately, and every process they started is stopped before the next run.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.common import Comparison, Servers, median, run_alone

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("invitations", "responses", "scoring", "documents")
BANNER = "ISO 20400 Scan is running at"
PG_USER = "iso20400pg"  # as root, both run PostgreSQL as this user
TIMEOUT = 120.0


def compare(servers: Servers, *, rounds: int) -> list[Comparison]:
    """``servers`` is not used: a cold start brings its own."""
    product = {"cold": [], "warm": []}
    bare = {"cold": [], "warm": []}
    for n in range(rounds):
        runs = [(product, _product_start), (bare, _bare_start)]
        for figures, start in runs if n % 2 == 0 else reversed(runs):
            folder = Path(tempfile.mkdtemp(prefix="iso20400-bench-cold-", dir="/tmp"))
            folder.chmod(0o755)  # as root, PostgreSQL's user must pass through (pgaccess.py)
            try:
                figures["cold"].append(start(folder))
                figures["warm"].append(start(folder))
            finally:
                shutil.rmtree(folder, ignore_errors=True)
    return [_row(f"{kind} start, {what}", product[kind], bare[kind])
            for kind, what in (("cold", "new data folder"), ("warm", "existing data folder"))]


def _row(workload: str, product: list[float], bare: list[float]) -> Comparison:
    mine, theirs = median(product), median(bare)
    return Comparison(workload=workload, product=mine, baseline=theirs, unit="s",
                      goal="ratio ≤ 1.5", met=mine <= 1.5 * theirs)


def _product_start(folder: Path) -> float:
    port = _free_port()
    output = folder / "up.log"
    env = os.environ | {"ISO20400_EMBEDDED_HOME": str(folder / "home")}
    with open(output, "ab") as out:
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "up", "--data", str(folder / "var"),
             "--port", str(port)], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)
    try:
        while not (_all_healthy(port) and BANNER in output.read_text()):
            _check_running(proc, started, output)
            time.sleep(0.01)
        return time.monotonic() - started
    finally:
        _stop(proc, signal.SIGTERM)


def _bare_start(folder: Path) -> float:
    user = [f"--user={PG_USER}"] if os.geteuid() == 0 else []
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "bare_servers.py"), "--data", str(folder / "bare"),
         *user], stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True)
    try:
        if proc.stdout.readline().strip() != b"ready":
            raise RuntimeError(f"bench/bare_servers.py exited with {proc.wait()}")
        return time.monotonic() - started
    finally:
        proc.stdin.close()  # its signal to stop both servers
        _stop(proc, None)


def _all_healthy(port: int) -> bool:
    try:
        for name in SERVICES:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/{name}/health", timeout=2):
                pass
        return True
    except OSError:  # refused, or a 503 (HTTPError) while a service is not ready yet
        return False


def _check_running(proc: subprocess.Popen, started: float, output: Path) -> None:
    if proc.poll() is not None or time.monotonic() - started > TIMEOUT:
        raise RuntimeError(f"iso20400 up did not get ready:\n{output.read_text()[-2000:]}")


def _stop(proc: subprocess.Popen, sig: int | None) -> None:
    """Stop ``proc`` (by ``sig``, else by itself), then anything left in its process group."""
    try:
        if sig is not None and proc.poll() is None:
            proc.send_signal(sig)
        proc.wait(30)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    run_alone(compare, __doc__)
