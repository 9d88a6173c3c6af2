"""PDF rendering with WeasyPrint, in worker processes and without network access.

WeasyPrint is CPU-bound and would block the event loop for about a second per report, so it
runs in a process pool. Its URL fetcher refuses every URL: reports embed their styles, and
nothing a user typed can make the renderer reach out to another host (or to a local file).
"""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from weasyprint import HTML
from weasyprint.urls import URLFetcher


class OfflineFetcher(URLFetcher):
    def fetch(self, url: str, headers=None):  # noqa: ANN001, ANN201
        raise ValueError(f"the report renderer does not fetch resources ({url[:80]})")


def html_to_pdf(html: str) -> bytes:
    """Runs in a worker process."""
    return HTML(string=html, base_url=None, url_fetcher=OfflineFetcher()).write_pdf()


class PdfRenderer:
    def __init__(self, *, workers: int) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def start(self) -> None:
        # "spawn": forking a process that runs an event loop and database pools is unsafe.
        self._pool = ProcessPoolExecutor(max_workers=self.workers,
                                         mp_context=multiprocessing.get_context("spawn"))

    async def render(self, html: str) -> bytes:
        if self._pool is None:
            raise RuntimeError("the PDF renderer is not started")
        return await asyncio.get_running_loop().run_in_executor(self._pool, html_to_pdf, html)

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
