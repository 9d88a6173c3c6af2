"""CPU used by every process on the machine during a run, grouped, beside what the cores offer.

A benchmark that runs short of its goal on a small machine needs to show where the cores went:
``MachineCpu`` reads every process's CPU time from /proc (through psutil) before and after the
run, and the machine's own busy and idle time from /proc/stat, which also counts processes that
started and ended in between and the kernel's own work.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psutil

Group = Callable[[psutil.Process, list[str]], str | None]  # (process, cmdline) -> group or None


def _machine_seconds() -> tuple[float, float]:
    """(busy, idle) CPU seconds of the whole machine since boot, all cores together."""
    with open("/proc/stat") as stat:
        ticks = [int(n) for n in stat.readline().split()[1:]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    busy = sum(ticks[:8]) - idle  # user … steal, without guest time (already in user)
    hz = os.sysconf("SC_CLK_TCK")
    return busy / hz, idle / hz


def _process_seconds(group: Group) -> dict[tuple[str, int], float]:
    seconds = {}
    for process in psutil.process_iter():
        if process.pid == os.getpid():
            continue
        try:
            name = group(process, process.cmdline())
            if name is not None:
                times = process.cpu_times()
                seconds[(name, process.pid)] = times.user + times.system
        except psutil.Error:  # ended meanwhile, or not ours to read
            continue
    return seconds


@dataclass
class MachineCpu:
    """CPU seconds per group of processes over one run; what no group claims is "other".

    ``this_process`` names the group of the process that measures (it is left out of
    ``group``): its CPU is read apart, so that reading every other process's costs the run
    nothing."""

    group: Group
    this_process: str
    wall: float = 0.0
    by_group: dict[str, float] = field(default_factory=dict)
    busy: float = 0.0
    idle: float = 0.0

    def __enter__(self) -> MachineCpu:
        self._processes = _process_seconds(self.group)
        self._own = time.process_time()
        self._machine = _machine_seconds()
        self._started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._started
        busy, idle = _machine_seconds()
        self.by_group[self.this_process] = time.process_time() - self._own
        self.busy, self.idle = busy - self._machine[0], idle - self._machine[1]
        for (name, pid), seconds in _process_seconds(self.group).items():
            spent = seconds - self._processes.get((name, pid), 0.0)
            self.by_group[name] = self.by_group.get(name, 0.0) + spent

    def lines(self, *, per: int, unit: str) -> list[str]:
        """One line per group: milliseconds of CPU per ``unit`` (``per`` of them in the run)."""
        cores = os.cpu_count() or 1
        rows = sorted(self.by_group.items(), key=lambda item: -item[1])
        rows.append(("other processes and the kernel", self.busy - sum(self.by_group.values())))
        rows.append(("idle", self.idle))
        width = max(len(name) for name, _ in rows)
        out = [f"{name.ljust(width)} {seconds / per * 1000:7.1f} ms per {unit}"
               for name, seconds in rows]
        out.append(f"{'cores × wall'.ljust(width)} {cores * self.wall / per * 1000:7.1f} ms per "
                   f"{unit} ({cores} cores)")
        return out
