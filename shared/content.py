"""The scan's content: themes, statements and the action catalogue, loaded from TOML files.

The files live in ``shared/content/<version>/``. Loading validates everything and fails with a
``ContentError`` that names the file, the item and the problem, so a content editor can fix it
without reading Python.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, cached_property
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

M = TypeVar("M", bound=BaseModel)

CONTENT_ROOT = Path(__file__).parent / "content"
CURRENT_VERSION = "2026.1"

LEVELS = (1, 2, 3, 4, 5)
STATEMENT_LEVELS = (2, 3, 4, 5)
STEPS = ((1, 2), (2, 3), (3, 4), (4, 5))


class Answer(StrEnum):
    NIET = "niet"
    DEELS = "deels"
    VOLLEDIG = "volledig"
    NVT = "nvt"
    WEET_NIET = "weet_niet"


ANSWER_SCORES: dict[Answer, int] = {Answer.NIET: 0, Answer.DEELS: 50, Answer.VOLLEDIG: 100}

MviTheme = Literal[
    "environment_biodiversity",
    "climate",
    "circular",
    "supply_chain_responsibility",
    "diversity_inclusion",
    "social_return",
    "innovation",
]
OwnerRole = Literal[
    "board", "procurement_manager", "buyer", "contract_manager", "budget_holder", "csr_manager"
]


class ContentError(ValueError):
    """The content files are not valid; the message names file, item and problem."""

    def __init__(self, file: str, item: str, problem: str) -> None:
        self.file, self.item, self.problem = file, item, problem
        super().__init__(f"{file}: {item}: {problem}")


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Theme(_Strict):
    code: str = Field(pattern=r"^[FSOP][1-9]$")
    clause: Literal["4", "5", "6", "7"]
    iso: tuple[str, ...] = Field(min_length=1)
    name_nl: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    weight: float = Field(default=1.0, gt=0)


class Statement(_Strict):
    id: str = Field(pattern=r"^[FSOP][1-9]-[2-5]-[0-9]{2}$")
    theme: str
    level: int = Field(ge=2, le=5)
    iso: tuple[str, ...] = Field(min_length=1)
    mvi: tuple[MviTheme, ...] = ()
    text_nl: str = Field(min_length=1)
    text_en: str = Field(min_length=1)
    help_nl: str = Field(min_length=1)
    help_en: str = Field(min_length=1)

    def text(self, lang: str) -> str:
        return self.text_en if lang == "en" else self.text_nl

    def help(self, lang: str) -> str:
        return self.help_en if lang == "en" else self.help_nl


class Action(_Strict):
    id: str = Field(min_length=1)
    kind: Literal["step", "alignment"] = "step"
    theme: str | None = None
    from_level: int | None = Field(default=None, ge=1, le=4)
    to_level: int | None = Field(default=None, ge=2, le=5)
    title_nl: str = Field(min_length=1)
    title_en: str = Field(min_length=1)
    description_nl: str = Field(min_length=1)
    description_en: str = Field(min_length=1)
    owner_role: OwnerRole
    effort: Literal["S", "M", "L"]
    horizon: Literal["0-3", "3-12", "12+"]
    pdca: Literal["plan", "do", "check", "act"]
    impact: int = Field(ge=1, le=3)
    kpi_nl: str = Field(min_length=1)
    kpi_en: str = Field(min_length=1)
    tools: tuple[str, ...] = ()
    iso: tuple[str, ...] = ()
    mvi: tuple[MviTheme, ...] = ()


@dataclass(frozen=True)
class ScanContent:
    version: str
    themes: tuple[Theme, ...]
    statements: tuple[Statement, ...]
    actions: tuple[Action, ...]

    def theme(self, code: str) -> Theme:
        """The theme with this code; KeyError for an unknown one."""
        return self._themes_by_code[code]

    def statements_of(self, theme: str) -> tuple[Statement, ...]:
        return tuple(s for s in self.statements if s.theme == theme)

    @cached_property
    def statement_ids(self) -> frozenset[str]:
        return frozenset(self._statements_by_id)

    def statement(self, statement_id: str) -> Statement:
        """The statement with this id; KeyError for an unknown one."""
        return self._statements_by_id[statement_id]

    @cached_property
    def _themes_by_code(self) -> dict[str, Theme]:
        return {t.code: t for t in self.themes}

    @cached_property
    def _statements_by_id(self) -> dict[str, Statement]:
        return {s.id: s for s in self.statements}


def _read_toml(path: Path, root: Path) -> dict:
    name = str(path.relative_to(root.parent))
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ContentError(name, "file", "is missing") from None
    except tomllib.TOMLDecodeError as exc:
        raise ContentError(name, "file", f"is not valid TOML ({exc})") from None


def _parse(model: type[M], raw: dict, *, file: str, index: int, key: str) -> M:
    label = f"{key} #{index + 1} ({raw.get('id') or raw.get('code') or '?'})"
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "item"
        problem = f"field '{where}': {first['msg']}"
        if first["type"] == "missing" and where.endswith(("_nl", "_en")):
            problem = f"missing translation '{where}'"
        raise ContentError(file, label, problem) from None


def load_content(version: str = CURRENT_VERSION, *, root: Path = CONTENT_ROOT) -> ScanContent:
    """Load and validate one content version; raise ``ContentError`` on the first problem."""
    folder = root / version
    if not folder.is_dir():
        raise ContentError(str(folder), "content version", "does not exist")
    manifest_path = folder / "themes.toml"
    manifest = _read_toml(manifest_path, folder)
    manifest_name = str(manifest_path.relative_to(root))
    themes = tuple(
        _parse(Theme, raw, file=manifest_name, index=i, key="theme")
        for i, raw in enumerate(manifest.get("themes", []))
    )
    theme_codes = [t.code for t in themes]
    for code, count in Counter(theme_codes).items():
        if count > 1:
            raise ContentError(manifest_name, f"theme {code}", "duplicate theme code")

    statements = _load_items(folder, root, "statements", Statement, "statement")
    actions = _load_items(folder, root, "actions", Action, "action")
    _check_items(statements, actions, theme_codes, folder, root)
    return ScanContent(
        version=version,
        themes=themes,
        statements=tuple(s for _, s in statements),
        actions=tuple(a for _, a in actions),
    )


def _load_items(
    folder: Path, root: Path, sub: str, model: type[M], key: str
) -> tuple[tuple[str, M], ...]:
    items = []
    for path in sorted((folder / sub).glob("*.toml")):
        name = str(path.relative_to(root))
        data = _read_toml(path, folder)
        for i, raw in enumerate(data.get(f"{key}s", [])):
            items.append((name, _parse(model, raw, file=name, index=i, key=key)))
    return tuple(items)


def _check_items(statements, actions, theme_codes, folder: Path, root: Path):
    seen: dict[str, str] = {}
    for file, item in [*statements, *actions]:
        if item.id in seen:
            raise ContentError(file, f"{type(item).__name__.lower()} {item.id}",
                               f"duplicate id (also in {seen[item.id]})")
        seen[item.id] = file
    for file, s in statements:
        if s.theme not in theme_codes:
            raise ContentError(file, f"statement {s.id}", f"unknown theme '{s.theme}'")
        if not s.id.startswith(f"{s.theme}-{s.level}-"):
            raise ContentError(file, f"statement {s.id}",
                               f"id must start with '{s.theme}-{s.level}-' (theme and level)")
    for file, a in actions:
        if a.kind == "step":
            if a.theme not in theme_codes:
                raise ContentError(file, f"action {a.id}", f"unknown theme '{a.theme}'")
            if a.from_level is None or a.to_level != a.from_level + 1:
                raise ContentError(file, f"action {a.id}",
                                   "a step action goes exactly one level up (from_level, to_level)")
    manifest = str((folder / "themes.toml").relative_to(root))
    for code in theme_codes:
        for level in STATEMENT_LEVELS:
            if not any(s.theme == code and s.level == level for _, s in statements):
                raise ContentError(manifest, f"theme {code}", f"level {level} has no statements")
        for low, high in STEPS:
            if not any(a.kind == "step" and a.theme == code and a.from_level == low
                       for _, a in actions):
                raise ContentError(manifest, f"theme {code}",
                                   f"step {low}→{high} has no action")
    if not any(a.kind == "alignment" for _, a in actions):
        raise ContentError(manifest, "action catalogue", "no alignment-session action")


@cache
def content(version: str = CURRENT_VERSION) -> ScanContent:
    """The validated content of a version, loaded once per process."""
    return load_content(version)
