"""Importing respondents from a CSV upload or a pasted list, with a report of every row."""

from __future__ import annotations

from fastapi import APIRouter, Request
from jinja2 import Environment
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from services.invitations import store_respondents as store
from services.invitations.domain_import import (
    MAX_UPLOAD,
    ImportPlan,
    ImportRefused,
    against_list,
    plan_csv,
    plan_pasted,
)
from shared.runtime import utcnow
from shared.web import (
    AdminSession,
    CheckedAdmin,
    CurrentAdmin,
    render,
    request_language,
    translate,
)


class ImportRequest(BaseModel):
    text: str = Field(default="", description="A pasted list: one person per address, as "
                      "Outlook (;) or Gmail (,) copy it, or one per line")
    csv: str = Field(default="", description="The content of a CSV file: , or ; separated, "
                     "a header row with name/email/language/tags (Dutch or English) or none")


class ImportRow(BaseModel):
    row: int
    text: str
    email: str | None = None
    reason: str | None = Field(default=None, description="Why the row was refused")


class ImportReport(BaseModel):
    taken: list[ImportRow]
    refused: list[ImportRow]


async def take(engine: AsyncEngine, admin: AdminSession, plan: ImportPlan) -> ImportPlan:
    """Refuse the rows already listed, then add the rest in one transaction."""
    async with engine.begin() as conn:
        emails = [r.person.email for r in plan.taken if r.person is not None]
        plan = against_list(plan, await store.listed_emails(conn, admin.organisation_id,
                                                             emails))
        await store.put(conn, admin.organisation_id,
                        [r.person for r in plan.taken if r.person is not None], now=utcnow())
    return plan


def build_router(engine: AsyncEngine, env: Environment) -> APIRouter:
    router = APIRouter()

    def form_page(request: Request, *, error: str | None = None, values: dict | None = None,
                  field: str = "file", text: str = "", status_code: int = 200):  # noqa: ANN202
        return render(env, request, "respondents_import.html", status_code=status_code,
                      error=error, error_values=values or {}, error_field=field, text=text,
                      max_kb=MAX_UPLOAD // 1024)

    @router.get("/admin/respondents/import", tags=["pages"])
    async def import_page(request: Request, admin: CurrentAdmin):  # noqa: ANN202
        return form_page(request)

    @router.post("/admin/respondents/import", tags=["pages"])
    async def import_people(request: Request, admin: CheckedAdmin):  # noqa: ANN202
        form = await request.form()
        upload, text = form.get("file"), form.get("text")
        text = text if isinstance(text, str) else ""
        is_file = isinstance(upload, UploadFile) and bool(upload.filename)
        try:
            if is_file:
                # One byte more than allowed is enough to know the file is too big.
                plan = plan_csv(await upload.read(MAX_UPLOAD + 1))
            elif text.strip():
                plan = plan_pasted(text)
            else:
                raise ImportRefused("respondents.import.error.nothing")
        except ImportRefused as exc:
            return form_page(request, error=exc.key, values=exc.values, text=text,
                             field="file" if is_file else "text", status_code=422)
        plan = await take(engine, admin, plan)
        return render(env, request, "respondents_import_report.html", plan=plan)

    @router.post("/admin/api/respondents/import", tags=["api"])
    async def api_import(request: Request, body: ImportRequest,
                         admin: CheckedAdmin) -> ImportReport:
        try:
            if body.csv:
                plan = plan_csv(body.csv.encode("utf-8"))
            else:
                plan = plan_pasted(body.text)
        except ImportRefused as exc:
            raise HTTPException(422, [{
                "loc": ["body", "csv" if body.csv else "text"], "type": exc.key,
                "msg": translate(request_language(request), exc.key, **exc.values)}]) from None
        plan = await take(engine, admin, plan)
        lang = request_language(request)
        return ImportReport(
            taken=[ImportRow(row=r.number, text=r.text, email=r.person.email)
                   for r in plan.taken if r.person is not None],
            refused=[ImportRow(row=r.number, text=r.text,
                               reason=translate(lang, r.reason or ""))
                     for r in plan.refused])

    return router
