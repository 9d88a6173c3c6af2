"""Cross-site request forgery: the Origin check on every state-changing request, and the
pre-session token of the login form.

Admin routes also check the session's own token (``shared.sessions.CheckedAdmin``); the Origin
check covers what has no session: the login form and the respondent's personal link.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.sessions import tokens_match

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOGIN_CSRF_COOKIE = "iso20400_login_csrf"


def same_origin(origin: str, host: str | None) -> bool:
    """Whether an Origin header names the host the request was sent to.

    The scheme is not compared: behind a TLS-terminating ingress the service sees http while the
    browser says https, and a different scheme on the same host is not another site's page.
    """
    if not host:
        return False
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False  # "null" (sandboxed frames, file://) and anything odd
    default = {"http": ":80", "https": ":443"}[parts.scheme]
    return parts.netloc.lower().removesuffix(default) == host.lower().removesuffix(default)


class OriginCheck:
    """Refuses, with 403, every POST, PUT, PATCH and DELETE whose Origin is another site."""

    def __init__(self, app: ASGIApp, *, refuse: Callable[[Request], Awaitable[Response]]) -> None:
        self.app = app
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in UNSAFE_METHODS:
            headers = Headers(scope=scope)
            origin = headers.get("origin")
            if origin is not None and not same_origin(origin, headers.get("host")):
                response = await self.refuse(Request(scope, receive))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class LoginToken:
    """Double-submit token for the login form: a cookie and a hidden field that must match.

    Another site can make a browser post the login form, but it can neither read nor set this
    cookie, so it cannot log a victim into the attacker's account.
    """

    def __init__(self, *, secure: bool) -> None:
        self.secure = secure

    def for_form(self, request: Request) -> str:
        current = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        return current if 20 <= len(current) <= 100 else secrets.token_urlsafe(24)

    def remember(self, response: Response, token: str) -> None:
        response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, httponly=True,
                            samesite="strict", secure=self.secure)

    def valid(self, request: Request, sent: str) -> bool:
        expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        return bool(expected) and bool(sent) and tokens_match(sent, expected)
