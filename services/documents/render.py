"""PDF rendering in processes of their own that import only WeasyPrint (``pdf_worker``).

WeasyPrint is CPU-bound (about 0.3 s a report), so it runs outside the event loop, in
``workers`` long-lived processes; with two, a report's languages render at the same time. They
are plain interpreters started on ``pdf_worker.py``, not a multiprocessing pool: a pool's
children import the parent's main module, which here is the whole product (130 MB and seconds of
imports each).

Workers never outlive the process that started them: each watches its parent and exits when it
is gone, and closing its stdin ends it. Each runs in a process group of its own, so a Ctrl-C in
a terminal reaches only the parent, which decides what stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from pathlib import Path

from services.documents.pdf_worker import HEADER, OK

WORKER = Path(__file__).with_name("pdf_worker.py")


class RenderFailed(Exception):
    """WeasyPrint could not render the document; the worker goes on with the next one."""


class _Worker:
    """One render process, started when first needed and again after it died."""

    def __init__(self) -> None:
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        if self.process is None:
            # -P: the worker's folder (this service's modules) stays off its sys.path.
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-P", str(WORKER), str(os.getpid()),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, process_group=0)

    async def render(self, html: str) -> bytes:
        await self.start()
        data = html.encode()
        self.process.stdin.write(HEADER.pack(OK, len(data)) + data)
        await self.process.stdin.drain()
        status, length = HEADER.unpack(await self.process.stdout.readexactly(HEADER.size))
        body = await self.process.stdout.readexactly(length)
        if status != OK:
            raise RenderFailed(body.decode())
        return body

    def kill(self) -> None:
        if self.process is not None:
            _kill(self.process)
        self.process = None

    async def stop(self, timeout: float = 1.0) -> None:
        """An idle worker ends when its stdin closes; a busy one is killed after ``timeout``:
        the event it renders for is not acked, so it comes back."""
        if self.process is None:
            return
        self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            _kill(self.process)
            await self.process.wait()
        self.process = None


def _kill(process: asyncio.subprocess.Process) -> None:
    # It may have ended on its own a moment ago: then there is nothing left to kill.
    with contextlib.suppress(ProcessLookupError):
        process.kill()


class PdfRenderer:
    def __init__(self, *, workers: int) -> None:
        self.workers = workers
        self._all = [_Worker() for _ in range(workers)]
        self._idle: asyncio.Queue[_Worker] | None = None

    async def start(self) -> None:
        """Start every worker now: each loads its fonts while the service starts, so the first
        report does not wait seconds for them."""
        self._idle = asyncio.Queue()
        for worker in self._all:
            await worker.start()
            self._idle.put_nowait(worker)

    async def render(self, html: str) -> bytes:
        idle = self._idle
        if idle is None:
            raise RuntimeError("the PDF renderer is not started")
        worker = await idle.get()
        try:
            return await worker.render(html)
        except RenderFailed:
            raise
        except BaseException:
            # Cut off mid-frame (cancelled, or the process died): its pipes are out of step.
            worker.kill()
            raise
        finally:
            idle.put_nowait(worker)

    async def stop(self) -> None:
        self._idle = None
        await asyncio.gather(*(worker.stop() for worker in self._all))
