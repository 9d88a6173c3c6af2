"""Every response carries the security headers, errors included; pages and JSON are not cached."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from faststream.nats import NatsBroker

from shared.http import install_http
from shared.web import Sessions, install, translate
from tests.conftest import ADMIN, TEST_SECRET
from tests.flows import login
from tests.fuzz import ORIGIN, csrf_token

pytestmark = pytest.mark.integration

SECRET_IN_ERROR = "database password is hunter2"


def assert_protected(response: httpx.Response, *, cached: bool = False) -> None:
    headers = response.headers
    assert "default-src 'self'" in headers.get("content-security-policy", ""), response.url
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers.get("x-content-type-options") == "nosniff"
    assert headers.get("referrer-policy") == "same-origin"
    if not cached:
        assert "no-store" in headers.get("cache-control", ""), response.url


def break_a_route(app: FastAPI) -> None:
    """A test-only route that fails as a bug would: an exception no handler expects."""
    async def boom() -> None:
        raise RuntimeError(SECRET_IN_ERROR)

    app.add_api_route("/test-only/boom", boom)
    app.add_api_route("/test-only/api/boom", boom)


async def test_pages_json_and_every_error_carry_the_security_headers(stack):
    break_a_route(stack.app)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=stack.app,
                                                             raise_app_exceptions=False),
                               base_url="http://testserver")
    await login(client, **ADMIN)
    client.headers.update({"X-CSRF-Token": await csrf_token(client), "Origin": ORIGIN})
    responses = {
        "login page": await client.get("/login"),
        "dashboard": await client.get("/admin"),
        "new scan form": await client.get("/admin/questionnaires/new"),
        "JSON": await client.get("/invitations/health"),
        "respondent page, unknown link": await client.get("/r/" + "x" * 43),
        "404": await client.get("/no/such/page"),
        "405": await client.put("/login"),
        "422 JSON": await client.post("/admin/api/questionnaires", json={"title": 1}),
        "422 page": await client.get("/admin/questionnaires/not-a-uuid"),
        "413": await client.post("/login", content=b"x" * (5 * 1024 * 1024),
                                 headers={"Content-Type": "application/x-www-form-urlencoded"}),
        "500 page": await client.get("/test-only/boom"),
        "500 JSON": await client.get("/test-only/api/boom"),
    }
    expected = {"login page": 200, "dashboard": 200, "new scan form": 200, "JSON": 200,
                "respondent page, unknown link": 404, "404": 404, "405": 405, "422 JSON": 422,
                "422 page": 422, "413": 413, "500 page": 500, "500 JSON": 500}
    assert {k: r.status_code for k, r in responses.items()} == expected
    for response in responses.values():
        assert_protected(response)
        assert SECRET_IN_ERROR not in response.text
        assert "Traceback" not in response.text
        assert "strict-transport-security" not in response.headers  # cookies not secure here
    assert_protected(await client.get("/static/style.css"), cached=True)

    page = responses["500 page"]
    assert page.headers["content-type"].startswith("text/html")
    assert translate("nl", "error.server") in page.text
    assert responses["500 JSON"].json() == {"detail": "internal server error"}
    english = await client.get("/test-only/boom?lang=en")
    assert translate("en", "error.server") in english.text


async def test_hsts_is_sent_when_cookies_are_secure_even_on_a_500():
    app = FastAPI()
    # The sessions' bucket is never reached: no route here needs an admin.
    install(app, sessions=Sessions(TEST_SECRET, secure=True, broker=NatsBroker(),
                                   namespace="unused"))
    install_http(app, hsts=True)
    break_a_route(app)
    app.add_api_route("/fine", lambda: {"ok": True})
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        for path, status in (("/fine", 200), ("/missing", 404), ("/test-only/boom", 500)):
            response = await client.get(path)
            assert response.status_code == status
            assert_protected(response)
            assert response.headers["strict-transport-security"].startswith("max-age=31536000")


async def test_the_api_is_described_at_openapi_json_and_no_blank_docs_page_is_served(stack):
    schema = await stack.client.get("/openapi.json")
    assert schema.status_code == 200
    assert "/admin/api/questionnaires" in schema.json()["paths"]
    assert (await stack.client.get("/docs")).status_code == 404
    assert (await stack.client.get("/redoc")).status_code == 404
