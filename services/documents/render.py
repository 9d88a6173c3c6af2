"""PDF rendering with WeasyPrint, in worker processes and without network access.

WeasyPrint is CPU-bound and would block the event loop for about a second per report, so it
runs in a process pool. Its URL fetcher refuses every URL: reports embed their styles, and
nothing a user typed can make the renderer reach out to another host (or to a local file).

Workers must never outlive the process that started them (60 MB or more each): a SIGKILL of the
parent runs no cleanup, so every worker watches its parent and exits when it is gone. The
multiprocessing resource tracker then exits by itself, as it does when the last holder of its
pipe is gone.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager


def html_to_pdf(html: str) -> bytes:
    """Runs in a worker process."""
    # Imported here: only the workers need WeasyPrint, a second of imports the service spares.
    from weasyprint import HTML

    return HTML(string=html, base_url=None, url_fetcher=_offline_fetcher()).write_pdf()


def _offline_fetcher():  # noqa: ANN202
    from weasyprint.urls import URLFetcher

    class OfflineFetcher(URLFetcher):
        def fetch(self, url: str, headers=None):  # noqa: ANN001, ANN201
            raise ValueError(f"the report renderer does not fetch resources ({url[:80]})")

    return OfflineFetcher()


def _worker_started(parent: int) -> None:
    """Runs first in every worker process."""
    # Ctrl-C in a terminal reaches the whole process group; the parent decides what stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # PR_SET_PDEATHSIG would fire when the parent's *thread* that spawned us ends, not the
    # process, so we poll instead: once the parent is gone we are reparented.
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True,
                     name="exit-with-parent").start()


def _exit_with_parent(parent: int, interval: float = 0.5) -> None:
    while os.getppid() == parent:
        time.sleep(interval)
    os._exit(1)


def _warm() -> int:
    import weasyprint  # noqa: F401 - now, so that the first report does not wait for it

    return os.getpid()


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: the workers ignore it once they run
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class PdfRenderer:
    def __init__(self, *, workers: int) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def start(self) -> None:
        # "spawn": forking a process that runs an event loop and database pools is unsafe.
        self._pool = ProcessPoolExecutor(max_workers=self.workers,
                                         mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_worker_started, initargs=(os.getpid(),))
        # Start every worker now (the first report then does not wait for the imports), with
        # SIGINT ignored from their first instruction: a Ctrl-C during their seconds of imports
        # would otherwise print a traceback per worker. An ignored signal survives exec.
        with _sigint_ignored():
            for _ in range(self.workers):
                self._pool.submit(_warm)

    async def render(self, html: str) -> bytes:
        if self._pool is None:
            raise RuntimeError("the PDF renderer is not started")
        return await asyncio.get_running_loop().run_in_executor(self._pool, html_to_pdf, html)

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
