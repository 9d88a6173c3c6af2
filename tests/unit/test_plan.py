"""Implementation plan (SCAN.md "Implementation plan") on a small hand-built catalogue."""

from __future__ import annotations

import pytest

from services.documents.plan import (
    InvalidPlanRequest,
    NoAlignmentAction,
    UnknownTheme,
    build_plan,
)
from shared.content import Action, ScanContent, Statement, Theme
from shared.results import ScanResult, StatementResult, ThemeResult


def action(aid: str, theme: str | None, low: int | None, *, impact: int = 1,
           horizon: str = "3-12", effort: str = "M", kind: str = "step") -> Action:
    return Action(
        id=aid, kind=kind, theme=theme, from_level=low, to_level=None if low is None else low + 1,
        title_nl=f"titel {aid}", title_en=f"title {aid}", description_nl="omschrijving",
        description_en="description", owner_role="buyer", effort=effort, horizon=horizon,
        pdca="do", impact=impact, kpi_nl="% aanbestedingen", kpi_en="% of tenders",
        tools=("MVI-criteriatool",), iso=("7.3",),
    )


ALIGN = action("ALIGN-01", None, None, kind="alignment", impact=2, horizon="0-3", effort="S")


def make_content(*, weights: dict[str, float] | None = None,
                 actions: tuple[Action, ...] | None = None) -> ScanContent:
    """Themes S1, S2 and P1 with one step action per step (impact 1) and one alignment action."""
    codes = ("S1", "S2", "P1")
    weights = weights or {}
    if actions is None:
        actions = tuple(action(f"{c}-A{low}", c, low) for c in codes for low in (1, 2, 3, 4))
        actions += (ALIGN,)
    return ScanContent(
        version="test",
        themes=tuple(Theme(code=c, clause="5", iso=("5.1",), name_nl=c, name_en=c,
                           weight=weights.get(c, 1.0)) for c in codes),
        statements=tuple(
            Statement(id=f"{c}-{lv}-01", theme=c, level=lv, iso=(f"iso-{c}",), text_nl="t",
                      text_en="t", help_nl="h", help_en="h")
            for c in codes for lv in (2, 3, 4, 5)
        ),
        actions=actions,
    )


def make_result(levels: dict[str, int], *, gaps: tuple[str, ...] = (),
                version: str = "test") -> ScanResult:
    return ScanResult(
        content_version=version,
        respondents=2,
        statements=tuple(
            StatementResult(statement_id=sid, theme=sid[:2], level=int(sid[3]), score=50.0,
                            spread=100.0, scored=2, not_applicable=0, dont_know=0,
                            perception_gap=True)
            for sid in gaps
        ),
        themes=tuple(ThemeResult(theme=t, clause="5", percent=50.0, level=lv, level_percents={})
                     for t, lv in levels.items()),
        clauses=(),
        overall_percent=50.0,
        overall_level=1,
        perception_gaps=gaps,
    )


def ids(plan) -> list[str]:
    return [i.action_id if i.statement_id is None else f"{i.action_id}@{i.statement_id}"
            for i in plan.items]


def test_each_theme_gets_the_actions_for_its_next_level_and_level_5_gets_none():
    plan = build_plan(make_result({"S1": 1, "S2": 3, "P1": 5}), make_content())
    assert sorted(ids(plan)) == ["S1-A1", "S2-A3"]
    step = next(i for i in plan.items if i.action_id == "S2-A3")
    assert (step.from_level, step.to_level) == (3, 4)


def test_priority_is_gap_to_target_times_weight_times_impact():
    actions = (action("S1-A1", "S1", 1, impact=1), action("S2-A3", "S2", 3, impact=3),
               action("P1-A2", "P1", 2, impact=1), ALIGN)
    content = make_content(weights={"P1": 1.5}, actions=actions)
    plan = build_plan(make_result({"S1": 1, "S2": 3, "P1": 2}), content)
    # S2: (5-3) x 1 x 3 = 6; S1: (5-1) x 1 x 1 = 4; P1: (5-2) x 1.5 x 1 = 4.5.
    assert [(i.action_id, i.priority) for i in plan.items] == [
        ("S2-A3", 6.0), ("P1-A2", 4.5), ("S1-A1", 4.0)]


def test_the_organisations_priority_themes_weigh_double():
    actions = (action("S1-A1", "S1", 1), action("S2-A3", "S2", 3, impact=3), ALIGN)
    plan = build_plan(make_result({"S1": 1, "S2": 3, "P1": 5}), make_content(actions=actions),
                      priority_themes=frozenset({"S1"}))
    # S1: 4 x (1 x 2) x 1 = 8 now beats S2: 2 x 1 x 3 = 6.
    assert [(i.action_id, i.priority) for i in plan.items] == [("S1-A1", 8.0), ("S2-A3", 6.0)]


def test_a_target_level_leaves_out_themes_that_already_reached_it():
    plan = build_plan(make_result({"S1": 1, "S2": 3, "P1": 2}), make_content(), target_level=3)
    assert ids(plan) == ["S1-A1", "P1-A2"]  # S1 gap 2, P1 gap 1; S2 is at the target
    assert plan.target_level == 3


def test_every_perception_gap_gets_an_alignment_session_about_that_statement():
    result = make_result({"S1": 3, "S2": 1, "P1": 5}, gaps=("S1-2-01", "P1-4-01"))
    plan = build_plan(result, make_content(), target_level=3)
    sessions = [i for i in plan.items if i.kind == "alignment"]
    assert [(i.statement_id, i.theme) for i in sessions] == [("S1-2-01", "S1"), ("P1-4-01", "P1")]
    # A theme at (or above) the target still discusses its gap, with gap counted as 1:
    # 1 x 1 x impact 2 = 2.
    assert [i.priority for i in sessions] == [2.0, 2.0]
    assert sessions[0].iso == ("iso-S1", "7.3")  # the statement's clauses, then the action's
    assert (sessions[0].from_level, sessions[0].to_level) == (None, None)


def test_equal_priorities_go_soonest_horizon_first_then_smallest_effort_then_content_order():
    actions = (action("P1-A1", "P1", 1, horizon="0-3", effort="S"),
               action("S1-A1", "S1", 1, horizon="12+", effort="S"),
               action("S2-A1", "S2", 1, horizon="0-3", effort="L"),
               action("S2-A1b", "S2", 1, horizon="0-3", effort="S"), ALIGN)
    plan = build_plan(make_result({"S1": 1, "S2": 1, "P1": 1}), make_content(actions=actions))
    assert len({i.priority for i in plan.items}) == 1
    assert ids(plan) == ["S2-A1b", "P1-A1", "S2-A1", "S1-A1"]


def test_the_plan_is_cut_at_the_limit_keeping_the_highest_priorities():
    result = make_result({"S1": 1, "S2": 2, "P1": 4}, gaps=("S1-2-01",))
    full = build_plan(result, make_content())
    cut = build_plan(result, make_content(), limit=2)
    assert len(full.items) == 4 and full.omitted == 0
    assert cut.items == full.items[:2] and cut.omitted == 2


def test_items_are_grouped_by_horizon_in_priority_order():
    actions = (action("S1-A1", "S1", 1, horizon="12+"), action("S2-A2", "S2", 2, horizon="0-3"),
               action("P1-A3", "P1", 3, horizon="12+"), ALIGN)
    plan = build_plan(make_result({"S1": 1, "S2": 2, "P1": 3}), make_content(actions=actions))
    groups = {h: [i.action_id for i in items] for h, items in plan.groups}
    assert [h for h, _ in plan.groups] == ["0-3", "3-12", "12+"]
    assert groups == {"0-3": ["S2-A2"], "3-12": [], "12+": ["S1-A1", "P1-A3"]}


def test_an_item_carries_what_the_reader_needs_to_act_on_it():
    item = build_plan(make_result({"S1": 2, "S2": 5, "P1": 5}), make_content()).items[0]
    assert (item.title("en"), item.title("nl"), item.description("en")) == (
        "title S1-A2", "titel S1-A2", "description")
    assert (item.kpi("nl"), item.kpi("en")) == ("% aanbestedingen", "% of tenders")
    assert (item.owner_role, item.effort, item.horizon, item.iso, item.tools) == (
        "buyer", "M", "3-12", ("7.3",), ("MVI-criteriatool",))


def test_several_actions_for_one_step_are_all_planned():
    actions = (action("S1-A1", "S1", 1), action("S1-A1b", "S1", 1), ALIGN)
    plan = build_plan(make_result({"S1": 1, "S2": 5, "P1": 5}), make_content(actions=actions))
    assert ids(plan) == ["S1-A1", "S1-A1b"]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"priority_themes": frozenset({"X9"})}, UnknownTheme),
        ({"target_level": 1}, InvalidPlanRequest),
        ({"target_level": 6}, InvalidPlanRequest),
        ({"limit": 0}, InvalidPlanRequest),
    ],
)
def test_impossible_requests_are_refused(kwargs, error):
    with pytest.raises(error):
        build_plan(make_result({"S1": 1, "S2": 1, "P1": 1}), make_content(), **kwargs)


def test_a_result_of_another_content_version_is_refused():
    with pytest.raises(InvalidPlanRequest, match="2025.1"):
        build_plan(make_result({"S1": 1}, version="2025.1"), make_content())


def test_a_perception_gap_without_an_alignment_action_in_the_catalogue_is_an_error():
    content = make_content(actions=(action("S1-A1", "S1", 1),))
    with pytest.raises(NoAlignmentAction):
        build_plan(make_result({"S1": 1, "S2": 5, "P1": 5}, gaps=("S1-2-01",)), content)
