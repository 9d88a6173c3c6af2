"""What every comparison in ``bench/`` shares: the servers, the result row and the table.

Each benchmark module ``bench/<name>.py`` runs the product and a bare baseline of the same work,
interleaved in one run, and exposes::

    def compare(servers: Servers, *, rounds: int) -> list[Comparison]

``python -m bench.<name>`` prints that module's rows; ``python -m bench.compare`` prints them all.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tests.servers import nats_server, postgres_server


@dataclass(frozen=True)
class Servers:
    """One NATS with JetStream and one PostgreSQL server for a whole run (databases and bus
    namespaces are made fresh per measurement)."""

    nats_url: str
    postgres_url: str


@dataclass(frozen=True)
class Comparison:
    """One row: the product's figure beside the baseline's, and whether the goal is met."""

    workload: str
    product: float
    baseline: float
    unit: str
    goal: str  # as the issue states it, e.g. "ratio ≥ 1.0" or "p99 ≤ 20 ms"
    met: bool

    @property
    def ratio(self) -> float:
        return self.product / self.baseline if self.baseline else float("nan")


Compare = Callable[..., list[Comparison]]  # (servers, *, rounds)


@contextmanager
def servers() -> Iterator[Servers]:
    """The machine's servers when ISO20400_TEST_*_URL are set, embedded ones otherwise."""
    with nats_server() as nats_url, postgres_server() as postgres_url:
        yield Servers(nats_url=nats_url, postgres_url=postgres_url)


def median(values: list[float]) -> float:
    return statistics.median(values)


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0-100) by nearest rank."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def table(rows: list[Comparison]) -> str:
    header = ("workload", "product", "baseline", "unit", "ratio", "goal", "met")
    lines = [header] + [
        (r.workload, _figure(r.product), _figure(r.baseline), r.unit, f"{r.ratio:.2f}",
         r.goal, "yes" if r.met else "NO")
        for r in rows
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for n, line in enumerate(lines):
        out.append("| " + " | ".join(cell.ljust(w) for cell, w in zip(line, widths)) + " |")
        if n == 0:
            out.append("| " + " | ".join("-" * w for w in widths) + " |")
    return "\n".join(out)


def _figure(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def run_alone(compare: Compare, description: str) -> None:
    """``python -m bench.<name>``: run one module's comparisons and print its table."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--rounds", type=int, default=3,
                        help="product and baseline runs, interleaved (default 3)")
    args = parser.parse_args()
    with servers() as found:
        print(table(compare(found, rounds=args.rounds)))
