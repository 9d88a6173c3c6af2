"""Cold start: ``iso20400 up`` until it is ready, against NATS and PostgreSQL alone.

    .venv/bin/python -m bench.cold_start [--rounds 3]

Two workloads, each in a fresh folder under /tmp per round: a new data folder (initdb included)
and a warm restart on that same folder. The product counts from the command's start until it has
printed its banner and every service's ``/health`` has answered 200; the baseline
(bench/bare_servers.py) from its start until it prints that NATS accepts a connection and
PostgreSQL a login. Both lines are read from a pipe the moment they are written. Product and
baseline run alternately, and every process they started is stopped before the next run.

Beside the table it prints the CPU that each one's processes (servers, initdb and product)
used until ready: on a machine of few cores that, more than the wall clock, is what sets how
soon the product can be ready.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import psutil

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
    for kind in ("cold", "warm"):
        print(f"  {kind} start, CPU used until ready (all processes): product "
              f"{median([cpu for _, cpu in product[kind]]):.2f} s, bare servers "
              f"{median([cpu for _, cpu in bare[kind]]):.2f} s")
    return [_row(f"{kind} start, {what}", [wall for wall, _ in product[kind]],
                 [wall for wall, _ in bare[kind]])
            for kind, what in (("cold", "new data folder"), ("warm", "existing data folder"))]


def _row(workload: str, product: list[float], bare: list[float]) -> Comparison:
    mine, theirs = median(product), median(bare)
    return Comparison(workload=workload, product=mine, baseline=theirs, unit="s",
                      goal="ratio ≤ 1.5", met=mine <= 1.5 * theirs)


def _product_start(folder: Path) -> tuple[float, float]:
    """Seconds until ready, and the CPU seconds its processes used by then."""
    port = _free_port()
    env = os.environ | {"ISO20400_EMBEDDED_HOME": str(folder / "home")}
    with open(folder / "up.log", "ab") as log:
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "up", "--data", str(folder / "var"),
             "--port", str(port)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log,
            start_new_session=True)
    banner = _when_printed(proc, BANNER)
    healthy: dict[str, float] = {}
    try:
        while not (banner.is_set() and len(healthy) == len(SERVICES)):
            _check_running(proc, started, folder / "up.log")
            for name in SERVICES:
                if name not in healthy and _healthy(port, name):
                    healthy[name] = time.monotonic()
            time.sleep(0.01)
        cpu = _cpu_of_tree(proc.pid)
        return max(banner.at, *healthy.values()) - started, cpu
    finally:
        _stop(proc, signal.SIGTERM)


class _Printed(threading.Event):
    at = 0.0


def _when_printed(proc: subprocess.Popen, line: str) -> _Printed:
    """Set, with the time, as soon as ``proc`` prints ``line``; its output is read to the end."""
    printed = _Printed()

    def read() -> None:
        for text in proc.stdout:
            if not printed.is_set() and line.encode() in text:
                printed.at = time.monotonic()
                printed.set()

    threading.Thread(target=read, daemon=True).start()
    return printed


def _bare_start(folder: Path) -> tuple[float, float]:
    user = [f"--user={PG_USER}"] if os.geteuid() == 0 else []
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "bare_servers.py"), "--data", str(folder / "bare"),
         *user], stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True)
    try:
        if proc.stdout.readline().strip() != b"ready":
            raise RuntimeError(f"bench/bare_servers.py exited with {proc.wait()}")
        ready = time.monotonic() - started
        return ready, _cpu_of_tree(proc.pid)
    finally:
        proc.stdin.close()  # its signal to stop both servers
        _stop(proc, None)


def _cpu_of_tree(pid: int) -> float:
    """CPU seconds used by ``pid`` and every process under it, including those that ended
    (initdb and its helpers: counted in the parent that waited for them)."""
    total = 0.0
    root = psutil.Process(pid)
    for process in [root, *root.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def _healthy(port: int, name: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/{name}/health", timeout=2):
            return True
    except OSError:  # refused, or a 503 (HTTPError) while the service is not ready yet
        return False


def _check_running(proc: subprocess.Popen, started: float, log: Path) -> None:
    if proc.poll() is not None or time.monotonic() - started > TIMEOUT:
        raise RuntimeError(f"iso20400 up did not get ready:\n{log.read_text()[-2000:]}")


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
