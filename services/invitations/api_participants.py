"""Who takes part in a running scan: add respondents from the list, remove those who have
not answered (their invitation is revoked). Pages and JSON API."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from jinja2 import Environment
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.exceptions import HTTPException

from services.invitations import domain_participants as domain
from services.invitations import store, store_participants
from services.invitations.api import http_errors
from services.invitations.usecases import Invitations, NotFound
from shared.runtime import utcnow
from shared.web import AdminSession, CheckedAdmin, CurrentAdmin, render


class ParticipantsAdd(BaseModel):
    respondent_ids: list[uuid.UUID] = Field(description="People on the organisation's list "
                                            "to add; those already in the scan are skipped")


class ParticipantPublic(BaseModel):
    respondent_id: uuid.UUID
    name: str
    email: str
    state: str = Field(description="not_invited, invited or submitted")


def _state(p) -> str:  # noqa: ANN001
    return "submitted" if p.submitted_at else "invited" if p.invitation_id else "not_invited"


def build_router(uc: Invitations, env: Environment) -> APIRouter:
    router = APIRouter()

    async def scan(conn: AsyncConnection, admin: AdminSession, questionnaire_id: uuid.UUID,
                   *, for_update: bool = False):  # noqa: ANN202
        q = await store.questionnaire(conn, admin.organisation_id, questionnaire_id,
                                      for_update=for_update)
        if q is None:
            raise NotFound()
        return q

    async def add(admin: AdminSession, questionnaire_id: uuid.UUID,
                  respondent_ids: list[uuid.UUID]) -> int:
        async with uc.engine.begin() as conn:
            q = await scan(conn, admin, questionnaire_id, for_update=True)
            domain.ensure_running(q.status)
            return await store_participants.add(conn, admin.organisation_id, questionnaire_id,
                                                respondent_ids)

    async def remove(admin: AdminSession, questionnaire_id: uuid.UUID,
                     respondent_id: uuid.UUID) -> bool:
        """Returns whether an invitation was revoked."""
        now = utcnow()
        async with uc.engine.begin() as conn:
            q = await scan(conn, admin, questionnaire_id, for_update=True)
            p = await store_participants.participant(conn, questionnaire_id, respondent_id)
            if p is None:
                raise NotFound()
            invitation = (domain.Invitation(p.invitation_id, p.submitted_at, p.revoked_at)
                          if p.invitation_id else None)
            left = await store_participants.invitations_left(conn, questionnaire_id)
            event = domain.remove_participant(
                organisation_id=admin.organisation_id, questionnaire_id=questionnaire_id,
                status=q.status, invitation=invitation, now=now,
                invitations_left=left - 1 if invitation and not p.revoked_at else left)
            await store_participants.take_out(
                conn, questionnaire_id, respondent_id, now=now,
                revoke=event.invitation_id if event else None)
            if event is not None:
                await uc.messaging.emit(conn, event, now=now)
        return event is not None

    async def page(request: Request, admin: AdminSession, questionnaire_id: uuid.UUID, *,
                   error: str | None = None, status_code: int = 200):  # noqa: ANN202
        tag = request.query_params.get("tag", "")
        with http_errors():
            async with uc.engine.connect() as conn:
                q = await scan(conn, admin, questionnaire_id)
                people = await store_participants.taking_part(conn, questionnaire_id)
                free = await store_participants.candidates(conn, admin.organisation_id,
                                                           questionnaire_id, tag=tag)
                tags = sorted({t for r in await store_participants.candidates(
                    conn, admin.organisation_id, questionnaire_id) for t in r.tags})
        return render(env, request, "participants.html", status_code=status_code, q=q,
                      people=people, candidates=free, tags=tags, tag=tag, error=error,
                      select=request.query_params.get("select", "none"),
                      notice=request.query_params.get("notice"))

    base = "/admin/questionnaires/{questionnaire_id}/participants"

    @router.get(base, tags=["pages"])
    async def participants_page(request: Request, questionnaire_id: uuid.UUID,  # noqa: ANN202
                                admin: CurrentAdmin):
        return await page(request, admin, questionnaire_id)

    @router.post(base, tags=["pages"])
    async def add_participants(request: Request, questionnaire_id: uuid.UUID,  # noqa: ANN202
                               admin: CheckedAdmin):
        chosen = []
        for value in (await request.form()).getlist("respondent"):
            try:
                chosen.append(uuid.UUID(str(value)))
            except ValueError:
                continue  # not a person of the list; the rest still count
        with http_errors():
            added = await add(admin, questionnaire_id, chosen) if chosen else 0
        if not added:
            return await page(request, admin, questionnaire_id, status_code=422,
                              error="participants.error.none_chosen")
        return RedirectResponse(f"/admin/questionnaires/{questionnaire_id}/participants"
                                f"?notice=added", status_code=303)

    @router.get(base + "/{respondent_id}/remove", tags=["pages"])
    async def remove_page(request: Request, questionnaire_id: uuid.UUID,  # noqa: ANN202
                          respondent_id: uuid.UUID, admin: CurrentAdmin):
        with http_errors():
            async with uc.engine.connect() as conn:
                q = await scan(conn, admin, questionnaire_id)
                p = await store_participants.participant(conn, questionnaire_id, respondent_id)
        if p is None:
            raise HTTPException(404)
        return render(env, request, "participant_remove.html", q=q, p=p)

    @router.post(base + "/{respondent_id}/remove", tags=["pages"])
    async def remove_participant(request: Request, questionnaire_id: uuid.UUID,  # noqa: ANN202
                                 respondent_id: uuid.UUID, admin: CheckedAdmin):
        try:
            with http_errors():
                await remove(admin, questionnaire_id, respondent_id)
        except HTTPException as exc:
            if exc.status_code != 409:
                raise
            # Submitted meanwhile, or the scan closed: the page says which, nothing changed.
            return await page(request, admin, questionnaire_id, status_code=409,
                              error=exc.detail)
        return RedirectResponse(f"/admin/questionnaires/{questionnaire_id}/participants"
                                f"?notice=removed", status_code=303)

    api = "/admin/api/questionnaires/{questionnaire_id}/participants"

    @router.get(api, tags=["api"])
    async def api_list(questionnaire_id: uuid.UUID, admin: CurrentAdmin
                       ) -> list[ParticipantPublic]:
        with http_errors():
            async with uc.engine.connect() as conn:
                await scan(conn, admin, questionnaire_id)
                people = await store_participants.taking_part(conn, questionnaire_id)
        return [ParticipantPublic(respondent_id=p.id, name=p.name, email=p.email,
                                  state=_state(p)) for p in people]

    @router.post(api, tags=["api"])
    async def api_add(questionnaire_id: uuid.UUID, body: ParticipantsAdd,
                      admin: CheckedAdmin) -> dict:
        with http_errors():
            return {"added": await add(admin, questionnaire_id, body.respondent_ids)}

    @router.delete(api + "/{respondent_id}", tags=["api"])
    async def api_remove(questionnaire_id: uuid.UUID, respondent_id: uuid.UUID,
                         admin: CheckedAdmin) -> dict:
        with http_errors():
            return {"removed": True,
                    "revoked": await remove(admin, questionnaire_id, respondent_id)}

    return router
