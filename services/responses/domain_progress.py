"""A response's progress as the admin's overview sees it. Pure, no I/O."""

from __future__ import annotations

import uuid
from datetime import datetime

from shared.events import ResponseStarted


def response_started(*, organisation_id: uuid.UUID, questionnaire_id: uuid.UUID,
                     invitation_id: uuid.UUID, response_id: uuid.UUID,
                     now: datetime) -> ResponseStarted:
    return ResponseStarted(organisation_id=organisation_id, questionnaire_id=questionnaire_id,
                           invitation_id=invitation_id, response_id=response_id,
                           started_at=now)
