"""Content loading and the content report: a content editor must learn from the error alone
which file, which item and what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.content import Action, ContentError, ScanContent, Statement, Theme, load_content
from shared.content_report import content_report

THEME = {"code": "S1", "clause": "5", "iso": ["5.1"], "name_nl": "Beleid", "name_en": "Policy"}


def statement(sid: str) -> dict:
    return {"id": sid, "theme": sid[:2], "level": int(sid[3]), "iso": ["5.1"],
            "text_nl": "tekst", "text_en": "text", "help_nl": "hulp", "help_en": "help"}


def step(theme: str, low: int) -> dict:
    return {"id": f"{theme}-A{low}{low + 1}", "theme": theme, "from_level": low,
            "to_level": low + 1, **_action_body()}


def _action_body() -> dict:
    return {"title_nl": "titel", "title_en": "title", "description_nl": "omschrijving",
            "description_en": "description", "owner_role": "buyer", "effort": "S",
            "horizon": "0-3", "pdca": "plan", "impact": 1, "kpi_nl": "kpi", "kpi_en": "kpi"}


def valid_files() -> dict[str, dict[str, list[dict]]]:
    """File name -> {table name -> items} of a small valid content version with theme S1."""
    return {
        "themes.toml": {"themes": [THEME]},
        "statements/S1.toml": {"statements": [statement(f"S1-{lv}-01") for lv in (2, 3, 4, 5)]},
        "actions/S1.toml": {"actions": [step("S1", low) for low in (1, 2, 3, 4)]},
        "actions/alignment.toml": {
            "actions": [{"id": "ALIGN-01", "kind": "alignment", **_action_body()}]
        },
    }


def _toml_value(value) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return str(value)


def write_version(root: Path, files: dict[str, dict[str, list[dict]]], version: str = "v1") -> None:
    for name, tables in files.items():
        path = root / version / name
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = []
        for table, items in tables.items():
            for item in items:
                lines.append(f"[[{table}]]")
                lines += [f"{key} = {_toml_value(value)}" for key, value in item.items()]
                lines.append("")
        path.write_text("\n".join(lines), encoding="utf-8")


def test_the_small_valid_version_loads(tmp_path):
    write_version(tmp_path, valid_files())
    content = load_content("v1", root=tmp_path)
    assert [t.code for t in content.themes] == ["S1"]
    assert len(content.statements) == 4 and len(content.actions) == 5


def _missing_translation(files):
    del files["statements/S1.toml"]["statements"][1]["text_en"]


def _duplicate_id(files):
    files["statements/S1b.toml"] = {"statements": [statement("S1-2-01")]}


def _unknown_theme(files):
    files["statements/S1.toml"]["statements"].append(statement("P9-2-01"))


def _level_without_statements(files):
    files["statements/S1.toml"]["statements"].pop(2)  # S1-4-01


def _step_without_action(files):
    files["actions/S1.toml"]["actions"].pop(2)  # S1-A34


@pytest.mark.parametrize(
    ("break_it", "file", "item", "problem"),
    [
        (_missing_translation, "v1/statements/S1.toml", "S1-3-01", "missing translation 'text_en'"),
        (_duplicate_id, "v1/statements/S1b.toml", "statement S1-2-01",
         "duplicate id (also in v1/statements/S1.toml)"),
        (_unknown_theme, "v1/statements/S1.toml", "statement P9-2-01", "unknown theme 'P9'"),
        (_level_without_statements, "v1/themes.toml", "theme S1", "level 4 has no statements"),
        (_step_without_action, "v1/themes.toml", "theme S1", "step 3→4 has no action"),
    ],
    ids=["missing translation", "duplicate id", "unknown theme", "level without statements",
         "step without action"],
)
def test_invalid_content_fails_naming_file_item_and_problem(tmp_path, break_it, file, item,
                                                             problem):
    files = valid_files()
    break_it(files)
    write_version(tmp_path, files)
    with pytest.raises(ContentError) as raised:
        load_content("v1", root=tmp_path)
    error = raised.value
    assert error.file == file
    assert item in error.item
    assert error.problem == problem
    assert str(error) == f"{error.file}: {error.item}: {error.problem}"


def test_the_real_content_validates():
    content = load_content()
    assert content.themes and content.statements and content.actions


# --- content report ---------------------------------------------------------------------------


def _report_content() -> ScanContent:
    def st(sid):
        return Statement.model_validate(statement(sid))

    def act(theme, low, suffix=""):
        return Action.model_validate({**step(theme, low), "id": f"{theme}-A{low}{suffix}"})

    return ScanContent(
        version="v9",
        themes=(Theme(**THEME), Theme(code="P1", clause="7", iso=("7.2",), name_nl="Plannen",
                                      name_en="Planning")),
        statements=(st("S1-2-01"), st("S1-3-01"), st("S1-3-02"), st("S1-4-01"), st("S1-5-01"),
                    st("P1-2-01"), st("P1-3-01"), st("P1-4-01")),
        actions=(act("S1", 1), act("S1", 2), act("S1", 2, "b"), act("S1", 3), act("S1", 4),
                 act("P1", 1), act("P1", 2), act("P1", 3),
                 Action.model_validate({"id": "ALIGN-01", "kind": "alignment", **_action_body()})),
    )


def _cells(report: str, label: str) -> list[str]:
    return next(line.split() for line in report.splitlines() if line.startswith(label + " "))


def test_content_report_counts_statements_per_level_and_actions_per_step_per_theme():
    report = content_report(_report_content())
    assert report.startswith("Content v9: 2 themes, 8 statements, 9 actions")
    assert _cells(report, "theme") == ["theme", "L2", "L3", "L4", "L5",
                                       "1→2", "2→3", "3→4", "4→5"]
    assert _cells(report, "S1") == ["S1", "1", "2", "1", "1", "1", "2", "1", "1"]
    # P1 has no level-5 statement and no 4→5 action: the gaps are marked.
    assert _cells(report, "P1") == ["P1", "1", "1", "1", "0!", "1", "1", "1", "0!"]
    assert _cells(report, "total") == ["total", "2", "3", "2", "1", "2", "3", "2", "1"]
    assert "alignment-session actions: 1" in report
