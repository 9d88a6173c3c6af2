"""What every service's pages share: layout, language, the admin session and error pages."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.csrf import OriginCheck
from shared.kv import BusUnavailable
from shared.sessions import (  # noqa: F401 - re-exported: the services import them from here
    SESSION_COOKIE,
    AdminSession,
    CheckedAdmin,
    CurrentAdmin,
    LoginRequired,
    Sessions,
)

SHARED = Path(__file__).parent
LANGUAGES = ("nl", "en")  # Dutch first


@cache
def catalogue(lang: str) -> dict[str, str]:
    return json.loads((SHARED / "locales" / f"{lang}.json").read_text(encoding="utf-8"))


def translate(lang: str, key: str, **values: Any) -> str:
    return translator(lang)(key, **values)


class Translator:
    """``t`` in the templates: one language's catalogue with the Dutch one behind it.

    The two catalogues are merged once per language instead of consulted one after the other on
    every lookup; ``labels`` lets a template translate what its loops repeat once per page.
    """

    def __init__(self, lang: str) -> None:
        self.texts = {**catalogue("nl"), **{k: v for k, v in catalogue(lang).items() if v}}

    def __call__(self, key: str, **values: Any) -> str:
        text = self.texts.get(key) or key
        return text.format(**values) if values else text

    def labels(self, prefix: str, values: Iterable[str]) -> dict[str, str]:
        """``{value: text of prefix + value}``, for a template to look up inside its loops."""
        return {value: self(prefix + value) for value in values}


@cache
def translator(lang: str) -> Translator:
    return Translator(lang)


def request_language(request: Request) -> str:
    lang = request.query_params.get("lang") or request.cookies.get("lang") or "nl"
    return lang if lang in LANGUAGES else "nl"


# Dates are shown in Dutch time. A deadline is the first moment after the last day, so the
# day a person reads is the one just before it.
DISPLAY_ZONE = ZoneInfo("Europe/Amsterdam")


def last_day(moment: datetime) -> str:
    return (moment - timedelta(seconds=1)).astimezone(DISPLAY_ZONE).strftime("%d-%m-%Y")


def local_time(moment: datetime) -> str:
    return moment.astimezone(DISPLAY_ZONE).strftime("%d-%m-%Y %H:%M")


def templates(service_dir: Path) -> Environment:
    env = Environment(
        loader=ChoiceLoader([
            FileSystemLoader(service_dir / "templates"),
            FileSystemLoader(SHARED / "templates"),
        ]),
        autoescape=select_autoescape(("html", "xml")),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["last_day"] = last_day
    env.filters["local_time"] = local_time
    return env


def render(env: Environment, request: Request, name: str, *, status_code: int = 200,
           **context: Any) -> HTMLResponse:
    lang = request_language(request)
    admin = getattr(request.state, "admin", None)
    html = env.get_template(name).render(
        request=request, lang=lang, admin=admin,
        t=translator(lang),
        other_lang="en" if lang == "nl" else "nl",
        **context,
    )
    response = HTMLResponse(html, status_code=status_code)
    if request.query_params.get("lang") == lang:
        response.set_cookie("lang", lang, max_age=365 * 86400, samesite="lax", httponly=True)
    return response


def install(app: FastAPI, *, sessions: Sessions) -> None:
    """Give an app the shared static files, session reader and error pages."""
    app.state.sessions = sessions
    app.mount("/static", StaticFiles(directory=SHARED / "static"), name="static")
    env = templates(SHARED)

    async def refuse_other_origin(request: Request) -> HTMLResponse | JSONResponse:
        return await http_error(request, StarletteHTTPException(403, "msg.csrf_failed"))

    # shared.http adds the security headers outside every middleware, refusals included.
    app.add_middleware(OriginCheck, refuse=refuse_other_origin)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired):  # noqa: ANN202
        if _wants_json(request):
            return JSONResponse({"detail": "login required"}, status_code=401)
        target = quote(str(request.url.path), safe="/")
        return RedirectResponse(f"/login?next={target}", status_code=303)

    @app.exception_handler(BusUnavailable)
    async def bus_unavailable(request: Request, exc: BusUnavailable):  # noqa: ANN202
        # Sessions live on the bus: without it nobody can be recognised, but nothing is wrong
        # with the request either. Ask to come back shortly instead of failing.
        return await http_error(request, StarletteHTTPException(
            503, "msg.unavailable", headers={"Retry-After": "30"}))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):  # noqa: ANN202
        if _wants_json(request):
            response = JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        else:
            key = {403: "error.forbidden", 404: "error.not_found", 410: "error.gone",
                   429: "error.too_many_requests", 503: "error.unavailable"}.get(
                exc.status_code, "error.generic")
            detail = (exc.detail if isinstance(exc.detail, str) and exc.detail.startswith("msg.")
                      else None)
            response = render(env, request, "error.html", status_code=exc.status_code,
                              title_key=key, detail_key=detail)
        response.headers.update(exc.headers or {})
        return response


def _wants_json(request: Request) -> bool:
    return "/api/" in request.url.path or "application/json" in request.headers.get("accept", "")
