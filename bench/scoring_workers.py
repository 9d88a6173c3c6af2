"""Scoring worker processes for ``bench/scoring.py``: each a whole scoring service, connected
and ready before the clock starts, consuming from ``start`` until the context ends."""

from __future__ import annotations

import asyncio
import multiprocessing
import time

from bench.machine import CpuUse, Usage
from shared.settings import Settings


class Workers:
    """Started together on ``start``; ``reports`` holds each one's (CPU seconds, SQL
    statements) from ``start`` to the end, ``machine`` the CPU of every process meanwhile."""

    def __init__(self, settings: Settings, count: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.ready = [context.Event() for _ in range(count)]
        self.go, self.stop = context.Event(), context.Event()
        self.results = context.Queue()
        self.processes = [context.Process(target=_worker, args=(
            settings.model_dump(), ready, self.go, self.stop, self.results))
            for ready in self.ready]
        self.started = 0.0
        self.cpu: CpuUse | None = None
        self.reports: list[tuple[float, int]] = []

    def __enter__(self) -> Workers:
        for process in self.processes:
            process.start()
        for ready in self.ready:
            ready.wait(60)
        return self

    def start(self) -> None:
        """Let every worker consume, and start the clock and the CPU count."""
        self.cpu = CpuUse(process.pid for process in self.processes)
        self.cpu.start()
        self.started = time.perf_counter()
        self.go.set()

    def finished(self) -> tuple[float, Usage]:
        """Seconds since ``start`` and the CPU every process used meanwhile."""
        return time.perf_counter() - self.started, self.cpu.stop()

    def __exit__(self, *exc: object) -> None:
        self.go.set()
        self.stop.set()
        self.reports = [self.results.get(timeout=60) for _ in self.processes]
        for process in self.processes:
            process.join(30)


def _worker(settings: dict, ready, go, stop, results) -> None:  # noqa: ANN001
    """One scoring service in its own process: connected, then consuming on ``go``, until
    ``stop``."""
    import logging

    import sqlalchemy as sa
    from faststream.nats import NatsBroker

    from services.scoring import app as scoring
    from shared.runtime import build_app

    logging.disable(logging.WARNING)
    statements = [0]
    sa.event.listen(sa.engine.Engine, "before_cursor_execute",
                    lambda *_, **__: statements.__setitem__(0, statements[0] + 1))
    config = Settings(**settings)
    broker = NatsBroker(config.nats_url)
    counted = {}

    async def consuming() -> None:
        # Connected, streams made and content read: from here on it is consuming, as the
        # bare loop is once its clock starts (after its connections are made).
        ready.set()
        await asyncio.to_thread(go.wait)
        counted.update(cpu=time.process_time(), statements=statements[0])

    app = build_app(config, broker, [scoring.build(config, broker)], before_consuming=consuming)

    async def serve() -> tuple[float, int]:
        async with app.router.lifespan_context(app):
            await asyncio.to_thread(stop.wait)
            return (time.process_time() - counted["cpu"],
                    statements[0] - counted["statements"])

    results.put(asyncio.run(serve()))
