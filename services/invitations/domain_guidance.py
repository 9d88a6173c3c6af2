"""The admin's note per statement ("Toelichting"): the rules for the form. Pure, no I/O."""

from __future__ import annotations

import uuid
from datetime import datetime

from shared.events import GuidanceChanged
from shared.text import multi_line_ok

# A note beside a statement's help text: a few sentences, not a document.
MAX_GUIDANCE = 1000
FIELD_PREFIX = "guidance-"


def parse_guidance_form(form: dict[str, str], statement_ids: frozenset[str]
                        ) -> tuple[dict[str, str], dict[str, str]]:
    """The notes the form holds per statement (empty: none), and per statement an error key.

    Fields for statements the scan does not have are ignored: the page only offers its own.
    """
    notes: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name, value in form.items():
        statement_id = name.removeprefix(FIELD_PREFIX)
        if not name.startswith(FIELD_PREFIX) or statement_id not in statement_ids:
            continue
        # Browsers send line breaks as CR LF; stored as typed, without the trailing blanks.
        text = value.replace("\r\n", "\n").strip()
        if len(text) > MAX_GUIDANCE:
            errors[statement_id] = "guidance.error.too_long"
        elif not multi_line_ok(text):
            errors[statement_id] = "guidance.error.characters"
        notes[statement_id] = text
    return notes, errors


def guidance_changes(*, organisation_id: uuid.UUID, questionnaire_id: uuid.UUID,
                     stored: dict[str, str], given: dict[str, str], now: datetime
                     ) -> list[GuidanceChanged]:
    """One event per statement whose note the form changed; an emptied note is removed."""
    return [
        GuidanceChanged(organisation_id=organisation_id, questionnaire_id=questionnaire_id,
                        statement_id=statement_id, text=text, changed_at=now)
        for statement_id, text in sorted(given.items())
        if text != stored.get(statement_id, "")
    ]
