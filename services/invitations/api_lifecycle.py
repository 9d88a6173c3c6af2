"""Pages and JSON API of a scan's life: edit (and reopen), close and delete with a
confirmation step, the deleted scans and restoring one."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from jinja2 import Environment
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from services.invitations import domain_lifecycle as life
from services.invitations import store, store_lifecycle
from services.invitations.api import http_errors
from services.invitations.usecases import Invitations
from services.invitations.usecases_lifecycle import Lifecycle
from shared.http import invalid_fields
from shared.runtime import utcnow
from shared.web import DISPLAY_ZONE, CheckedAdmin, CurrentAdmin, render


class QuestionnaireEdit(BaseModel):
    title: str = Field(description="3 to 200 characters on one line, no control characters")
    deadline: date = Field(description="The last day to answer")
    deadline_time: str = Field(default="23:59", description="HH:MM on that day, Amsterdam "
                               "time; a deadline moved into the future reopens a closed scan")


def _form_values(q) -> dict[str, str]:  # noqa: ANN001
    local = q.deadline.astimezone(DISPLAY_ZONE)
    return {"title": q.title, "deadline": local.date().isoformat(),
            "deadline_time": local.strftime("%H:%M")}


def build_router(uc: Invitations, lifecycle: Lifecycle, env: Environment) -> APIRouter:
    router = APIRouter()
    env.globals["scan_state"] = life.state_of  # the dashboard's and the scan page's state

    async def owned(admin, questionnaire_id: uuid.UUID):  # noqa: ANN001, ANN202
        async with uc.engine.connect() as conn:
            q = await store.questionnaire(conn, admin.organisation_id, questionnaire_id)
        if q is None:
            raise HTTPException(404)
        return q

    def back(questionnaire_id: uuid.UUID, notice: str) -> RedirectResponse:
        return RedirectResponse(f"/admin/questionnaires/{questionnaire_id}?notice={notice}",
                                status_code=303)

    @router.get("/admin/questionnaires/{questionnaire_id}/edit", tags=["pages"])
    async def edit_page(request: Request, questionnaire_id: uuid.UUID, admin: CurrentAdmin):  # noqa: ANN202
        q = await owned(admin, questionnaire_id)
        if q.deleted_at is not None:
            return back(questionnaire_id, "lifecycle_deleted")
        return render(env, request, "questionnaire_edit.html", q=q, errors={},
                      form=_form_values(q))

    @router.post("/admin/questionnaires/{questionnaire_id}/edit", tags=["pages"])
    async def edit(request: Request, questionnaire_id: uuid.UUID, admin: CheckedAdmin,
                   title: Annotated[str, Form()] = "", deadline: Annotated[str, Form()] = "",
                   deadline_time: Annotated[str, Form()] = ""):  # noqa: ANN202
        q = await owned(admin, questionnaire_id)
        if q.deleted_at is not None:
            return back(questionnaire_id, "lifecycle_deleted")
        now = utcnow()
        changes, errors = life.parse_edit_form(title=title, deadline_day=deadline,
                                               deadline_time=deadline_time, now=now)
        if changes is None:
            return render(env, request, "questionnaire_edit.html", status_code=422, q=q,
                          errors=errors, form={"title": title, "deadline": deadline,
                                               "deadline_time": deadline_time})
        with http_errors():
            reopened = await lifecycle.edit(admin, questionnaire_id, changes, now=now)
        return back(questionnaire_id, "lifecycle_reopened" if reopened else "lifecycle_updated")

    @router.get("/admin/questionnaires/{questionnaire_id}/close", tags=["pages"])
    async def close_page(request: Request, questionnaire_id: uuid.UUID, admin: CurrentAdmin):  # noqa: ANN202
        q = await owned(admin, questionnaire_id)
        if q.status != "open" or q.deleted_at is not None:
            return back(questionnaire_id, "lifecycle_not_open")
        return render(env, request, "lifecycle_confirm.html", q=q, action="close")

    @router.get("/admin/questionnaires/{questionnaire_id}/delete", tags=["pages"])
    async def delete_page(request: Request, questionnaire_id: uuid.UUID, admin: CurrentAdmin):  # noqa: ANN202
        q = await owned(admin, questionnaire_id)
        if q.deleted_at is not None:
            return back(questionnaire_id, "lifecycle_deleted")
        return render(env, request, "lifecycle_confirm.html", q=q, action="delete")

    @router.post("/admin/questionnaires/{questionnaire_id}/delete", tags=["pages"])
    async def delete(questionnaire_id: uuid.UUID, admin: CheckedAdmin):  # noqa: ANN202
        with http_errors():
            await lifecycle.delete(admin, questionnaire_id, now=utcnow())
        return RedirectResponse("/admin/deleted-questionnaires?notice=deleted", status_code=303)

    @router.get("/admin/deleted-questionnaires", tags=["pages"])
    async def deleted_page(request: Request, admin: CurrentAdmin):  # noqa: ANN202
        async with uc.engine.connect() as conn:
            rows = await store_lifecycle.deleted_questionnaires(conn, admin.organisation_id)
        notice = request.query_params.get("notice")
        return render(env, request, "questionnaires_deleted.html", questionnaires=rows,
                      notice=notice if notice in ("deleted", "restored") else None)

    @router.post("/admin/questionnaires/{questionnaire_id}/restore", tags=["pages"])
    async def restore(questionnaire_id: uuid.UUID, admin: CheckedAdmin):  # noqa: ANN202
        with http_errors():
            await lifecycle.restore(admin, questionnaire_id, now=utcnow())
        return back(questionnaire_id, "lifecycle_restored")

    # JSON API: the same changes for integrators and scripts (X-CSRF-Token required).
    @router.post("/admin/api/questionnaires/{questionnaire_id}/edit", tags=["api"])
    async def api_edit(questionnaire_id: uuid.UUID, body: QuestionnaireEdit,
                       admin: CheckedAdmin) -> dict:
        await owned(admin, questionnaire_id)
        now = utcnow()
        changes, errors = life.parse_edit_form(
            title=body.title, deadline_day=body.deadline.isoformat(),
            deadline_time=body.deadline_time, now=now)
        if changes is None:
            raise invalid_fields(errors)
        with http_errors():
            reopened = await lifecycle.edit(admin, questionnaire_id, changes, now=now)
        return {"reopened": reopened, "deadline": changes.deadline.isoformat()}

    @router.post("/admin/api/questionnaires/{questionnaire_id}/delete", tags=["api"])
    async def api_delete(questionnaire_id: uuid.UUID, admin: CheckedAdmin) -> dict:
        with http_errors():
            await lifecycle.delete(admin, questionnaire_id, now=utcnow())
        return {"deleted": True}

    @router.post("/admin/api/questionnaires/{questionnaire_id}/restore", tags=["api"])
    async def api_restore(questionnaire_id: uuid.UUID, admin: CheckedAdmin) -> dict:
        with http_errors():
            await lifecycle.restore(admin, questionnaire_id, now=utcnow())
        return {"restored": True}

    return router
