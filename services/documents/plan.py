"""The implementation plan (SCAN.md "Implementation plan"): a pure function of a scan result.

The plan holds, for every theme below the target level, the catalogue actions that take it one
level up from where it is now, plus one alignment session per perception gap. Items are ordered
by priority = gap to the target level x theme weight x action impact, cut to a limit, and shown
grouped by horizon.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shared.content import Action, ScanContent
from shared.results import ScanResult

# The organisation's own priority themes weigh this much more than the content's weight.
PRIORITY_THEME_FACTOR = 2
MAX_LEVEL = 5
HORIZONS = ("0-3", "3-12", "12+")
_EFFORT_ORDER = {"S": 0, "M": 1, "L": 2}

Horizon = Literal["0-3", "3-12", "12+"]


class PlanError(ValueError):
    """A plan cannot be built as asked."""


class UnknownTheme(PlanError):
    def __init__(self, themes: frozenset[str]) -> None:
        self.themes = tuple(sorted(themes))
        super().__init__(f"unknown priority themes: {', '.join(self.themes)}")


class InvalidPlanRequest(PlanError):
    """Target level, limit or content version do not fit the scan result."""


class NoAlignmentAction(PlanError):
    def __init__(self) -> None:
        super().__init__("the action catalogue has no alignment-session action")


@dataclass(frozen=True)
class PlanItem:
    """One step of the plan. Alignment items name the statement with the perception gap and
    carry no levels; step items carry the theme's current level and the level they lead to."""

    kind: Literal["step", "alignment"]
    action_id: str
    theme: str
    statement_id: str | None
    from_level: int | None
    to_level: int | None
    priority: float
    owner_role: str
    effort: str
    horizon: Horizon
    pdca: str
    title_nl: str
    title_en: str
    description_nl: str
    description_en: str
    kpi_nl: str
    kpi_en: str
    iso: tuple[str, ...]
    tools: tuple[str, ...]

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_nl

    def description(self, lang: str) -> str:
        return self.description_en if lang == "en" else self.description_nl

    def kpi(self, lang: str) -> str:
        return self.kpi_en if lang == "en" else self.kpi_nl


@dataclass(frozen=True)
class Plan:
    target_level: int
    items: tuple[PlanItem, ...]
    # Items that qualified but fell beyond the limit, so the reader knows the plan was cut.
    omitted: int

    def horizon(self, horizon: Horizon) -> tuple[PlanItem, ...]:
        return tuple(i for i in self.items if i.horizon == horizon)

    @property
    def groups(self) -> tuple[tuple[Horizon, tuple[PlanItem, ...]], ...]:
        """Every horizon in order (soonest first), each with its items in priority order."""
        return tuple((h, self.horizon(h)) for h in HORIZONS)


def build_plan(
    result: ScanResult,
    content: ScanContent,
    *,
    priority_themes: frozenset[str] = frozenset(),
    target_level: int | None = None,
    limit: int = 15,
) -> Plan:
    """Build the plan for a scored scan.

    - ``target_level`` defaults to 5, so themes further behind weigh more. Themes already at or
      above the target get no step actions (their gap is 0).
    - An alignment session gets the gap of its statement's theme, but at least 1: a perception
      gap is worth discussing even in a theme at the target, since its level is in doubt.
    - Priority themes get their weight multiplied by ``PRIORITY_THEME_FACTOR`` (2).
    - Ties in priority go to the sooner horizon, then the smaller effort, then content order
      of the theme, then action id and statement id, so the plan is always the same.
    """
    target = MAX_LEVEL if target_level is None else target_level
    _check_request(result, content, priority_themes, target, limit)
    theme_order = {t.code: i for i, t in enumerate(content.themes)}
    levels = {t.theme: t.level for t in result.themes}

    def weight(theme: str) -> float:
        factor = PRIORITY_THEME_FACTOR if theme in priority_themes else 1
        return content.theme(theme).weight * factor

    items = [
        _item(action, theme=action.theme, statement_id=None,
              priority=(target - levels[action.theme]) * weight(action.theme) * action.impact)
        for action in content.actions
        if action.kind == "step"
        and action.theme in levels
        and action.from_level == levels[action.theme] < target
    ]
    if result.perception_gaps:
        alignment = _alignment_action(content)
        for statement_id in result.perception_gaps:
            statement = content.statement(statement_id)
            gap = max(1, target - levels[statement.theme])
            items.append(
                _item(alignment, theme=statement.theme, statement_id=statement_id,
                      priority=gap * weight(statement.theme) * alignment.impact,
                      extra_iso=statement.iso)
            )
    items.sort(
        key=lambda i: (
            -i.priority,
            HORIZONS.index(i.horizon),
            _EFFORT_ORDER[i.effort],
            theme_order[i.theme],
            i.kind,
            i.action_id,
            i.statement_id or "",
        )
    )
    return Plan(target_level=target, items=tuple(items[:limit]), omitted=max(0, len(items) - limit))


def _check_request(
    result: ScanResult, content: ScanContent, priority_themes: frozenset[str], target: int,
    limit: int,
) -> None:
    if result.content_version != content.version:
        raise InvalidPlanRequest(
            f"result is for content {result.content_version}, not {content.version}"
        )
    if not 2 <= target <= MAX_LEVEL:
        raise InvalidPlanRequest(f"target level must be 2–{MAX_LEVEL}, not {target}")
    if limit < 1:
        raise InvalidPlanRequest(f"limit must be at least 1, not {limit}")
    unknown = priority_themes - {t.code for t in content.themes}
    if unknown:
        raise UnknownTheme(unknown)


def _alignment_action(content: ScanContent) -> Action:
    # Several alignment actions may exist; the lowest id keeps the choice stable.
    candidates = sorted((a for a in content.actions if a.kind == "alignment"), key=lambda a: a.id)
    if not candidates:
        raise NoAlignmentAction()
    return candidates[0]


def _item(
    action: Action, *, theme: str, statement_id: str | None, priority: float,
    extra_iso: tuple[str, ...] = (),
) -> PlanItem:
    step = action.kind == "step"
    return PlanItem(
        kind=action.kind,
        action_id=action.id,
        theme=theme,
        statement_id=statement_id,
        from_level=action.from_level if step else None,
        to_level=action.to_level if step else None,
        priority=priority,
        owner_role=action.owner_role,
        effort=action.effort,
        horizon=action.horizon,
        pdca=action.pdca,
        title_nl=action.title_nl,
        title_en=action.title_en,
        description_nl=action.description_nl,
        description_en=action.description_en,
        kpi_nl=action.kpi_nl,
        kpi_en=action.kpi_en,
        # dict.fromkeys keeps the first occurrence's order while dropping repeats.
        iso=tuple(dict.fromkeys([*extra_iso, *action.iso])),
        tools=action.tools,
    )
