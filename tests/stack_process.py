"""``iso20400 up`` and ``serve`` as real OS processes, and the processes they leave behind."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
SERVICE_NAMES = ("invitations", "responses", "scoring", "documents")


def start(args: list[str], *, output: Path, env: dict[str, str] | None = None,
          cwd: Path = ROOT) -> subprocess.Popen:
    """Run ``iso20400 ARGS`` in its own process group, as a terminal runs a foreground job."""
    with open(output, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "services.cli", *args], cwd=cwd,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                env=(os.environ | (env or {})))


def wait_healthy(proc: subprocess.Popen, url: str, *, output: Path,
                 names: tuple[str, ...] = SERVICE_NAMES, timeout: float = 120) -> float:
    """Seconds until every service's /health answers 200."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if proc.poll() is not None:
            raise AssertionError(f"exited with {proc.returncode}:\n{output.read_text()[-3000:]}")
        try:
            if all(httpx.get(f"{url}/{n}/health", timeout=2).status_code == 200 for n in names):
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"not healthy within {timeout}s:\n{output.read_text()[-3000:]}")


def descendants(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


def describe(procs: list[psutil.Process]) -> list[str]:
    found = []
    for p in procs:
        try:
            found.append(f"{p.pid} {' '.join(p.cmdline())[:120]}")
        except psutil.Error:
            pass
    return found


def pdf_workers(procs: list[psutil.Process]) -> list[psutil.Process]:
    workers = [p for p in procs if "pdf_worker.py" in " ".join(_cmdline(p))]
    # A worker that starts a program (WeasyPrint's imports look for libraries with gcc) has a
    # child that carries the worker's command line until its exec: not a worker of its own.
    pids = {p.pid for p in workers}
    return [p for p in workers if _parent_pid(p) not in pids]


def _parent_pid(p: psutil.Process) -> int | None:
    try:
        return p.ppid()
    except psutil.Error:
        return None


def wait_for_pdf_workers(pid: int, count: int, timeout: float = 90) -> list[psutil.Process]:
    """All descendants, once ``count`` PDF workers watch their parent.

    The watch is a worker's second thread, started before it imports WeasyPrint; a worker
    whose parent dies before that exits as soon as the thread starts.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = descendants(pid)
        if len([w for w in pdf_workers(found) if _threads(w) >= 2]) >= count:
            return found
        time.sleep(0.2)
    raise AssertionError(f"no {count} PDF workers under {pid}: {describe(descendants(pid))}")


def still_running(procs: list[psutil.Process], timeout: float) -> list[str]:
    """What of ``procs`` is still running after ``timeout`` seconds (zombies count as gone)."""
    deadline = time.monotonic() + timeout
    while True:
        alive = [p for p in procs if _alive(p)]
        if not alive or time.monotonic() > deadline:
            return describe(alive)
        time.sleep(0.1)


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _threads(p: psutil.Process) -> int:
    try:
        return p.num_threads()
    except psutil.Error:
        return 0


def _cmdline(p: psutil.Process) -> list[str]:
    try:
        return p.cmdline()
    except psutil.Error:
        return []


def stop(proc: subprocess.Popen) -> None:
    """Cleanup for a test that failed half-way: the whole group goes."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, 9)
        except ProcessLookupError:
            pass
        proc.wait(10)
