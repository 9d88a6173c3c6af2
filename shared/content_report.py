"""A plain-text overview of a content version, for content editors (`iso20400 content check`).

Per theme it counts the statements anchored at each level and the step actions for each step
up, so thin spots in the content stand out; a zero is marked with '!' because the scan needs
at least one of each.
"""

from __future__ import annotations

from shared.content import STATEMENT_LEVELS, STEPS, ScanContent

_LEVEL_HEADERS = [f"L{level}" for level in STATEMENT_LEVELS]
_STEP_HEADERS = [f"{low}→{high}" for low, high in STEPS]


def content_report(content: ScanContent) -> str:
    rows = []
    totals = [0] * (len(STATEMENT_LEVELS) + len(STEPS))
    for theme in content.themes:
        counts = [
            sum(1 for s in content.statements if s.theme == theme.code and s.level == level)
            for level in STATEMENT_LEVELS
        ] + [
            sum(
                1
                for a in content.actions
                if a.kind == "step" and a.theme == theme.code and a.from_level == low
            )
            for low, _ in STEPS
        ]
        totals = [t + c for t, c in zip(totals, counts)]
        rows.append(_row(theme.code, counts, mark_zero=True))

    alignment = sum(1 for a in content.actions if a.kind == "alignment")
    header = _row("theme", [*_LEVEL_HEADERS, *_STEP_HEADERS])
    lines = [
        f"Content {content.version}: {len(content.themes)} themes, "
        f"{len(content.statements)} statements, {len(content.actions)} actions",
        "",
        f"{'':6}{'statements per level':<20}  actions per step up",
        header,
        *rows,
        _row("total", totals),
        "",
        f"alignment-session actions: {alignment}",
    ]
    return "\n".join(lines) + "\n"


def _row(label: str, cells: list, *, mark_zero: bool = False) -> str:
    shown = [f"{c}!" if mark_zero and c == 0 else str(c) for c in cells]
    levels, steps = shown[: len(STATEMENT_LEVELS)], shown[len(STATEMENT_LEVELS) :]
    return f"{label:<6}" + "".join(f"{c:>5}" for c in levels) + "  " + "".join(
        f"{c:>5}" for c in steps
    )
