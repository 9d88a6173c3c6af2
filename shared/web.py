"""What every service's pages share: layout, language, the admin session and error pages."""

from __future__ import annotations

import hmac
import json
import secrets
import uuid
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from itsdangerous import BadSignature, URLSafeTimedSerializer
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

SHARED = Path(__file__).parent
LANGUAGES = ("nl", "en")  # Dutch first
SESSION_COOKIE = "iso20400_session"
SESSION_MAX_AGE = 8 * 3600


@cache
def catalogue(lang: str) -> dict[str, str]:
    return json.loads((SHARED / "locales" / f"{lang}.json").read_text(encoding="utf-8"))


def translate(lang: str, key: str, **values: Any) -> str:
    text = catalogue(lang).get(key) or catalogue("nl").get(key) or key
    return text.format(**values) if values else text


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
        t=lambda key, **v: translate(lang, key, **v),
        other_lang="en" if lang == "nl" else "nl",
        **context,
    )
    response = HTMLResponse(html, status_code=status_code)
    if request.query_params.get("lang") == lang:
        response.set_cookie("lang", lang, max_age=365 * 86400, samesite="lax", httponly=True)
    return response


class AdminSession(BaseModel):
    model_config = ConfigDict(frozen=True)

    admin_id: uuid.UUID
    organisation_id: uuid.UUID
    name: str
    csrf: str


class LoginRequired(Exception):
    """Raised by ``CurrentAdmin`` when the caller has no valid admin session."""


class Sessions:
    """Signed, time-limited admin sessions; issued by invitations, checked by every service."""

    def __init__(self, secret_key: str, *, secure: bool) -> None:
        self._signer = URLSafeTimedSerializer(secret_key, salt="iso20400-admin-session")
        self.secure = secure

    def issue(self, response, *, admin_id: uuid.UUID, organisation_id: uuid.UUID,  # noqa: ANN001
              name: str) -> None:
        session = AdminSession(admin_id=admin_id, organisation_id=organisation_id, name=name,
                               csrf=secrets.token_urlsafe(24))
        response.set_cookie(
            SESSION_COOKIE, self._signer.dumps(session.model_dump(mode="json")),
            max_age=SESSION_MAX_AGE, httponly=True, samesite="lax", secure=self.secure,
        )

    def read(self, request: Request) -> AdminSession | None:
        raw = request.cookies.get(SESSION_COOKIE)
        if not raw:
            return None
        try:
            return AdminSession.model_validate(self._signer.loads(raw, max_age=SESSION_MAX_AGE))
        except (BadSignature, ValueError):
            return None


def _current_admin(request: Request) -> AdminSession:
    admin = request.app.state.sessions.read(request)
    if admin is None:
        raise LoginRequired()
    request.state.admin = admin
    return admin


CurrentAdmin = Annotated[AdminSession, Depends(_current_admin)]


def _checked_csrf(admin: CurrentAdmin, csrf: Annotated[str, Form()] = "") -> AdminSession:
    # Bytes: compare_digest refuses non-ASCII str with a TypeError, which would be a 500.
    if not hmac.compare_digest(csrf.encode(), admin.csrf.encode()):
        raise StarletteHTTPException(403, "csrf")
    return admin


# Use on every state-changing admin form: the session plus a matching form token.
CheckedAdmin = Annotated[AdminSession, Depends(_checked_csrf)]


def install(app: FastAPI, *, sessions: Sessions) -> None:
    """Give an app the shared static files, session reader and error pages."""
    app.state.sessions = sessions
    app.mount("/static", StaticFiles(directory=SHARED / "static"), name="static")
    env = templates(SHARED)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired):  # noqa: ANN202
        if _wants_json(request):
            return JSONResponse({"detail": "login required"}, status_code=401)
        target = quote(str(request.url.path), safe="/")
        return RedirectResponse(f"/login?next={target}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):  # noqa: ANN202
        if _wants_json(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        key = {403: "error.forbidden", 404: "error.not_found", 410: "error.gone"}.get(
            exc.status_code, "error.generic")
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail.startswith("msg.") else None
        return render(env, request, "error.html", status_code=exc.status_code,
                      title_key=key, detail_key=detail)


def _wants_json(request: Request) -> bool:
    return "/api/" in request.url.path or "application/json" in request.headers.get("accept", "")
