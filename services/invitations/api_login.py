"""Logging in and out, and the admin's own sessions."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from jinja2 import Environment
from sqlalchemy.ext.asyncio import AsyncEngine

from services.invitations import store
from services.invitations.passwords import PasswordChecker
from shared.csrf import LoginToken
from shared.ratelimit import Limit, Limiter
from shared.runtime import utcnow
from shared.web import CheckedAdmin, CurrentAdmin, render

_LOGIN_FAILED = "msg.login_failed"
# Failed logins allowed per account (whatever the address) and per client address (whatever
# the account) before further tries are refused for a while.
ACCOUNT_LIMIT = Limit(failures=5, seconds=15 * 60)
ADDRESS_LIMIT = Limit(failures=20, seconds=15 * 60)
MAX_EMAIL = 320


@dataclass(frozen=True)
class LoginGuard:
    accounts: Limiter
    addresses: Limiter

    async def retry_after(self, account: str, address: str) -> int | None:
        waits = [await self.accounts.retry_after(account),
                 await self.addresses.retry_after(address)]
        return max((w for w in waits if w), default=None)

    async def failed(self, account: str, address: str) -> None:
        await self.accounts.failed(account)
        await self.addresses.failed(address)


def client_address(request: Request) -> str:
    # Behind an ingress, uvicorn's --forwarded-allow-ips makes this the browser's address.
    return request.client.host if request.client else "unknown"


def safe_next(target: str) -> str:
    # Only local paths: never redirect a fresh login to another site.
    return target if target.startswith("/") and not target.startswith(("//", "/\\")) \
        else "/admin"


def build_router(*, engine: AsyncEngine, env: Environment, passwords: PasswordChecker,
                 guard: LoginGuard, login_token: LoginToken) -> APIRouter:
    router = APIRouter()

    def login_page(request: Request, *, status_code: int = 200, next_: str, email: str = "",
                   error: str | None = None, **values: object):  # noqa: ANN202
        token = login_token.for_form(request)
        response = render(env, request, "login.html", status_code=status_code, next=next_,
                          error=error, error_values=values, email=email, csrf=token)
        login_token.remember(response, token)
        return response

    @router.get("/login", tags=["pages"])
    async def login_form(request: Request, next: str = "/admin"):  # noqa: A002, ANN202
        return login_page(request, next_=safe_next(next))

    @router.post("/login", tags=["pages"])
    async def login(request: Request, email: Annotated[str, Form()] = "",
                    password: Annotated[str, Form()] = "",
                    next: Annotated[str, Form()] = "/admin",  # noqa: A002
                    csrf: Annotated[str, Form()] = ""):  # noqa: ANN202
        target = safe_next(next)
        if not login_token.valid(request, csrf):
            return login_page(request, status_code=403, next_=target, email=email,
                              error="msg.login_form_expired")
        account, address = email.strip().lower(), client_address(request)
        if wait := await guard.retry_after(account, address):
            response = login_page(request, status_code=429, next_=target, email=email,
                                  error="msg.login_rate_limited", minutes=math.ceil(wait / 60))
            response.headers["Retry-After"] = str(wait)
            return response
        row = None
        if len(account) <= MAX_EMAIL and "\x00" not in account:
            async with engine.connect() as conn:
                row = await store.admin_by_email(conn, account)
        # An unknown address costs the same hash as a known one: timing tells nothing.
        ok, rehash = await passwords.verify(password, row.password_hash if row else None)
        if not ok:
            await guard.failed(account, address)
            return login_page(request, status_code=401, next_=target, email=email,
                              error=_LOGIN_FAILED)
        if rehash:
            new_hash = await passwords.hash(password)
            async with engine.begin() as conn:
                await store.replace_password_hash(conn, row.id, new_hash)
        await guard.accounts.forget(account)
        response = RedirectResponse(target, status_code=303)
        await request.app.state.sessions.issue(
            response, admin_id=row.id, organisation_id=row.organisation_id, name=row.name,
            now=utcnow())
        return response

    @router.post("/logout", tags=["pages"])
    async def logout(request: Request, admin: CheckedAdmin):  # noqa: ANN202
        sessions = request.app.state.sessions
        await sessions.end(admin.admin_id, admin.key)
        response = RedirectResponse("/login", status_code=303)
        sessions.forget_cookie(response)
        return response

    @router.get("/admin/api/session", tags=["api"])
    async def session(admin: CurrentAdmin) -> dict:
        """The caller's session, with the token every state-changing request must send as
        ``X-CSRF-Token`` (or form field ``csrf``)."""
        return {"csrf": admin.csrf, "admin": str(admin.admin_id), "name": admin.name,
                "organisation_id": str(admin.organisation_id),
                "expires_at": admin.expires_at.isoformat()}

    @router.get("/admin/sessions", tags=["pages"])
    async def sessions_page(request: Request, admin: CurrentAdmin):  # noqa: ANN202
        sessions = await request.app.state.sessions.of_admin(admin.admin_id)
        notice = request.query_params.get("notice")
        return render(env, request, "sessions.html", sessions=sessions,
                      notice=notice if notice in ("ended", "ended_others") else None)

    @router.post("/admin/sessions/end", tags=["pages"])
    async def end_session(request: Request, admin: CheckedAdmin,
                          session: Annotated[str, Form()] = ""):  # noqa: ANN202
        await request.app.state.sessions.end(admin.admin_id, session)
        return RedirectResponse("/admin/sessions?notice=ended", status_code=303)

    @router.post("/admin/sessions/end-others", tags=["pages"])
    async def end_others(request: Request, admin: CheckedAdmin):  # noqa: ANN202
        await request.app.state.sessions.end_others(admin)
        return RedirectResponse("/admin/sessions?notice=ended_others", status_code=303)

    return router
