"""A guard in front of every route against input that no field anywhere can hold.

The field rules (lengths, characters, dates) belong to the services' parse functions; this only
refuses NUL and lone surrogates in any query, form or JSON string and NaN/Infinity in JSON, which
PostgreSQL or the JSON encoder would otherwise turn into a 500, with a 422 naming the field; and a
body past MAX_BODY with a 413.
"""

from __future__ import annotations

import json
import logging
import math
import re
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.web import render, request_language, translate

log = logging.getLogger("iso20400.http")

# The largest honest request is a respondent's form: 84 comments of 2,000 characters, each
# character up to 9 bytes once percent-encoded.
MAX_BODY = 4 * 1024 * 1024
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def wants_json(request: Request) -> bool:
    return ("/api/" in request.url.path
            or "application/json" in request.headers.get("accept", "")
            or request.headers.get("content-type", "").startswith("application/json"))


def clean_text(text: object) -> str:
    # Error details echo what was sent; a lone surrogate in them would fail the UTF-8 encoding.
    return str(text).encode("utf-8", "replace").decode("utf-8")


class InputGuard:
    """Refuses, with a 422 naming the field, a string no column can hold; 413 past MAX_BODY."""

    def __init__(self, app: ASGIApp, *, env) -> None:  # noqa: ANN001
        self.app, self.env = app, env

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if "\x00" in scope.get("path", ""):
            await self._refuse(request, ["path"], "string_nul", scope, receive, send)
            return
        for key, value in parse_qsl(scope.get("query_string", b"").decode("latin-1"),
                                    keep_blank_values=True):
            if _UNSTORABLE.search(key) or _UNSTORABLE.search(value):
                await self._refuse(request, ["query", key], "string_nul", scope, receive, send)
                return
        if scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:
            response = _error(request, self.env, 413, "error.too_large", field=None)
            await response(scope, receive, send)
            return
        replay = _replay(body, receive)
        problem = await _body_problem(scope, body, replay)
        if problem:
            await self._refuse(request, *problem, scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _refuse(self, request: Request, loc: list, kind: str, scope: Scope,  # noqa: PLR0913
                      receive: Receive, send: Send) -> None:
        log.info("refused %s %s: %s in %s", request.method, request.url.path, kind,
                 ".".join(map(str, loc)))
        key = {"number_not_finite": "error.field_number",
               "json_too_deep": "error.field_invalid"}.get(kind, "error.field_characters")
        response = _error(request, self.env, 422, key, field=loc, kind=kind)
        await response(scope, receive, send)


def _error(request: Request, env, status: int, key: str, *, field: list | None,  # noqa: ANN001
           kind: str = "") -> Response:
    lang = request_language(request)
    name = clean_text(next((p for p in reversed(field) if isinstance(p, str)), "")) if field else ""
    if wants_json(request):
        detail: Any = translate(lang, key)
        if field:
            detail = [{"loc": [p if isinstance(p, int) else clean_text(p) for p in field],
                       "msg": translate(lang, key, field=name), "type": kind}]
        return JSONResponse({"detail": detail}, status_code=status)
    title = "error.invalid_input" if status == 422 else "error.generic"
    return render(env, request, "error.html", status_code=status, title_key=title,
                  detail_key=key, detail_values={"field": name})


async def _read_body(receive: Receive) -> bytes | None:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: wait for the disconnect, as the server would

    return replay


async def _body_problem(scope: Scope, body: bytes, receive: Receive) -> tuple[list, str] | None:
    content_type = Request(scope).headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json" or content_type.endswith("+json"):
        try:
            value = json.loads(body)
            return _json_problem(value, ["body"])
        except ValueError:
            return None  # FastAPI answers malformed JSON with its own 422
        except RecursionError:
            return ["body"], "json_too_deep"
    if content_type == "application/x-www-form-urlencoded" and b"\x00" not in body \
            and b"%00" not in body:
        # Percent-decoding replaces what is not UTF-8, so no lone surrogate comes out of such a
        # form: only NUL could, as itself or as %00. Without either there is nothing to find,
        # and the route is the only one to parse the form (the respondent's save: 84 fields).
        return None
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        request = Request(scope, receive)
        try:
            form = await request.form()
        except Exception:  # noqa: BLE001 - the route parses it again and answers 400
            return None
        try:
            for key, value in form.multi_items():
                text = value.filename or "" if isinstance(value, UploadFile) else value
                if _UNSTORABLE.search(key) or _UNSTORABLE.search(text):
                    return ["body", key], "string_nul"
        finally:
            await form.close()
    return None


def _json_problem(value: Any, loc: list) -> tuple[list, str] | None:
    if isinstance(value, str):
        return (loc, "string_nul") if _UNSTORABLE.search(value) else None
    if isinstance(value, float) and not math.isfinite(value):
        return loc, "number_not_finite"
    items = value.items() if isinstance(value, dict) else \
        enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if isinstance(key, str) and _UNSTORABLE.search(key):
            return [*loc, key], "string_nul"
        if found := _json_problem(item, [*loc, key]):
            return found
    return None
