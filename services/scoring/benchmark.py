"""Benchmark against peer organisations (SCAN.md "Benchmark"): pure functions, no I/O.

Peers are other organisations' latest completed scans. A cohort is only used when it holds at
least ``MIN_PEERS`` other organisations; otherwise the next wider cohort on the ladder is tried:

    1. same kind and size band   ("kind_size")
    2. same kind                 ("kind"; for private organisations: the same sector)
    3. same sector               ("sector": all public, or all private)
    4. everyone                  ("everyone")

Nothing about a group smaller than ``MIN_PEERS`` is ever returned: not for a cohort, and not for
a single theme when fewer peers have a score for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Literal

from services.scoring.rules import round_percent
from shared.results import ScanResult

MIN_PEERS = 5
PUBLIC_KINDS = frozenset(
    {
        "municipality",
        "province",
        "water_board",
        "central_government",
        "education",
        "healthcare",
        "other_public",
    }
)
PRIVATE_PREFIX = "private:"

CohortLevel = Literal["kind_size", "kind", "sector", "everyone"]
Sector = Literal["public", "private"]


class BenchmarkError(ValueError):
    """A benchmark cannot be made as asked."""


class TooFewPeers(BenchmarkError):
    """Even the widest cohort holds fewer than ``MIN_PEERS`` other organisations."""

    def __init__(self, minimum: int = MIN_PEERS) -> None:
        self.minimum = minimum
        super().__init__(f"a benchmark needs at least {minimum} other organisations")


class UnknownOrganisationKind(BenchmarkError):
    def __init__(self, kind: str) -> None:
        self.kind = kind
        super().__init__(
            f"unknown organisation kind '{kind}': use one of {sorted(PUBLIC_KINDS)} "
            f"or '{PRIVATE_PREFIX}<sector>'"
        )


@dataclass(frozen=True)
class CompletedScan:
    """One completed scan of an organisation, as the benchmark needs it."""

    scan_id: str
    organisation_id: str
    kind: str
    size_band: str
    completed_at: datetime
    result: ScanResult

    def __post_init__(self) -> None:
        sector_of(self.kind)


@dataclass(frozen=True)
class Cohort:
    """The peer group used; ``kind``/``size_band``/``sector`` name it, None where not narrowed."""

    level: CohortLevel
    kind: str | None
    size_band: str | None
    sector: Sector | None
    peers: int


@dataclass(frozen=True)
class ThemeBenchmark:
    """One theme compared with the cohort; all statistics are None when fewer than 5 peers
    have a score for the theme (or no statement is shared by every scan compared)."""

    theme: str
    percent: float | None
    percentile: float | None
    median: float | None
    lower_quartile: float | None
    upper_quartile: float | None
    peers: int | None
    statements: int


@dataclass(frozen=True)
class Benchmark:
    cohort: Cohort
    # True when the peers used other content versions, so only shared statements were compared.
    shared_statements_only: bool
    themes: tuple[ThemeBenchmark, ...]


def sector_of(kind: str) -> Sector:
    if kind in PUBLIC_KINDS:
        return "public"
    if kind.startswith(PRIVATE_PREFIX) and kind[len(PRIVATE_PREFIX) :].strip():
        return "private"
    raise UnknownOrganisationKind(kind)


def latest_scans(scans: Iterable[CompletedScan]) -> dict[str, CompletedScan]:
    """Each organisation's latest completed scan; ties on time go to the highest scan id."""
    latest: dict[str, CompletedScan] = {}
    for scan in scans:
        current = latest.get(scan.organisation_id)
        if current is None or (scan.completed_at, scan.scan_id) > (
            current.completed_at,
            current.scan_id,
        ):
            latest[scan.organisation_id] = scan
    return latest


def cohort_ladder(
    own: CompletedScan,
) -> tuple[tuple[CohortLevel, Callable[[CompletedScan], bool]], ...]:
    """The cohorts to try, narrowest first, each with the test a peer must pass."""
    sector = sector_of(own.kind)
    return (
        ("kind_size", lambda s: s.kind == own.kind and s.size_band == own.size_band),
        ("kind", lambda s: s.kind == own.kind),
        ("sector", lambda s: sector_of(s.kind) == sector),
        ("everyone", lambda s: True),
    )


def benchmark(own: CompletedScan, scans: Iterable[CompletedScan]) -> Benchmark:
    """Compare ``own`` with the latest scans of the other organisations in ``scans``.

    Raises ``TooFewPeers`` when not even the whole population holds 5 other organisations.
    """
    others = [
        s for org, s in sorted(latest_scans(scans).items()) if org != own.organisation_id
    ]
    for level, belongs in cohort_ladder(own):
        peers = [s for s in others if belongs(s)]
        if len(peers) >= MIN_PEERS:
            break
    else:
        raise TooFewPeers()
    cohort = Cohort(
        level=level,
        kind=own.kind if level in ("kind_size", "kind") else None,
        size_band=own.size_band if level == "kind_size" else None,
        sector=sector_of(own.kind) if level != "everyone" else None,
        peers=len(peers),
    )
    results = [s.result for s in peers]
    mixed = any(r.content_version != own.result.content_version for r in results)
    shared = _shared_statement_ids([own.result, *results]) if mixed else None
    themes = tuple(
        _theme_benchmark(t.theme, own.result, results, shared) for t in own.result.themes
    )
    return Benchmark(cohort=cohort, shared_statements_only=mixed, themes=themes)


def _shared_statement_ids(results: Sequence[ScanResult]) -> frozenset[str]:
    ids = [frozenset(s.statement_id for s in r.statements) for r in results]
    return frozenset.intersection(*ids)


def _theme_percent(result: ScanResult, theme: str, shared: frozenset[str] | None) -> float | None:
    if shared is None:
        return next((t.percent for t in result.themes if t.theme == theme), None)
    # Other content versions: recompute over the statements every compared scan holds.
    scores = [
        Fraction(s.score)
        for s in result.statements
        if s.theme == theme and s.statement_id in shared and s.score is not None
    ]
    return round_percent(sum(scores, Fraction(0)) / len(scores)) if scores else None


def _theme_benchmark(
    theme: str,
    own: ScanResult,
    peers: Sequence[ScanResult],
    shared: frozenset[str] | None,
) -> ThemeBenchmark:
    statements = [s for s in own.statements if s.theme == theme]
    if shared is not None:
        statements = [s for s in statements if s.statement_id in shared]
    percent = _theme_percent(own, theme, shared) if statements else None
    values = sorted(
        p for p in (_theme_percent(r, theme, shared) for r in peers) if p is not None
    )
    if not statements or len(values) < MIN_PEERS:
        return ThemeBenchmark(
            theme=theme,
            percent=percent,
            percentile=None,
            median=None,
            lower_quartile=None,
            upper_quartile=None,
            peers=None,
            statements=len(statements),
        )
    return ThemeBenchmark(
        theme=theme,
        percent=percent,
        percentile=None if percent is None else _percentile(percent, values),
        median=_quantile(values, Fraction(1, 2)),
        lower_quartile=_quantile(values, Fraction(1, 4)),
        upper_quartile=_quantile(values, Fraction(3, 4)),
        peers=len(values),
        statements=len(statements),
    )


def _percentile(value: float, peers: Sequence[float]) -> float:
    """Share of peers below ``value``, counting ties half (mid-rank), as 0–100."""
    below = sum(1 for p in peers if p < value)
    equal = sum(1 for p in peers if p == value)
    return round_percent(Fraction(2 * below + equal, 2 * len(peers)) * 100)


def _quantile(ordered: Sequence[float], q: Fraction) -> float:
    """Linear interpolation between closest ranks (the 'inclusive' method of statistics)."""
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    fraction = position - low
    value = Fraction(ordered[low]) + (Fraction(ordered[high]) - Fraction(ordered[low])) * fraction
    return round_percent(value)
