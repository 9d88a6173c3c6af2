"""Schemathesis against the whole in-process stack, logged in as an admin.

Hypothesis generates the cases in a worker thread; every request goes through httpx's ASGI
transport on the event loop that runs the stack, so the app, its engines and its broker stay on
the loop they were made on. The run is bounded by examples and by time.
"""

from __future__ import annotations

import asyncio
import time
from datetime import date, timedelta
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as with_seed
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from tests.flows import CSRF

ORIGIN = "http://testserver"
# Logging out mid-run would leave the rest of the run testing the login redirect only.
SKIPPED = {("POST", "/logout")}
BATCH = 200


@dataclass
class FuzzReport:
    cases: int = 0
    seconds: float = 0.0
    statuses: Counter = field(default_factory=Counter)
    by_operation: Counter = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    nonconforming: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{self.cases} cases in {self.seconds:.1f}s, statuses {dict(self.statuses)}, "
                f"{len(self.server_errors)} server errors, "
                f"{len(self.nonconforming)} responses not matching the schema")


async def csrf_token(client: httpx.AsyncClient) -> str:
    """The session's CSRF token: from the session endpoint when there is one, else a form."""
    session = await client.get("/admin/api/session")
    if session.status_code == 200 and "csrf" in session.json():
        return session.json()["csrf"]
    match = CSRF.search((await client.get("/admin/questionnaires/new")).text)
    assert match, "no CSRF token found for the logged-in admin"
    return match.group(1)


def _strategies(schema, known_ids: dict[str, str]) -> st.SearchStrategy:  # noqa: ANN001
    parts = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            parts.append(operation.as_strategy(generation_mode=mode))
            # Random ids reach only the 404s; real ones reach the code behind them.
            known = {k: v for k, v in known_ids.items() if f"{{{k}}}" in operation.path}
            if known and mode is GenerationMode.POSITIVE:
                parts.append(operation.as_strategy(generation_mode=mode, path_parameters=known))
    return st.one_of(parts)


def _nudge(case, data: st.DataObject, *, created: list[str], today: date,  # noqa: ANN001
           csrf: str) -> None:
    """Steer some generated cases past the checks random data never passes.

    A random deadline is almost never within two years and random strings are never addresses,
    so without this no fuzzed scan would be created and sending (where a bad title used to
    fail every mail) would only ever see the one scan made before the run.
    """
    if case.method == "POST" and case.path in ("/admin/api/questionnaires",
                                               "/admin/questionnaires") \
            and isinstance(case.body, dict) and data.draw(st.booleans()):
        case.body["deadline"] = data.draw(
            st.dates(today, today + timedelta(days=700))).isoformat()
        respondents = data.draw(st.lists(
            st.tuples(st.text(st.characters(categories=["L", "Zs"]), max_size=40),
                      st.emails()).map(lambda t: f"{t[0]} <{t[1]}>"),
            min_size=1, max_size=3))
        as_form = case.media_type == "application/x-www-form-urlencoded"
        case.body["respondents"] = "\n".join(respondents) if as_form else respondents
    elif "{questionnaire_id}" in case.path:
        # Always the same draws, whatever was created: Hypothesis replays by the draws made.
        use_created, index = data.draw(st.booleans()), data.draw(st.integers(0, 10_000))
        if use_created and created:
            case.path_parameters = {**(case.path_parameters or {}),
                                    "questionnaire_id": created[index % len(created)]}
    # Forms carry the token in a field until every route reads the X-CSRF-Token header.
    if isinstance(case.body, dict) and case.media_type == "application/x-www-form-urlencoded" \
            and data.draw(st.booleans()):
        case.body["csrf"] = csrf


def _request_kwargs(case, csrf: str) -> dict[str, Any]:  # noqa: ANN001
    kwargs = case.as_transport_kwargs(base_url=ORIGIN)
    kwargs.pop("cookies", None)  # the client's own session cookie is what counts
    headers = {**(kwargs.pop("headers", None) or {}), "X-CSRF-Token": csrf, "Origin": ORIGIN}
    out: dict[str, Any] = {"method": kwargs.pop("method"), "url": kwargs.pop("url"),
                           "params": kwargs.pop("params", None), "headers": headers}
    data = kwargs.pop("data", None)
    if isinstance(data, (bytes, str)):
        out["content"] = data
    elif data is not None:
        out["data"] = data
    for key in ("json", "files"):
        if key in kwargs:
            out[key] = kwargs.pop(key)
    return out


async def run_schemathesis(client: httpx.AsyncClient, *, max_examples: int, seconds: float,
                           known_ids: dict[str, str] | None = None,
                           seed: int | None = None) -> FuzzReport:
    """Send up to ``max_examples`` generated requests, for at most ``seconds``."""
    openapi = (await client.get("/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(openapi)
    csrf = await csrf_token(client)
    loop = asyncio.get_running_loop()
    report = FuzzReport()
    created = [v for k, v in (known_ids or {}).items() if k == "questionnaire_id"]
    today = date.today()
    started = time.monotonic()
    stop_at = started + seconds

    async def send(case) -> httpx.Response:  # noqa: ANN001
        return await asyncio.wait_for(client.request(**_request_kwargs(case, csrf)), 30)

    def fuzz(case, data: st.DataObject) -> None:  # noqa: ANN001
        # The same draws whatever the clock says: Hypothesis replays cases by their draws.
        _nudge(case, data, created=created, today=today, csrf=csrf)
        if time.monotonic() > stop_at:
            return
        response = asyncio.run_coroutine_threadsafe(send(case), loop).result()
        if response.status_code == 201 and "id" in response.json():
            created.append(response.json()["id"])
        report.cases += 1
        report.statuses[response.status_code] += 1
        report.by_operation[(case.method, case.path, response.status_code)] += 1
        where = f"{case.method} {case.formatted_path}"
        if response.status_code >= 500:
            report.server_errors.append(f"{where} -> {response.status_code}\n"
                                        f"{case.as_curl_command(base_url=ORIGIN)}")
        elif "/api/" in case.path:
            try:
                case.validate_response(response, checks=[content_type_conformance,
                                                          response_schema_conformance])
            except AssertionError as exc:
                report.nonconforming.append(f"{where}: {str(exc)[:500]}")

    # Hypothesis has no time limit: run batches with successive seeds until either bound is
    # reached. Fixed seeds keep a CI run repeatable.
    strategy = _strategies(schema, known_ids or {})
    batch, remaining = 0, max_examples
    while remaining > 0 and time.monotonic() < stop_at:
        size = min(BATCH, remaining)
        run = with_seed((seed or 0) + batch)(settings(
            max_examples=size, deadline=None, database=None, derandomize=False,
            phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
        )(given(case=strategy, data=st.data())(fuzz)))
        await asyncio.to_thread(run)
        batch, remaining = batch + 1, remaining - size
    report.seconds = time.monotonic() - started
    return report
