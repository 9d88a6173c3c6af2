"""Invitations' pages and JSON API: questionnaires, sending, closing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from jinja2 import Environment
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from services.invitations import (
    domain,
    domain_participants,
    store,
    store_participants,
    store_progress,
    store_respondents,
)
from services.invitations.usecases import Invitations, NotFound
from shared.http import invalid_fields
from shared.runtime import utcnow
from shared.web import CheckedAdmin, CurrentAdmin, render


class QuestionnaireCreate(BaseModel):
    title: str = Field(description="3 to 200 characters on one line, no control characters",
                       examples=["MVI-scan 2026"])
    deadline: date = Field(description="The last day to answer (Dutch time): from today up to "
                           "two years ahead; the scan closes at 23:59 Amsterdam time that day "
                           "unless deadline_time says otherwise")
    deadline_time: str = Field(default="", description="HH:MM, Amsterdam time; empty: 23:59")
    mail_language: str = Field(default="nl", description="Language of the invitation mail: "
                               "nl or en")
    respondents: list[str] = Field(
        description="One entry each: 'Name <email>' or an email; an address is plain ASCII of "
                    "at most 254 characters, a name at most 200; at most 500 respondents",
        examples=[["Anna de Vries <anna@voorbeeldstad.example>"]])


class QuestionnairePublic(BaseModel):
    id: uuid.UUID
    title: str
    status: str
    deadline: str
    invited: int = Field(description="Respondents whose invitation mail went out")
    started: int = Field(description="Invited respondents who started answering")
    submitted: int
    overall_percent: float | None
    overall_level: int | None
    round: int = Field(description="The result round the figures belong to: 1, and one more "
                       "for each completion after a reopen")
    reports: dict[str, str] = Field(description="Results report download URL per language (of "
                                    "the latest round whose reports are ready)")
    stuck: bool = Field(default=False, description="Completing the scan is stuck on an event a "
                        "service could not handle; the operator has been told")


@contextmanager
def http_errors() -> Iterator[None]:
    """Turn the use cases' errors into the HTTP errors the pages and the API share."""
    try:
        yield
    except NotFound:
        raise HTTPException(404) from None
    except domain.InvitationError as exc:
        raise HTTPException(409, exc.key) from None


def build_router(uc: Invitations, env: Environment) -> APIRouter:
    router = APIRouter()

    @router.get("/admin", tags=["pages"])
    async def dashboard(request: Request, admin: CurrentAdmin):  # noqa: ANN202
        async with uc.engine.connect() as conn:
            rows = await store.list_questionnaires(conn, admin.organisation_id)
            org = await store.organisation(conn, admin.organisation_id)
            progress = await store_progress.progress_by_questionnaire(conn, admin.organisation_id)
        return render(env, request, "dashboard.html", questionnaires=rows, organisation=org,
                      progress=progress)

    @router.get("/admin/questionnaires/new", tags=["pages"])
    async def new_questionnaire(request: Request, admin: CurrentAdmin):  # noqa: ANN202
        default_deadline = (utcnow().date() + timedelta(days=21)).isoformat()
        async with uc.engine.begin() as conn:
            await store_respondents.ensure_admin_listed(conn, admin.admin_id, now=utcnow())
            offered = await store_participants.choices(
                conn, admin.organisation_id, tag=request.query_params.get("tag", ""))
        return render(env, request, "questionnaire_new.html", errors={}, chosen=set(),
                      form={"title": "", "deadline": default_deadline, "respondents": "",
                            "deadline_time": "23:59", "mail_language": "nl"},
                      **offered)

    @router.post("/admin/questionnaires", tags=["pages"])
    async def create_questionnaire(request: Request, admin: CheckedAdmin,
                                   title: Annotated[str, Form()] = "",
                                   deadline: Annotated[str, Form()] = "",
                                   deadline_time: Annotated[str, Form()] = "",
                                   mail_language: Annotated[str, Form()] = "nl",
                                   respondents: Annotated[str, Form()] = "",
                                   respondent: Annotated[list[str], Form()] = [],  # noqa: B006
                                   tag: Annotated[str, Form()] = "",
                                   action: Annotated[str, Form()] = ""):  # noqa: ANN202
        now = utcnow()
        async with uc.engine.connect() as conn:
            chosen = await store_participants.chosen_entries(conn, admin.organisation_id,
                                                             respondent)
            offered = await store_participants.choices(conn, admin.organisation_id, tag=tag)
        form = {"title": title, "deadline": deadline, "respondents": respondents,
                "deadline_time": deadline_time, "mail_language": mail_language}
        ticked = set(respondent) if action != "none" else set()
        if action in ("filter", "all", "none"):  # choosing from the list; nothing is created
            if action == "all":
                ticked |= {str(r.id) for r in offered["choices"]}
            return render(env, request, "questionnaire_new.html", errors={}, form=form,
                          chosen=ticked, **offered)
        draft, errors = domain_participants.parse_new_scan(
            title=title, deadline=deadline, respondents=respondents, chosen=chosen,
            today=now.date(), deadline_time=deadline_time, mail_language=mail_language, now=now)
        if draft is None:
            return render(env, request, "questionnaire_new.html", status_code=422, errors=errors,
                          form=form, chosen=ticked, **offered)
        questionnaire_id = await uc.create_questionnaire(admin, draft, now=now)
        return RedirectResponse(f"/admin/questionnaires/{questionnaire_id}?created=1",
                                status_code=303)

    @router.get("/admin/questionnaires/{questionnaire_id}", tags=["pages"])
    async def questionnaire_page(request: Request, questionnaire_id: uuid.UUID,
                                 admin: CurrentAdmin):  # noqa: ANN202
        with http_errors():
            q, people, reports = await uc.overview(admin, questionnaire_id)
        async with uc.engine.connect() as conn:
            progress = await store_progress.progress_of(conn, admin.organisation_id, q.id)
        return render(env, request, "questionnaire.html", q=q, people=people, reports=reports,
                      notice=request.query_params.get("notice"), progress=progress,
                      stuck=await uc.is_stuck(admin, questionnaire_id))

    @router.post("/admin/questionnaires/{questionnaire_id}/send", tags=["pages"])
    async def send(request: Request, questionnaire_id: uuid.UUID, admin: CheckedAdmin,
                   selection: Annotated[str, Form()] = "not_invited",
                   respondent: Annotated[list[uuid.UUID] | None, Form()] = None):  # noqa: ANN202
        chosen = set(respondent or ()) if selection == "chosen" else None
        with http_errors():
            count = await uc.send_invitations(admin, questionnaire_id, now=utcnow(),
                                              chosen=chosen)
        notice = f"sent&count={count}" if count else "nothing_to_send"
        return RedirectResponse(f"/admin/questionnaires/{questionnaire_id}?notice={notice}",
                                status_code=303)

    @router.post("/admin/questionnaires/{questionnaire_id}/close", tags=["pages"])
    async def close(questionnaire_id: uuid.UUID, admin: CheckedAdmin):  # noqa: ANN202
        with http_errors():
            await uc.close_questionnaire(admin, questionnaire_id, now=utcnow())
        return RedirectResponse(f"/admin/questionnaires/{questionnaire_id}?notice=closed",
                                status_code=303)

    # JSON API for integrators and scripts. A cross-site form can post to a route without a
    # body, so every state-changing call sends the session's token as X-CSRF-Token.
    @router.post("/admin/api/questionnaires", status_code=201, tags=["api"])
    async def api_create(body: QuestionnaireCreate, admin: CheckedAdmin) -> QuestionnairePublic:
        now = utcnow()
        draft, errors = domain.parse_questionnaire_form(
            title=body.title, deadline=body.deadline.isoformat(),
            respondents="\n".join(body.respondents), today=now.date(),
            deadline_time=body.deadline_time, mail_language=body.mail_language, now=now)
        if draft is None:
            raise invalid_fields(errors)
        questionnaire_id = await uc.create_questionnaire(admin, draft, now=now)
        return await api_get(questionnaire_id, admin)

    @router.post("/admin/api/questionnaires/{questionnaire_id}/send", tags=["api"])
    async def api_send(questionnaire_id: uuid.UUID, admin: CheckedAdmin) -> dict:
        with http_errors():
            return {"sent": await uc.send_invitations(admin, questionnaire_id, now=utcnow())}

    @router.post("/admin/api/questionnaires/{questionnaire_id}/close", tags=["api"])
    async def api_close(questionnaire_id: uuid.UUID, admin: CheckedAdmin) -> dict:
        with http_errors():
            await uc.close_questionnaire(admin, questionnaire_id, now=utcnow())
        return {"closed": True}

    @router.get("/admin/api/questionnaires/{questionnaire_id}", tags=["api"])
    async def api_get(questionnaire_id: uuid.UUID, admin: CurrentAdmin) -> QuestionnairePublic:
        with http_errors():
            q, people, reports = await uc.overview(admin, questionnaire_id)
        async with uc.engine.connect() as conn:
            progress = await store_progress.progress_of(conn, admin.organisation_id, q.id)
        return QuestionnairePublic(
            id=q.id, title=q.title, status=q.status, deadline=q.deadline.isoformat(),
            invited=progress.invited, started=progress.started, submitted=progress.submitted,
            overall_level=q.overall_level, round=q.round,
            overall_percent=q.overall_percent,
            reports={lang: f"/documents/{doc}" for lang, doc in reports.items()},
            stuck=await uc.is_stuck(admin, questionnaire_id),
        )

    return router
