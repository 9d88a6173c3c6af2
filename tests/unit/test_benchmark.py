"""Benchmark (SCAN.md "Benchmark"): cohorts, fall-back, latest scans, shared statements and the
rule that nothing about fewer than 5 organisations is ever shown."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.scoring.benchmark import (
    MIN_PEERS,
    CompletedScan,
    TooFewPeers,
    UnknownOrganisationKind,
    benchmark,
    sector_of,
)
from shared.results import ScanResult, StatementResult, ThemeResult

T0 = datetime(2026, 1, 1)


def result(percents: dict[str, float | None], *, version: str = "v1",
           statements: dict[str, float | None] | None = None) -> ScanResult:
    """A result whose theme % are given; ``statements`` (id -> score) defaults to one statement
    per theme with the theme's % as its score."""
    statements = statements or {f"{t}-2-01": p for t, p in percents.items()}
    return ScanResult(
        content_version=version,
        respondents=3,
        statements=tuple(
            StatementResult(statement_id=sid, theme=sid[:2], level=int(sid[3]), score=score,
                            spread=0.0, scored=3, not_applicable=0, dont_know=0,
                            perception_gap=False)
            for sid, score in statements.items()
        ),
        themes=tuple(
            ThemeResult(theme=t, clause="5", percent=p, level=1, level_percents={})
            for t, p in percents.items()
        ),
        clauses=(),
        overall_percent=None,
        overall_level=1,
        perception_gaps=(),
    )


def scan(org: str, percent: float | None = 50.0, *, kind: str = "municipality",
         size: str = "M", days: int = 0, **kwargs) -> CompletedScan:
    return CompletedScan(scan_id=f"{org}-{days}", organisation_id=org, kind=kind, size_band=size,
                         completed_at=T0 + timedelta(days=days),
                         result=kwargs.get("res") or result({"S1": percent}))


def peers(n: int, **kwargs) -> list[CompletedScan]:
    prefix = kwargs.pop("prefix", "p")
    return [scan(f"{prefix}{i}", **kwargs) for i in range(n)]


def test_peers_of_the_same_kind_and_size_give_percentile_median_and_quartiles():
    own = scan("me", 35.0)
    others = [scan(f"p{i}", p) for i, p in enumerate([50.0, 10.0, 40.0, 20.0, 30.0])]
    bench = benchmark(own, [own, *others])
    assert (bench.cohort.level, bench.cohort.kind, bench.cohort.size_band) == (
        "kind_size", "municipality", "M")
    assert bench.cohort.peers == 5
    s1 = bench.themes[0]
    # Sorted peers 10 20 30 40 50: three below 35 -> 60th percentile.
    assert (s1.percent, s1.percentile, s1.median) == (35.0, 60.0, 30.0)
    assert (s1.lower_quartile, s1.upper_quartile, s1.peers) == (20.0, 40.0, 5)


def test_quartiles_interpolate_between_ranks_and_ties_count_half():
    own = scan("me", 40.0)
    others = [scan(f"p{i}", p) for i, p in enumerate([10.0, 20.0, 40.0, 40.0, 60.0, 90.0])]
    s1 = benchmark(own, others).themes[0]
    # Positions 1.25, 2.5, 3.75 in 10 20 40 40 60 90: Q1 = 20 + 0.25 x 20 = 25, median 40,
    # Q3 = 40 + 0.75 x 20 = 55 (the same as statistics.quantiles(method="inclusive")).
    assert (s1.lower_quartile, s1.median, s1.upper_quartile) == (25.0, 40.0, 55.0)
    # Two below, two equal of six: (2 + 1) / 6 = 50th percentile.
    assert s1.percentile == 50.0


def test_the_organisation_itself_is_never_its_own_peer():
    own_now, own_before = scan("me", 80.0, days=10), scan("me", 10.0, days=1)
    others = peers(4) + [scan("other-size", size="L")]
    bench = benchmark(own_now, [own_before, own_now, *others])
    # Four same-size peers plus the organisation's own old scan is not 5: falls back to kind.
    assert (bench.cohort.level, bench.cohort.size_band, bench.cohort.peers) == ("kind", None, 5)


@pytest.mark.parametrize(
    ("kind", "population", "expected"),
    [
        # A municipality with 4 municipal peers and 2 provinces -> all public.
        ("municipality", [("municipality", 4), ("province", 2), ("private:retail", 9)], "sector"),
        # A builder with 1 builder and 4 retailers -> all private, never the public sector.
        ("private:construction", [("private:construction", 1), ("private:retail", 4),
                                  ("municipality", 9)], "sector"),
        # 2 public and 3 private others -> everyone.
        ("municipality", [("province", 2), ("private:retail", 3)], "everyone"),
    ],
)
def test_small_cohorts_fall_back_to_the_next_wider_one_and_name_it(kind, population, expected):
    others = [scan(f"{k}{i}", kind=k) for k, n in population for i in range(n)]
    bench = benchmark(scan("me", kind=kind), others)
    assert bench.cohort.level == expected
    assert bench.cohort.sector == (None if expected == "everyone" else sector_of(kind))
    assert bench.cohort.kind is None


def test_private_organisations_of_one_sector_form_a_kind_cohort():
    others = peers(5, kind="private:construction", size="S") + peers(9, kind="private:retail",
                                                                     prefix="r")
    bench = benchmark(scan("me", kind="private:construction", size="L"), others)
    assert (bench.cohort.level, bench.cohort.kind, bench.cohort.peers) == (
        "kind", "private:construction", 5)


def test_fewer_than_5_other_organisations_in_total_gives_no_benchmark():
    with pytest.raises(TooFewPeers):
        benchmark(scan("me"), peers(4) + [scan("me", days=3)])


def test_only_each_organisations_latest_completed_scan_counts():
    # Every peer once scored 90 and later 10; only the later scan counts.
    old = [scan(f"p{i}", 90.0, days=1) for i in range(5)]
    new = [scan(f"p{i}", 10.0, days=2) for i in range(5)]
    s1 = benchmark(scan("me", 50.0), [*new, *old]).themes[0]
    assert (s1.median, s1.percentile, s1.peers) == (10.0, 100.0, 5)


def test_a_theme_fewer_than_5_peers_have_a_score_for_is_withheld():
    others = peers(4, percent=60.0) + [scan("blank", None)]
    s1 = benchmark(scan("me", 50.0), others).themes[0]
    assert (s1.percent, s1.peers) == (50.0, None)
    assert (s1.percentile, s1.median, s1.lower_quartile, s1.upper_quartile) == (None,) * 4


def test_other_content_versions_are_compared_on_shared_statements_only():
    # Own scan (v2) has a new statement S1-3-09 at 0; peers (v1) only have S1-2-01 and S1-2-02.
    own_result = result({"S1": 50.0}, version="v2",
                        statements={"S1-2-01": 100.0, "S1-3-09": 0.0})
    peer_result = result({"S1": 45.0}, version="v1",
                         statements={"S1-2-01": 80.0, "S1-2-02": 10.0})
    others = [scan(f"p{i}", res=peer_result) for i in range(5)]
    bench = benchmark(scan("me", res=own_result), others)
    s1 = bench.themes[0]
    assert bench.shared_statements_only
    # Only S1-2-01 is shared: own 100 against peers' 80, not 50 against 45.
    assert (s1.statements, s1.percent, s1.median, s1.percentile) == (1, 100.0, 80.0, 100.0)


def test_unknown_organisation_kinds_are_refused():
    with pytest.raises(UnknownOrganisationKind):
        scan("me", kind="bank")
    with pytest.raises(UnknownOrganisationKind):
        scan("me", kind="private:")


# --- property: a cohort smaller than 5 is never revealed -------------------------------------

KINDS = ["municipality", "province", "education", "private:retail", "private:construction"]
organisation = st.tuples(
    st.sampled_from(KINDS),
    st.sampled_from(["S", "M", "L"]),
    st.one_of(st.none(), st.sampled_from([0.0, 25.0, 50.0, 75.0, 100.0])),
)


@settings(deadline=None, max_examples=300)
@given(st.lists(organisation, max_size=16), organisation)
def test_a_benchmark_never_reveals_a_cohort_smaller_than_5(population, me):
    others = [scan(f"o{i}", p, kind=k, size=s) for i, (k, s, p) in enumerate(population)]
    own = scan("me", me[2], kind=me[0], size=me[1])
    rungs = {
        "kind_size": [o for o in others if (o.kind, o.size_band) == (own.kind, own.size_band)],
        "kind": [o for o in others if o.kind == own.kind],
        "sector": [o for o in others if sector_of(o.kind) == sector_of(own.kind)],
        "everyone": others,
    }
    try:
        bench = benchmark(own, others)
    except TooFewPeers:
        assert len(others) < MIN_PEERS
        return
    chosen = rungs[bench.cohort.level]
    assert bench.cohort.peers == len(chosen) >= MIN_PEERS
    # The narrowest big-enough cohort was taken.
    narrower = list(rungs)[: list(rungs).index(bench.cohort.level)]
    assert all(len(rungs[r]) < MIN_PEERS for r in narrower)
    for theme in bench.themes:
        valued = [o for o in chosen if o.result.themes[0].percent is not None]
        if len(valued) < MIN_PEERS:
            assert (theme.peers, theme.median, theme.lower_quartile, theme.upper_quartile,
                    theme.percentile) == (None,) * 5
        else:
            assert theme.peers == len(valued)
