"""Documents' downloads, for the organisation's admin only."""

from __future__ import annotations

import uuid
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.exceptions import HTTPException

from services.documents import store
from shared.web import CurrentAdmin


def build_router(*, engine: AsyncEngine) -> APIRouter:
    router = APIRouter(prefix="/documents", tags=["documents"])

    @router.get("/api/questionnaires/{questionnaire_id}")
    async def list_documents(questionnaire_id: uuid.UUID, admin: CurrentAdmin) -> list[dict]:
        async with engine.connect() as conn:
            rows = await store.documents_of(conn, admin.organisation_id, questionnaire_id)
        if not rows:
            # Documents knows a questionnaire only by its documents: another organisation's
            # questionnaire and one of the admin's own without documents yet look the same.
            raise HTTPException(404)
        return [{"id": str(r.id), "kind": r.kind, "language": r.language,
                 "filename": r.filename, "media_type": r.media_type,
                 "url": f"/documents/{r.id}", "created_at": r.created_at.isoformat()}
                for r in rows]

    @router.get("/{document_id}")
    async def download(document_id: uuid.UUID, admin: CurrentAdmin) -> Response:
        async with engine.connect() as conn:
            row = await store.document(conn, admin.organisation_id, document_id)
        if row is None:
            raise HTTPException(404)
        return Response(row.content, media_type=row.media_type, headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.filename)}",
            "Cache-Control": "private, no-store",
        })

    return router
