"""``iso20400 migrate`` as an operator runs it, against a fresh database."""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg
import pytest

from services.cli import SERVICES
from tests.conftest import TEST_SECRET

pytestmark = pytest.mark.integration


def migrate(database_url: str, *names: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "services.cli", "migrate", *names],
                          capture_output=True, text=True, timeout=180,
                          env=os.environ | {"ISO20400_DATABASE_URL": database_url,
                                            "ISO20400_SECRET_KEY": TEST_SECRET})


def test_migrate_without_names_migrates_every_service(database_url):
    done = migrate(database_url)
    assert done.returncode == 0, done.stderr
    assert sorted(done.stdout.split("\n")[:-1]) == sorted(f"migrated {n}" for n in SERVICES)
    with psycopg.connect(database_url) as conn:
        for schema in SERVICES:
            version = conn.execute(f'SELECT version_num FROM "{schema}".alembic_version')
            assert version.fetchone() is not None, schema


def test_migrate_names_an_unknown_service_and_touches_nothing(database_url):
    done = migrate(database_url, "scoring", "billing")
    assert done.returncode == 2
    assert "unknown service billing" in done.stderr and "documents" in done.stderr
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT schema_name FROM information_schema.schemata").fetchall()
    schemas = {name for (name,) in rows}
    assert not schemas & set(SERVICES)
