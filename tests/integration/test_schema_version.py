"""A restart that finds a schema at its newest migration skips alembic; a new one still runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from shared.db import run_migrations
from shared.schema_version import head_revision, schema_is_current

pytestmark = pytest.mark.integration

SCORING = Path(__file__).resolve().parents[2] / "services" / "scoring" / "migrations"
ADDED_LATER = '''"""A table added after the first start."""

from alembic import op

revision = "score9999"
down_revision = "{head}"


def upgrade() -> None:
    op.execute("CREATE TABLE scoring.added_later (id int)")
'''


def test_a_migration_added_since_the_last_start_is_applied_at_the_next(database_url, tmp_path):
    migrations = tmp_path / "migrations"
    shutil.copytree(SCORING, migrations, ignore=shutil.ignore_patterns("__pycache__"))
    assert not schema_is_current(database_url, schema="scoring", migrations=migrations)
    run_migrations(database_url, schema="scoring", migrations=migrations)
    assert schema_is_current(database_url, schema="scoring", migrations=migrations)

    head = head_revision(migrations)
    (migrations / "versions" / "9999_added_later.py").write_text(ADDED_LATER.format(head=head))
    assert head_revision(migrations) == "score9999"
    assert not schema_is_current(database_url, schema="scoring", migrations=migrations)
    run_migrations(database_url, schema="scoring", migrations=migrations)

    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT to_regclass('scoring.added_later')").fetchone() != (None,)
        version = conn.execute("SELECT version_num FROM scoring.alembic_version").fetchall()
    assert version == [("score9999",)]


def test_a_history_with_two_heads_is_left_to_alembic(tmp_path):
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    (versions / "a.py").write_text('revision = "a"\ndown_revision = None\n')
    (versions / "b.py").write_text('revision: str = "b"\ndown_revision = "a"\n')
    (versions / "c.py").write_text('revision = "c"\ndown_revision = "a"\n')
    assert head_revision(tmp_path / "migrations") is None
    (versions / "d.py").write_text('revision = "d"\ndown_revision = ("b", "c")\n')
    assert head_revision(tmp_path / "migrations") == "d"
