"""Documents: what goes into the results report. Pure rules, no I/O."""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from shared.content import ScanContent
from shared.events import DocumentGenerated, ScanCompleted

REPORT_LANGUAGES = ("nl", "en")
PDF = "application/pdf"
REPORT = "results_report"


@dataclass(frozen=True)
class ThemeRow:
    code: str
    name: str
    clause: str
    percent: float | None
    level: int


@dataclass(frozen=True)
class ReportView:
    """Everything the report template shows, already in the report's language."""

    language: str
    organisation: str
    title: str
    completed_at: datetime
    respondents_invited: int
    respondents_submitted: int
    overall_percent: float | None
    overall_level: int
    clauses: tuple[tuple[str, float | None], ...]
    themes: tuple[ThemeRow, ...]
    perception_gaps: tuple[tuple[str, str], ...]  # (statement id, statement text)


def report_view(event: ScanCompleted, content: ScanContent, *, language: str) -> ReportView:
    result = event.result
    known = {t.code: t for t in content.themes}
    themes = tuple(
        ThemeRow(code=t.theme, clause=t.clause, percent=t.percent, level=t.level,
                 name=(known[t.theme].name_en if language == "en" else known[t.theme].name_nl)
                 if t.theme in known else t.theme)
        for t in result.themes
    )
    gaps = tuple(
        (sid, content.statement(sid).text(language) if sid in content.statement_ids else sid)
        for sid in result.perception_gaps
    )
    return ReportView(
        language=language, organisation=event.organisation_name, title=event.title,
        completed_at=event.completed_at, respondents_invited=event.respondents_invited,
        respondents_submitted=event.respondents_submitted,
        overall_percent=result.overall_percent, overall_level=result.overall_level,
        clauses=tuple((c.clause, c.percent) for c in result.clauses), themes=themes,
        perception_gaps=gaps,
    )


def report_filename(title: str, completed_at: datetime, language: str, *, round: int = 1) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60] or "scan"
    # A later round of a reopened scan may complete the same day: its file must differ.
    suffix = f"-{round}" if round > 1 else ""
    return f"{slug}-{completed_at:%Y%m%d}{suffix}-{language}.pdf"


def document_generated(event: ScanCompleted, *, document_id: uuid.UUID, language: str,
                       filename: str, pdf: bytes, now: datetime) -> DocumentGenerated:
    return DocumentGenerated(
        organisation_id=event.organisation_id, questionnaire_id=event.questionnaire_id,
        document_id=document_id, kind=REPORT, language=language, filename=filename,
        media_type=PDF, size_bytes=len(pdf), sha256=hashlib.sha256(pdf).hexdigest(),
        generated_at=now, round=event.round,
    )
