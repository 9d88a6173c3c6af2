"""CPU that every process on the machine used during a measurement, by kind.

Two scoring workers can only beat one by as much as the cores left over allow: PostgreSQL,
NATS and the benchmark's own process share them with the workers. ``CpuUse`` counts each
process's CPU seconds (user and system, from /proc through psutil) between ``start`` and
``stop``, and the machine's busy time from /proc/stat, so a report can say how much of the
machine one worker's run already took and what that leaves for two.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass

import psutil

KINDS = ("workers", "postgres", "nats-server", "benchmark")


@dataclass(frozen=True)
class Usage:
    seconds: float  # wall-clock time of the measurement
    cores: int
    busy: float  # CPU seconds the whole machine was busy (every core, every process)
    by_kind: dict[str, float]  # CPU seconds per kind of process (KINDS)

    @property
    def ours(self) -> float:
        """CPU seconds of the processes the measurement runs (workers, servers, benchmark)."""
        return sum(self.by_kind.values())

    @property
    def other(self) -> float:
        """CPU seconds of everything else on the machine (another benchmark, the kernel)."""
        return max(0.0, self.busy - self.ours)

    def upper_bound(self) -> float:
        """How many times this run's throughput the machine's cores could give at most, were
        the same CPU per unit of work spread perfectly over every core (more workers)."""
        return self.cores * self.seconds / self.ours if self.ours else float("inf")

    def summary(self) -> str:
        parts = ", ".join(f"{kind} {self.by_kind[kind]:.2f}" for kind in KINDS)
        busy = self.busy / self.seconds / self.cores
        # Another process's CPU lengthens the run, and with it the bound.
        caveat = " (machine not idle: bound overstated)" if self.other > 0.1 * self.busy else ""
        return (f"{self.seconds:.2f} s, {self.cores} cores {busy:.0%} busy; CPU s: {parts}, "
                f"other {self.other:.2f}; the cores allow at most {self.upper_bound():.2f}x "
                f"this throughput{caveat}")

    def lines(self, *, per: int, unit: str, labels: dict[str, str]) -> list[str]:
        """Milliseconds of CPU per ``unit`` (``per`` of them in the run): one line per kind,
        named by ``labels``, then everything else, the idle time and what the cores offered."""
        idle = self.cores * self.seconds - self.busy
        rows = [(labels.get(kind, kind), self.by_kind[kind]) for kind in KINDS]
        rows += [("other processes and the kernel", self.other), ("idle", max(0.0, idle)),
                 (f"cores × wall ({self.cores} cores)", self.cores * self.seconds)]
        width = max(len(name) for name, _ in rows)
        return [f"{name.ljust(width)} {seconds / per * 1000:7.1f} ms per {unit}"
                for name, seconds in rows]


class CpuUse:
    """Counts CPU per kind of process from ``start`` to ``stop``; ``workers`` are pids."""

    def __init__(self, workers: Iterable[int]) -> None:
        self.workers = set(workers)
        self._before: dict[int, float] = {}
        self._busy = 0.0
        self._started = 0.0

    def start(self) -> None:
        self._before = _cpu_by_process()
        self._busy = _machine_busy()
        self._started = time.perf_counter()

    def stop(self) -> Usage:
        seconds = time.perf_counter() - self._started
        busy = _machine_busy() - self._busy
        by_kind = dict.fromkeys(KINDS, 0.0)
        for pid, (name, cpu) in _named_cpu_by_process().items():
            # A process started during the measurement (a PostgreSQL backend) counts whole.
            used = cpu - self._before.get(pid, 0.0)
            if kind := self._kind(pid, name):
                by_kind[kind] += used
        return Usage(seconds=seconds, cores=os.cpu_count() or 1, busy=busy, by_kind=by_kind)

    def _kind(self, pid: int, name: str) -> str | None:
        if pid in self.workers:
            return "workers"
        if pid == os.getpid():
            return "benchmark"
        if name in ("postgres", "nats-server"):
            return name
        return None


def _machine_busy() -> float:
    times = psutil.cpu_times()  # guest time is already part of user time
    return sum(getattr(times, name, 0.0)
               for name in ("user", "nice", "system", "irq", "softirq", "steal"))


def _named_cpu_by_process() -> dict[int, tuple[str, float]]:
    """(name, CPU seconds) of each process, with its children that ended and were waited for:
    a PostgreSQL backend whose connection closed during the measurement counts with the
    postmaster."""
    found = {}
    for proc in psutil.process_iter(["name", "cpu_times"]):
        cpu = proc.info["cpu_times"]
        if cpu is not None:
            found[proc.pid] = (proc.info["name"],
                               cpu.user + cpu.system + cpu.children_user + cpu.children_system)
    return found


def _cpu_by_process() -> dict[int, float]:
    return {pid: cpu for pid, (_, cpu) in _named_cpu_by_process().items()}
