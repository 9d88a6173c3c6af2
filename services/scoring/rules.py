"""Scoring rules of the scan (SCAN.md "Scoring"): pure functions from answers to a ScanResult.

All arithmetic is done on exact fractions and rounded (half up, to one decimal) only when a
result is built. That makes results independent of the order of respondents, which float sums
are not. The level gate compares the percentage as shown, so a level shown as 70.0 % passes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from shared.content import ANSWER_SCORES, STATEMENT_LEVELS, Answer, ScanContent, Statement
from shared.results import ClauseResult, ScanResult, StatementResult, ThemeResult

LEVEL_PASS_PERCENT = 70
# Overall level: the level at least this share of the themes has reached.
OVERALL_LEVEL_SHARE = Fraction(4, 5)
# Smallest group whose results may be shown when filtering by tag, so no answer can be traced.
MIN_TAG_GROUP = 3
PERCEPTION_GAP_SPREAD = ANSWER_SCORES[Answer.VOLLEDIG] - ANSWER_SCORES[Answer.NIET]
CLAUSES = ("4", "5", "6", "7")


class ScoringError(ValueError):
    """A scan cannot be scored as asked."""


class GroupTooSmall(ScoringError):
    """Fewer respondents carry the tag than may be shown without tracing answers to a person."""

    def __init__(self, tag: str, minimum: int = MIN_TAG_GROUP) -> None:
        # The actual group size is left out on purpose: the caller only needs to know it is hidden.
        self.tag, self.minimum = tag, minimum
        super().__init__(f"results for tag '{tag}' need at least {minimum} respondents")


class UnknownStatements(ScoringError):
    """Answers refer to statements that the content version does not have."""

    def __init__(self, statement_ids: Iterable[str]) -> None:
        self.statement_ids = tuple(sorted(statement_ids))
        super().__init__(f"unknown statement ids: {', '.join(self.statement_ids)}")


class DuplicateRespondent(ScoringError):
    """The same respondent appears twice, which would count their answers double."""

    def __init__(self, respondent_id: str) -> None:
        self.respondent_id = respondent_id
        super().__init__(f"respondent '{respondent_id}' appears more than once")


@dataclass(frozen=True)
class RespondentAnswers:
    respondent_id: str
    answers: Mapping[str, Answer]
    tags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class AnswerProblem:
    """One problem with a submitted response; ``problem`` is a code the UI translates."""

    statement_id: str
    problem: Literal["unknown_statement", "comment_required"]


def validate_answers(
    content: ScanContent, answers: Mapping[str, Answer], comments: Mapping[str, str]
) -> list[AnswerProblem]:
    """Problems with one response, sorted by statement id; an empty list means it is valid.

    A comment is required for N.v.t. (a blank comment does not count). Answers or comments for
    statements the content version does not have are errors. Unanswered statements are not
    problems: a response may be saved half-way.
    """
    known = content.statement_ids
    problems = {
        AnswerProblem(sid, "unknown_statement") for sid in [*answers, *comments] if sid not in known
    }
    problems |= {
        AnswerProblem(sid, "comment_required")
        for sid, answer in answers.items()
        if sid in known and answer == Answer.NVT and not comments.get(sid, "").strip()
    }
    return sorted(problems, key=lambda p: (p.statement_id, p.problem))


def score_scan(
    content: ScanContent, responses: Sequence[RespondentAnswers], *, tag: str | None = None
) -> ScanResult:
    """Score the responses of one scan against its content version.

    ``tag`` restricts scoring to respondents carrying that tag; it raises ``GroupTooSmall`` when
    fewer than three do. ``respondents`` in the result counts every response in the (filtered)
    group, including ones whose answers were all N.v.t. or Weet niet.

    Edge cases, decided here:

    - A statement, theme, clause or overall percentage with nothing scored is ``None``; such
      values are left out of the means above them rather than counted as 0.
    - Theme level: a level's mean passes at >= 70.0 after rounding to one decimal, i.e. as
      shown in ``level_percents``. A level whose statements have no scored answer at all does
      *not* pass the gate: a maturity level is a claim that ends up in a self-declaration, so
      it needs evidence at every level up to it. ``level_percents`` shows ``None`` for that
      level so the reason is visible. A theme with nothing scored is therefore level 1.
    - Overall level: the highest L such that at least 80 % of all themes have level >= L
      (themes with nothing scored count, at level 1). With no themes it is 1.
    """
    group = _select_group(responses, tag)
    _check_known(content, group)

    statement_scores: dict[str, Fraction | None] = {}
    statement_results = []
    for statement in content.statements:
        result, exact = _score_statement(statement, group)
        statement_results.append(result)
        statement_scores[statement.id] = exact

    theme_results = []
    theme_percents: dict[str, Fraction | None] = {}
    for theme in content.themes:
        statements = content.statements_of(theme.code)
        percent = _mean(statement_scores[s.id] for s in statements)
        level_percents = {
            level: _mean(statement_scores[s.id] for s in statements if s.level == level)
            for level in STATEMENT_LEVELS
        }
        theme_percents[theme.code] = percent
        theme_results.append(
            ThemeResult(
                theme=theme.code,
                clause=theme.clause,
                percent=_round(percent),
                level=_theme_level(level_percents),
                level_percents={lv: _round(p) for lv, p in level_percents.items()},
            )
        )

    clauses = tuple(
        ClauseResult(
            clause=clause,
            percent=_round(
                _mean(theme_percents[t.code] for t in content.themes if t.clause == clause)
            ),
        )
        for clause in CLAUSES
        if any(t.clause == clause for t in content.themes)
    )
    return ScanResult(
        content_version=content.version,
        respondents=len(group),
        statements=tuple(statement_results),
        themes=tuple(theme_results),
        clauses=clauses,
        overall_percent=_round(_mean(theme_percents.values())),
        overall_level=_overall_level([t.level for t in theme_results]),
        perception_gaps=tuple(s.statement_id for s in statement_results if s.perception_gap),
    )


def _select_group(
    responses: Sequence[RespondentAnswers], tag: str | None
) -> list[RespondentAnswers]:
    everyone = list(responses)
    seen: set[str] = set()
    for response in everyone:
        if response.respondent_id in seen:
            raise DuplicateRespondent(response.respondent_id)
        seen.add(response.respondent_id)
    if tag is None:
        return everyone
    group = [r for r in everyone if tag in r.tags]
    if len(group) < MIN_TAG_GROUP:
        raise GroupTooSmall(tag)
    return group


def _check_known(content: ScanContent, group: Iterable[RespondentAnswers]) -> None:
    unknown = {sid for r in group for sid in r.answers} - content.statement_ids
    if unknown:
        raise UnknownStatements(unknown)


def _score_statement(
    statement: Statement, group: Iterable[RespondentAnswers]
) -> tuple[StatementResult, Fraction | None]:
    given = [r.answers[statement.id] for r in group if statement.id in r.answers]
    scores = [ANSWER_SCORES[a] for a in given if a in ANSWER_SCORES]
    exact = Fraction(sum(scores), len(scores)) if scores else None
    spread = max(scores) - min(scores) if scores else None
    result = StatementResult(
        statement_id=statement.id,
        theme=statement.theme,
        level=statement.level,
        score=_round(exact),
        spread=None if spread is None else float(spread),
        scored=len(scores),
        not_applicable=given.count(Answer.NVT),
        dont_know=given.count(Answer.WEET_NIET),
        perception_gap=spread == PERCEPTION_GAP_SPREAD,
    )
    return result, exact


def _theme_level(level_percents: Mapping[int, Fraction | None]) -> int:
    reached = 1
    for level in STATEMENT_LEVELS:
        percent = level_percents[level]
        # Compare what the user sees, so 69.96 (shown as 70.0) passes rather than looking wrong.
        if percent is None or round_percent(percent) < LEVEL_PASS_PERCENT:
            break
        reached = level
    return reached


def _overall_level(theme_levels: Sequence[int]) -> int:
    reached = 1
    for level in STATEMENT_LEVELS:
        at_least = sum(1 for t in theme_levels if t >= level)
        if not theme_levels or at_least < OVERALL_LEVEL_SHARE * len(theme_levels):
            break
        reached = level
    return reached


def _mean(values: Iterable[Fraction | None]) -> Fraction | None:
    scored = [v for v in values if v is not None]
    return sum(scored, Fraction(0)) / len(scored) if scored else None


def round_percent(value: Fraction) -> float:
    """Round half up to one decimal, the precision every percentage is shown and compared at."""
    return math.floor(value * 10 + Fraction(1, 2)) / 10


def _round(value: Fraction | None) -> float | None:
    return None if value is None else round_percent(value)
