"""The organisation's list of respondents ("Mijn respondenten"): pages and JSON API."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from jinja2 import Environment
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from starlette.exceptions import HTTPException

from services.invitations import store_respondents as store
from services.invitations.domain_respondents import LANGUAGES, Person, parse_person
from shared.http import invalid_fields
from shared.runtime import utcnow
from shared.web import AdminSession, CheckedAdmin, CurrentAdmin, render


class RespondentWrite(BaseModel):
    name: str = Field(default="", description="At most 200 characters on one line; empty: the "
                      "address's part before the @", examples=["Anna de Vries"])
    email: str = Field(description="Plain ASCII address of at most 254 characters",
                       examples=["anna@voorbeeldstad.example"])
    language: str = Field(default="nl", description="Language of the respondent's mails: nl "
                          "or en")
    tags: list[str] = Field(default=[], description="Role, department: at most 10 of at most "
                            "50 characters", examples=[["inkoop", "directie"]])


class RespondentPublic(BaseModel):
    id: uuid.UUID
    name: str
    email: str
    language: str
    tags: list[str]
    is_admin: bool = Field(description="This row is the admin themself")


def public(row) -> RespondentPublic:  # noqa: ANN001
    return RespondentPublic(id=row.id, name=row.name, email=row.email, language=row.language,
                            tags=list(row.tags), is_admin=row.admin_id is not None)


class Taken(Exception):
    """The address belongs to someone else on the list."""


async def save(conn: AsyncConnection, admin: AdminSession, person: Person,
               respondent_id: uuid.UUID | None) -> uuid.UUID:
    """Add (``respondent_id`` None) or change one person; ``Taken`` when the address is
    another listed person's. Adding an address removed earlier brings that person back."""
    same = await store.by_email(conn, admin.organisation_id, person.email)
    if respondent_id is None:
        if same is not None and same.removed_at is None:
            raise Taken()
        (new_id,) = await store.put(conn, admin.organisation_id, [person], now=utcnow())
        return new_id
    if same is not None and same.id != respondent_id:
        raise Taken()
    await store.change(conn, admin.organisation_id, respondent_id, person)
    return respondent_id


def build_router(engine: AsyncEngine, env: Environment) -> APIRouter:
    router = APIRouter()

    async def find(conn: AsyncConnection, admin: AdminSession, respondent_id: uuid.UUID,
                   **kw: bool):  # noqa: ANN202
        row = await store.one(conn, admin.organisation_id, respondent_id, **kw)
        if row is None:
            raise HTTPException(404)
        return row

    def form_page(request: Request, *, form: dict, errors: dict, respondent_id=None,  # noqa: ANN001
                  status_code: int = 200):  # noqa: ANN202
        return render(env, request, "respondent_form.html", status_code=status_code,
                      form=form, errors=errors, respondent_id=respondent_id,
                      languages=LANGUAGES)

    @router.get("/admin/respondents", tags=["pages"])
    async def respondents_page(request: Request, admin: CurrentAdmin, q: str = "",  # noqa: ANN202
                               tag: str = ""):
        async with engine.begin() as conn:
            await store.ensure_admin_listed(conn, admin.admin_id, now=utcnow())
            rows = await store.listed(conn, admin.organisation_id, query=q, tag=tag)
            tags = await store.all_tags(conn, admin.organisation_id)
        return render(env, request, "respondents.html", rows=rows, query=q, tag=tag, tags=tags,
                      notice=request.query_params.get("notice"))

    @router.get("/admin/respondents/new", tags=["pages"])
    async def new_page(request: Request, admin: CurrentAdmin):  # noqa: ANN202
        return form_page(request, errors={},
                         form={"name": "", "email": "", "language": "nl", "tags": ""})

    async def submitted(request: Request, admin: AdminSession, respondent_id, *,  # noqa: ANN001, ANN202
                        name: str, email: str, language: str, tags: str):
        form = {"name": name, "email": email, "language": language, "tags": tags}
        if respondent_id is not None:  # another organisation's person: 404 whatever was sent
            async with engine.connect() as conn:
                await find(conn, admin, respondent_id)
        person, errors = parse_person(**form)
        if person is not None:
            async with engine.begin() as conn:
                if respondent_id is not None:
                    await find(conn, admin, respondent_id, for_update=True)
                try:
                    await save(conn, admin, person, respondent_id)
                except Taken:
                    errors = {"email": "respondents.error.email_listed"}
        if errors:
            return form_page(request, form=form, errors=errors, respondent_id=respondent_id,
                             status_code=422)
        notice = "added" if respondent_id is None else "changed"
        return RedirectResponse(f"/admin/respondents?notice={notice}", status_code=303)

    @router.post("/admin/respondents", tags=["pages"])
    async def add(request: Request, admin: CheckedAdmin, name: Annotated[str, Form()] = "",  # noqa: ANN202
                  email: Annotated[str, Form()] = "", language: Annotated[str, Form()] = "nl",
                  tags: Annotated[str, Form()] = ""):
        return await submitted(request, admin, None, name=name, email=email,
                               language=language, tags=tags)

    @router.get("/admin/respondents/{respondent_id}/edit", tags=["pages"])
    async def edit_page(request: Request, respondent_id: uuid.UUID, admin: CurrentAdmin):  # noqa: ANN202
        async with engine.connect() as conn:
            row = await find(conn, admin, respondent_id)
        return form_page(request, errors={}, respondent_id=respondent_id, form={
            "name": row.name, "email": row.email, "language": row.language,
            "tags": ", ".join(row.tags)})

    @router.post("/admin/respondents/{respondent_id}", tags=["pages"])
    async def edit(request: Request, respondent_id: uuid.UUID, admin: CheckedAdmin,  # noqa: ANN202
                   name: Annotated[str, Form()] = "", email: Annotated[str, Form()] = "",
                   language: Annotated[str, Form()] = "nl", tags: Annotated[str, Form()] = ""):
        return await submitted(request, admin, respondent_id, name=name, email=email,
                               language=language, tags=tags)

    @router.get("/admin/respondents/{respondent_id}/remove", tags=["pages"])
    async def remove_page(request: Request, respondent_id: uuid.UUID, admin: CurrentAdmin):  # noqa: ANN202
        async with engine.connect() as conn:
            row = await find(conn, admin, respondent_id)
        return render(env, request, "respondent_remove.html", row=row)

    @router.post("/admin/respondents/{respondent_id}/remove", tags=["pages"])
    async def remove(respondent_id: uuid.UUID, admin: CheckedAdmin):  # noqa: ANN202
        async with engine.begin() as conn:
            await find(conn, admin, respondent_id, for_update=True)
            await store.remove(conn, admin.organisation_id, respondent_id, now=utcnow())
        return RedirectResponse("/admin/respondents?notice=removed", status_code=303)

    # JSON twins; state changes send the session's token as X-CSRF-Token.
    @router.get("/admin/api/respondents", tags=["api"])
    async def api_list(admin: CurrentAdmin, q: str = "", tag: str = ""
                       ) -> list[RespondentPublic]:
        async with engine.begin() as conn:
            await store.ensure_admin_listed(conn, admin.admin_id, now=utcnow())
            rows = await store.listed(conn, admin.organisation_id, query=q, tag=tag)
        return [public(r) for r in rows]

    @router.get("/admin/api/respondents/{respondent_id}", tags=["api"])
    async def api_get(respondent_id: uuid.UUID, admin: CurrentAdmin) -> RespondentPublic:
        async with engine.connect() as conn:
            return public(await find(conn, admin, respondent_id))

    async def api_save(body: RespondentWrite, admin: AdminSession,
                       respondent_id: uuid.UUID | None) -> RespondentPublic:
        if respondent_id is not None:
            async with engine.connect() as conn:
                await find(conn, admin, respondent_id)
        person, errors = parse_person(name=body.name, email=body.email,
                                      language=body.language, tags=",".join(body.tags))
        if person is None:
            raise invalid_fields(errors)
        if any("," in tag for tag in body.tags):
            raise invalid_fields({"tags": "respondents.error.tag_characters"})
        async with engine.begin() as conn:
            if respondent_id is not None:
                await find(conn, admin, respondent_id, for_update=True)
            try:
                saved = await save(conn, admin, person, respondent_id)
            except Taken:
                raise invalid_fields({"email": "respondents.error.email_listed"}) from None
            return public(await find(conn, admin, saved))

    @router.post("/admin/api/respondents", status_code=201, tags=["api"])
    async def api_add(body: RespondentWrite, admin: CheckedAdmin) -> RespondentPublic:
        return await api_save(body, admin, None)

    @router.put("/admin/api/respondents/{respondent_id}", tags=["api"])
    async def api_edit(respondent_id: uuid.UUID, body: RespondentWrite,
                       admin: CheckedAdmin) -> RespondentPublic:
        return await api_save(body, admin, respondent_id)

    @router.delete("/admin/api/respondents/{respondent_id}", tags=["api"])
    async def api_remove(respondent_id: uuid.UUID, admin: CheckedAdmin) -> dict:
        async with engine.begin() as conn:
            await find(conn, admin, respondent_id, for_update=True)
            await store.remove(conn, admin.organisation_id, respondent_id, now=utcnow())
        return {"removed": True}

    return router
