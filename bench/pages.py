"""The respondent's page against a bare FastAPI + Jinja2 page, both one uvicorn worker.

The product runs as ``iso20400 serve responses`` (one process); the bare page is
``bench/bare_page.py``. Both run uvicorn's defaults as installed (h11, asyncio loop) with no access
log. Load comes from wrk (Debian package ``wrk``): saturated with 10 connections, then at a fixed
half of the saturated rate, as wrk2 sends it: a small Lua script keeps one schedule of evenly
spaced requests for all connections, and a connection that is free takes the next moment on it.
A slow answer does not hold the next requests back (the rate stays fixed, open loop) as long as
a connection is free, so the paced runs have 50; a request that still found every connection
busy would go out late, its wait left out of wrk's latency, and fails the run. Product and bare
alternate within each round.

    .venv/bin/python -m bench.pages [--rounds 3]
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import psycopg

from bench import bare_page
from bench.common import Comparison, Servers, median, run_alone
from shared.content import CURRENT_VERSION, content
from shared.tokens import hash_token, new_token
from tests.servers import fresh_database, fresh_namespace, remove_namespace

CONNECTIONS = 10  # saturated
PACED_CONNECTIONS = 50  # enough that a request never waits for a free one at half the rate
SECONDS = int(os.environ.get("BENCH_PAGES_SECONDS", "8"))
TOKENS = 200  # POSTs rotate over them, so concurrent saves never wait on one row lock
HERE = Path(__file__).parent
VENV_BIN = Path(sys.executable).parent

# Each request takes the next link; a POST sends the same form as a respondent's save.
LUA = """
local tokens = {%(tokens)s}
local n = 0
local interval = %(interval_ms)s
wrk.method = "%(method)s"
wrk.body = "%(body)s"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Origin"] = "%(origin)s"
function request()
  n = n + 1
  return wrk.format(nil, "/r/" .. tokens[(n %% #tokens) + 1])
end
-- Paced: one schedule of evenly spaced requests for all connections (wrk2's constant rate);
-- each connection that is free takes the next moment on it and waits for it.
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock, bench_timespec *now);
]]
local clock = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, clock)  -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end
local due = nil  -- when the next request on the schedule goes out
late = 0
function delay()
  if interval == 0 then return 0 end
  local now = now_ms()
  due = due or now
  local wait = due - now
  due = due + interval
  if wait < -1 then late = late + 1 end
  return math.max(0, math.floor(wait + 0.5))
end
local threads = {}
function setup(thread) table.insert(threads, thread) end
function done()
  local count = 0
  for _, thread in ipairs(threads) do count = count + thread:get("late") end
  io.write(string.format("Late requests: %%d\\n", count))
end
"""


def compare(servers: Servers, *, rounds: int) -> list[Comparison]:
    if shutil.which("wrk") is None:
        raise RuntimeError("bench.pages needs wrk: apt-get install -y wrk")
    tokens = [new_token() for _ in range(TOKENS)]
    with fresh_database(servers.postgres_url) as database_url:
        namespace = fresh_namespace()
        try:
            with _product(servers, database_url, namespace, tokens) as product, \
                    _bare(database_url, tokens) as bare:
                return _measure(product=product, bare=bare, rounds=rounds)
        finally:
            asyncio.run(remove_namespace(servers.nats_url, namespace))


def _measure(*, product: _Target, bare: _Target, rounds: int) -> list[Comparison]:
    saturated: dict[tuple[str, str], list[float]] = {}
    paced: dict[tuple[str, str], list[dict[str, float]]] = {}
    for _ in range(rounds):
        for method in ("GET", "POST"):
            for target in (product, bare):
                result = _wrk(target, method=method)
                saturated.setdefault((target.name, method), []).append(result["rps"])
    for _ in range(rounds):
        for method in ("GET", "POST"):
            for target in (product, bare):
                rate = median(saturated[(target.name, method)]) / 2
                result = _wrk(target, method=method, rate=rate)
                paced.setdefault((target.name, method), []).append(result)
    rows = []
    for method, what in (("GET", "respondent page GET"), ("POST", "respondent save POST")):
        p, b = median(saturated[("product", method)]), median(saturated[("bare", method)])
        rows.append(Comparison(f"{what}, saturated", p, b, "req/s", "ratio ≥ 1.0", p >= b))
    for method in ("GET", "POST"):
        p50 = median([r["p50"] for r in paced[("product", method)]])
        p99 = median([r["p99"] for r in paced[("product", method)]])
        bare99 = median([r["p99"] for r in paced[("bare", method)]])
        rows.append(Comparison(
            f"{method} p99 at 50% of saturation (product p50 {p50:.1f} ms)", p99, bare99,
            "ms", "product p99 ≤ 2× its p50", p99 <= 2 * p50))
    return rows


class _Target:
    def __init__(self, name: str, port: int, statement_ids: list[str], tokens: list[str]) -> None:
        self.name, self.port = name, port
        self.origin = f"http://127.0.0.1:{port}"
        self.tokens = tokens
        # A save of every statement, with a short comment on every fourth.
        self.body = urllib.parse.urlencode(
            [(f"answer-{sid}", "deels") for sid in statement_ids]
            + [(f"comment-{sid}", "Staat in het inkoopbeleid van 2025.")
               for sid in statement_ids[::4]]
            + [("action", "save")])


def _wrk(target: _Target, *, method: str, rate: float | None = None) -> dict[str, float]:
    """Saturated, or ``rate`` requests a second on one schedule."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA % {
            "tokens": ", ".join(f'"{t}"' for t in target.tokens),
            "interval_ms": 1000 / rate if rate else 0, "method": method,
            "body": target.body if method == "POST" else "", "origin": target.origin})
    connections = PACED_CONNECTIONS if rate else CONNECTIONS
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{SECONDS}s", "--timeout", "10s", "--latency",
             "-s", script.name,
             f"{target.origin}/"], capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"{target.name} {method} answered with errors:\n{out}")
    if rate and int(re.search(r"Late requests: (\d+)", out).group(1)):
        raise RuntimeError(f"{target.name} {method}: requests went out late, every connection"
                           f" busy; wrk's latency would leave their wait out:\n{out}")
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50": _ms(re.search(r"\s50%\s+(\S+)", out).group(1)),
            "p99": _ms(re.search(r"\s99%\s+(\S+)", out).group(1))}


def _ms(figure: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", figure).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


@contextmanager
def _product(servers: Servers, database_url: str, namespace: str,
             tokens: list[str]) -> Iterator[_Target]:
    port = _free_port()
    env = {**os.environ, "ISO20400_DATABASE_URL": database_url,
           "ISO20400_NATS_URL": servers.nats_url, "ISO20400_BUS_NAMESPACE": namespace,
           "ISO20400_SECRET_KEY": f"bench-{uuid.uuid4().hex}{uuid.uuid4().hex}",
           "ISO20400_LINK_GUESSES_PER_MINUTE": "20"}
    command = [str(VENV_BIN / "iso20400"), "serve", "responses", "--port", str(port)]
    with _running(command, env=env, port=port, path="/responses/health"):
        _seed_product(database_url, tokens)
        ids = [s.id for s in content(CURRENT_VERSION).statements]
        yield _Target("product", port, ids, tokens)


def _seed_product(database_url: str, tokens: list[str]) -> None:
    """One questionnaire and an invitation per link, as the events would have left them."""
    questionnaire, organisation = uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO responses.questionnaires (id, organisation_id, organisation_name, title,"
            " content_version, deadline) VALUES (%s, %s, %s, %s, %s, %s)",
            (questionnaire, organisation, "Gemeente Voorbeeldstad", "MVI-scan 2026",
             CURRENT_VERSION, datetime.now(UTC) + timedelta(days=10)))
        invitations = [(uuid.uuid4(), hash_token(token), f"Respondent {n}")
                       for n, token in enumerate(tokens)]
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO responses.invitations (id, questionnaire_id, organisation_id,"
                " token_hash, respondent_name) VALUES (%s, %s, %s, %s, %s)",
                [(i, questionnaire, organisation, h, name) for i, h, name in invitations])
            cur.executemany("INSERT INTO responses.links (token_hash, invitation_id) "
                            "VALUES (%s, %s)", [(h, i) for i, h, _ in invitations])


@contextmanager
def _bare(database_url: str, tokens: list[str]) -> Iterator[_Target]:
    port = _free_port()
    bare_page.setup(database_url, tokens=tokens)
    command = [sys.executable, str(HERE / "bare_page.py"), "serve", database_url,
               "--port", str(port)]
    with _running(command, env=dict(os.environ), port=port, path=f"/r/{tokens[0]}"):
        yield _Target("bare", port, bare_page.STATEMENT_IDS, tokens)


@contextmanager
def _running(command: list[str], *, env: dict[str, str], port: int, path: str) -> Iterator[None]:
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_until_serving(process, log, port=port, path=path)
            yield
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_serving(process: subprocess.Popen, log: IO[bytes], *, port: int,
                        path: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2):
                return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError(f"{process.args[:3]} did not start:\n"
                                   f"{log.read().decode(errors='replace')[-3000:]}") from None
            time.sleep(0.2)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    run_alone(compare, __doc__)
