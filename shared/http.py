"""What every response goes through: security headers outside the error middleware, the input
guard, and error answers that never fail themselves (a 422 that echoes NaN, a 500 traceback).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.input_guard import InputGuard, clean_text, wants_json
from shared.web import SHARED, catalogue, render, request_language, templates, translate

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"


def install_http(app: FastAPI, *, hsts: bool) -> None:
    """Security headers on every response (errors included), the input guard, safe errors."""
    env = templates(SHARED)
    build = app.build_middleware_stack

    # Starlette puts ServerErrorMiddleware outside every added middleware, so a header added
    # there would be missing from a 500. Wrapping the built stack puts the headers outermost.
    def build_with_headers() -> ASGIApp:
        return SecurityHeaders(build(), hsts=hsts)

    app.build_middleware_stack = build_with_headers  # type: ignore[method-assign]
    app.add_middleware(InputGuard, env=env)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        errors = [_plain_error(request, e) for e in exc.errors()]
        if wants_json(request):
            return JSONResponse({"detail": errors}, status_code=422)
        field = next((str(p) for p in reversed(errors[0]["loc"]) if isinstance(p, str)), "") \
            if errors else ""
        return render(env, request, "error.html", status_code=422,
                      title_key="error.invalid_input", detail_key="error.field_invalid",
                      detail_values={"field": field})

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> Response:
        # Starlette logs the traceback when it re-raises; the visitor sees a plain page.
        if wants_json(request):
            return JSONResponse({"detail": "internal server error"}, status_code=500)
        return render(env, request, "error.html", status_code=500,
                      title_key="error.generic", detail_key="error.server")


def invalid_fields(errors: dict[str, str], *, location: str = "body") -> RequestValidationError:
    """A domain parse function's errors (field -> catalogue key) as FastAPI's 422."""
    return RequestValidationError([
        {"loc": (location, field), "msg": key, "type": key} for field, key in errors.items()
    ])


def _plain_error(request: Request, error: dict[str, Any]) -> dict[str, Any]:
    """Only what is always JSON-safe: Pydantic's ``input`` and ``ctx`` may hold NaN or bytes."""
    lang = request_language(request)
    msg = error.get("msg", "")
    if isinstance(msg, str) and msg in catalogue(lang):
        msg = translate(lang, msg)
    return {"loc": [p if isinstance(p, int) else clean_text(p) for p in error.get("loc", ())],
            "msg": clean_text(msg), "type": clean_text(error.get("type", "value_error"))}


class SecurityHeaders:
    """Pure ASGI, so it also sees the responses of the error middleware it wraps."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app, self.hsts = app, hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope.get("path", "").startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                wanted = [(b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
                          (b"x-content-type-options", b"nosniff"),
                          # Not no-referrer: browsers then send "Origin: null" with every
                          # form, which the Origin check must refuse. A personal link in the
                          # URL still never reaches another site.
                          (b"referrer-policy", b"same-origin")]
                if not static:  # pages and JSON show an organisation's or a person's data
                    wanted.append((b"cache-control", b"no-store"))
                if self.hsts:
                    wanted.append((b"strict-transport-security", HSTS.encode()))
                headers += [(n, v) for n, v in wanted if n not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


