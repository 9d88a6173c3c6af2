"""The respondent's pages, reached only through a personal link."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import groupby

from fastapi import APIRouter, Request
from jinja2 import Environment
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.exceptions import HTTPException

from services.responses import domain, domain_progress, store, store_guidance
from shared.content import Answer, content
from shared.db import Messaging
from shared.kv import BusUnavailable
from shared.ratelimit import Limiter
from shared.runtime import utcnow
from shared.tokens import hash_token
from shared.web import render, request_language, translator

# The values the radio buttons carry, as plain strings for the template to write.
ANSWER_CHOICES = tuple(a.value for a in (Answer.NIET, Answer.DEELS, Answer.VOLLEDIG, Answer.NVT,
                                         Answer.WEET_NIET))
log = logging.getLogger("iso20400.responses")


def build_router(*, engine: AsyncEngine, messaging: Messaging, env: Environment,
                 guesses: Limiter) -> APIRouter:
    router = APIRouter(tags=["respondent"])

    def address(request: Request) -> str:
        return request.client.host if request.client else "unknown"

    warned_at = [0.0]

    def unchecked(exc: BusUnavailable) -> None:
        # Respondents keep working while the bus is away (guessing 256-bit links stays
        # pointless); one line a minute says so, not one per page.
        if time.monotonic() - warned_at[0] > 60:
            warned_at[0] = time.monotonic()
            log.warning("personal link guesses are not counted while the bus is away: %s", exc)

    async def refuse_guessers(request: Request) -> None:
        try:
            wait = await guesses.retry_after(address(request))
        except BusUnavailable as exc:
            unchecked(exc)
            return
        if wait:
            raise HTTPException(429, "msg.link_rate_limited", headers={"Retry-After": str(wait)})

    async def unknown(request: Request) -> HTTPException:
        try:
            await guesses.failed(address(request))
        except BusUnavailable as exc:
            unchecked(exc)
        return HTTPException(404, "msg.link_unknown")

    async def find(request: Request, token: str, lookup):  # noqa: ANN001, ANN202
        """What ``lookup`` finds for the link's hash; 404 and a counted guess when nothing."""
        # Unknown links one client address may try before it has to wait: a respondent who
        # mistypes a link is not held up, and a flood of guesses costs no database lookups.
        await refuse_guessers(request)
        # Tokens are 43 characters of URL-safe base64; anything else is not worth a lookup.
        if not 20 <= len(token) <= 100:
            raise await unknown(request)
        found = await lookup(hash_token(token))
        if found is None:
            raise await unknown(request)
        if (found[0] if isinstance(found, tuple) else found).revoked_at is not None:
            # The admin took this person off the scan: say so, rather than "unknown link".
            raise HTTPException(410, "msg.link_revoked")
        return found

    statement = _statement_renderer(env)

    def page(request: Request, row, draft: domain.Draft, *, notes: dict[str, str],  # noqa: ANN001
             errors=None, notice=None, closed_key=None, status_code=200):  # noqa: ANN001, ANN202
        errors = errors or {}
        lang, closed = request_language(request), closed_key is not None

        def shown(s: ShownStatement) -> tuple[ShownStatement, Markup, str]:
            """The statement, its part of the page up to the comment, and the comment."""
            return (s, statement(lang, s, draft.answers.get(s.id), errors.get(s.id), closed,
                                 notes.get(s.id)),
                    draft.comments.get(s.id, ""))

        themes = [(theme, [shown(s) for s in statements])
                  for theme, statements in _themes(row.content_version, lang)]
        return render(env, request, "respond.html", status_code=status_code, row=row,
                      themes=themes, errors=errors, notice=notice, closed_key=closed_key,
                      max_comment=domain.MAX_COMMENT)

    def withdrawn(request: Request):  # noqa: ANN202
        # The organisation deleted the scan: say so plainly, keep what was given untouched.
        return render(env, request, "withdrawn.html", status_code=410)

    @router.get("/r/{token}")
    async def respond_page(request: Request, token: str):  # noqa: ANN202
        async with engine.connect() as conn:
            row, draft = await find(request, token,
                                    lambda hashed: store.invitation_with_draft(conn, hashed))
            notes = await store_guidance.notes_of(conn, row.id)
        if row.deleted_at is not None:
            return withdrawn(request)
        closed_key = None
        try:
            domain.ensure_open(deadline=row.deadline, closed_at=row.closed_at,
                               submitted_at=row.submitted_at, now=utcnow())
        except domain.ResponseClosed as exc:
            closed_key = exc.key
        return page(request, row, draft, notes=notes, closed_key=closed_key)

    @router.post("/r/{token}")
    async def respond(request: Request, token: str):  # noqa: ANN202
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        submit = form.get("action") == "submit"
        now = utcnow()
        async with engine.begin() as conn:
            row = await find(request, token, lambda hashed: store.invitation_by_token_hash(
                conn, hashed, for_update=True))
            if row.deleted_at is not None:
                return withdrawn(request)
            scan = content(row.content_version)
            draft, errors = domain.parse_form(form, scan)
            notes = await store_guidance.notes_of(conn, row.id)
            try:
                domain.ensure_open(deadline=row.deadline, closed_at=row.closed_at,
                                   submitted_at=row.submitted_at, now=now)
            except domain.ResponseClosed as exc:
                # Nothing is changed; the respondent sees what was stored and why.
                stored = (await store.load_draft(conn, row.response_id) if row.response_id
                          else domain.Draft({}, {}))
                return page(request, row, stored, notes=notes, closed_key=exc.key,
                            status_code=409)
            if domain.must_not_save(errors):
                return page(request, row, draft, notes=notes, errors=errors, status_code=422,
                            notice="respond.notice.not_saved")
            if submit and not errors:
                errors = domain.submission_errors(draft, scan)
            # A draft is saved even when it cannot be submitted yet: no typing is lost.
            response_id, created = await store.save_draft(
                conn, row.response_id or uuid.uuid4(), row.invitation_id, draft, now=now,
                submitted=submit and not errors)
            if created:  # the first save starts the response (until a start page exists)
                await messaging.emit(conn, domain_progress.response_started(
                    organisation_id=row.organisation_id, questionnaire_id=row.id,
                    invitation_id=row.invitation_id, response_id=response_id, now=now), now=now)
            if submit and not errors:
                await messaging.emit(conn, domain.response_submitted(
                    organisation_id=row.organisation_id, questionnaire_id=row.id,
                    invitation_id=row.invitation_id, response_id=response_id,
                    content_version=row.content_version, draft=draft, now=now,
                ), now=now)
        if errors:
            return page(request, row, draft, notes=notes, errors=errors, status_code=422,
                        notice="respond.notice.saved_with_errors")
        if submit:
            return render(env, request, "submitted.html", row=row)
        return page(request, row, draft, notes=notes, notice="respond.notice.saved")

    return router


@dataclass(frozen=True)
class ShownTheme:
    code: str
    name: str


@dataclass(frozen=True)
class ShownStatement:
    id: str
    text: str
    help: str


@cache
def _themes(content_version: str,
            lang: str) -> tuple[tuple[ShownTheme, tuple[ShownStatement, ...]], ...]:
    """The statements of a scan grouped by theme, in the order and the language the page shows."""
    scan = content(content_version)
    en = lang == "en"
    order = {theme.code: n for n, theme in enumerate(scan.themes)}
    shown = sorted(scan.statements, key=lambda s: (order[s.theme], s.level, s.id))
    themes = []
    for code, items in groupby(shown, key=lambda s: s.theme):
        theme = scan.theme(code)
        themes.append((ShownTheme(code, theme.name_en if en else theme.name_nl), tuple(
            ShownStatement(s.id, s.text_en if en else s.text_nl, s.help_en if en else s.help_nl)
            for s in items)))
    return tuple(themes)


def _statement_renderer(env: Environment):  # noqa: ANN202
    """A statement's part of the page up to its comment, each state rendered only once.

    The 84 statements are nearly all of the page's rendering time, yet up to its comment a
    statement depends only on itself, the language, the answer, the error shown, whether
    the response is closed and the admin's note: a few thousand states at most, kept from
    first use. The note is part of the key, so a part is only ever reused for the very same
    note, whoever's scan it came from. The comment is the respondent's own text, so
    respond.html writes it each time.
    """
    template = env.get_template("statement.html")

    @lru_cache(maxsize=8192)
    def statement(lang: str, shown: ShownStatement, answer: Answer | None, error: str | None,
                  closed: bool, note: str | None) -> Markup:
        return Markup(template.render(t=translator(lang), s=shown, answer=answer, err=error,
                                      closed=closed, note=note, choices=ANSWER_CHOICES))

    return statement
