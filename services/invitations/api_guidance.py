""""Bekijk de vragenlijst": every statement of a scan with its help text, and the admin's own
note per statement ("Toelichting") that respondents see beside it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import cache
from itertools import groupby

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from jinja2 import Environment
from starlette.exceptions import HTTPException

from services.invitations import domain_guidance, store, store_guidance
from services.invitations.usecases import Invitations
from shared.content import content
from shared.runtime import utcnow
from shared.web import AdminSession, CheckedAdmin, CurrentAdmin, render, request_language


@dataclass(frozen=True)
class ListedStatement:
    number: int
    id: str
    text: str
    help: str


@cache
def listed_statements(content_version: str, lang: str
                      ) -> tuple[tuple[str, str, tuple[ListedStatement, ...]], ...]:
    """(theme code, theme name, statements) in the order the respondents' page shows them,
    numbered through the whole scan."""
    scan = content(content_version)
    order = {theme.code: n for n, theme in enumerate(scan.themes)}
    shown = sorted(scan.statements, key=lambda s: (order[s.theme], s.level, s.id))
    numbers = {s.id: n for n, s in enumerate(shown, start=1)}
    themes = []
    for code, items in groupby(shown, key=lambda s: s.theme):
        theme = scan.theme(code)
        themes.append((code, theme.name_en if lang == "en" else theme.name_nl, tuple(
            ListedStatement(numbers[s.id], s.id, s.text(lang), s.help(lang)) for s in items)))
    return tuple(themes)


def build_router(uc: Invitations, env: Environment) -> APIRouter:
    router = APIRouter(tags=["pages"])

    async def owned(conn, admin: AdminSession, questionnaire_id: uuid.UUID, *,  # noqa: ANN001, ANN202
                    for_update: bool = False):
        q = await store.questionnaire(conn, admin.organisation_id, questionnaire_id,
                                      for_update=for_update)
        if q is None or getattr(q, "deleted_at", None) is not None:
            raise HTTPException(404)
        return q

    def page(request: Request, q, notes: dict[str, str], *, errors=None, notice=None,  # noqa: ANN001
             status_code: int = 200):  # noqa: ANN202
        return render(env, request, "questionnaire_statements.html", status_code=status_code,
                      q=q, notes=notes, errors=errors or {}, notice=notice,
                      themes=listed_statements(q.content_version, request_language(request)),
                      max_guidance=domain_guidance.MAX_GUIDANCE)

    @router.get("/admin/questionnaires/{questionnaire_id}/statements")
    async def statements_page(request: Request, questionnaire_id: uuid.UUID,
                              admin: CurrentAdmin):  # noqa: ANN202
        async with uc.engine.connect() as conn:
            q = await owned(conn, admin, questionnaire_id)
            notes = await store_guidance.notes_of(conn, questionnaire_id)
        saved = request.query_params.get("saved", "")
        notice = None
        if saved.isdigit():
            notice = "guidance.notice.saved" if int(saved) else "guidance.notice.unchanged"
        return page(request, q, notes, notice=notice)

    @router.post("/admin/questionnaires/{questionnaire_id}/statements")
    async def save_statements(request: Request, questionnaire_id: uuid.UUID,
                              admin: CheckedAdmin):  # noqa: ANN202
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        now = utcnow()
        async with uc.engine.begin() as conn:
            q = await owned(conn, admin, questionnaire_id, for_update=True)
            scan = content(q.content_version)
            given, errors = domain_guidance.parse_guidance_form(form, scan.statement_ids)
            stored = await store_guidance.notes_of(conn, questionnaire_id)
            if errors:
                # Nothing is saved: the admin sees every note as typed, the wrong ones marked.
                return page(request, q, {**stored, **given}, errors=errors, status_code=422)
            changes = domain_guidance.guidance_changes(
                organisation_id=admin.organisation_id, questionnaire_id=questionnaire_id,
                stored=stored, given=given, now=now)
            await store_guidance.apply_changes(conn, changes, now=now)
            for change in changes:
                await uc.messaging.emit(conn, change, now=now)
        return RedirectResponse(
            f"/admin/questionnaires/{questionnaire_id}/statements?saved={len(changes)}",
            status_code=303)

    return router
