"""The result of a scan: what scoring computes and `scan.completed` carries to every consumer.

Frozen Pydantic models, so the same shape is the domain result, the event payload and the JSON
Schema that integrators read. Percentages are 0–100; ``None`` means nothing was scored (every
answer was N.v.t. or Weet niet).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class StatementResult(_Frozen):
    statement_id: str = Field(description="Stable statement id, e.g. 'S1-3-01'")
    theme: str = Field(description="Theme code, e.g. 'S1'")
    level: int = Field(ge=2, le=5, description="Maturity level the statement is anchored at")
    score: float | None = Field(description="Mean score 0–100 of the scored answers")
    spread: float | None = Field(description="Highest minus lowest scored answer (0–100)")
    scored: int = Field(ge=0, description="Number of respondents who gave a scored answer")
    not_applicable: int = Field(ge=0, description="Number of N.v.t. answers")
    dont_know: int = Field(ge=0, description="Number of Weet niet answers")
    perception_gap: bool = Field(description="True when one said Niet and another Volledig")


class ThemeResult(_Frozen):
    theme: str
    clause: str = Field(description="ISO 20400 clause the theme belongs to: 4, 5, 6 or 7")
    percent: float | None
    level: int = Field(ge=1, le=5, description="Gated maturity level 1–5")
    level_percents: dict[int, float | None] = Field(
        description="Mean score of the theme's statements per anchor level 2–5"
    )


class ClauseResult(_Frozen):
    clause: str
    percent: float | None


class ScanResult(_Frozen):
    content_version: str
    respondents: int = Field(ge=0, description="Number of responses that were scored")
    statements: tuple[StatementResult, ...]
    themes: tuple[ThemeResult, ...]
    clauses: tuple[ClauseResult, ...]
    overall_percent: float | None
    overall_level: int = Field(ge=1, le=5)
    perception_gaps: tuple[str, ...] = Field(description="Statement ids with a perception gap")
