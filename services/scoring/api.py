"""Scoring's JSON API: a completed scan's result, for the organisation's admin only."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.exceptions import HTTPException

from services.scoring import store
from shared.results import ScanResult
from shared.web import CurrentAdmin


def build_router(*, engine: AsyncEngine) -> APIRouter:
    router = APIRouter(prefix="/scoring", tags=["scoring"])

    @router.get("/api/questionnaires/{questionnaire_id}/result")
    async def result(questionnaire_id: uuid.UUID, admin: CurrentAdmin) -> ScanResult:
        async with engine.connect() as conn:
            row = await store.result_for(conn, admin.organisation_id, questionnaire_id)
        if row is None:
            raise HTTPException(404, "msg.result_not_ready")
        return ScanResult.model_validate(row.result)

    return router
