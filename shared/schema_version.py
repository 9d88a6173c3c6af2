"""Whether a service's schema is already at its newest migration, asked without alembic.

Most starts find nothing to migrate. Alembic would still take about 0.3 s of CPU to import and
a connection per service to say so; reading the revision ids from the migration files (they
are parsed, not imported) and one row from the database takes a few milliseconds. Anything
unexpected (no version table yet, a branched history, an error) means "not current", and
alembic then does what it always did.
"""

from __future__ import annotations

import ast
from pathlib import Path


def head_revision(migrations: Path) -> str | None:
    """The revision no other revision builds on, in ``migrations/versions``; None unless
    there is exactly one."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (migrations / "versions").glob("*.py"):
        try:
            values = _module_constants(script, ("revision", "down_revision"))
        except (SyntaxError, ValueError):  # not plain literals: leave it to alembic
            return None
        if "revision" not in values:
            continue
        revisions.add(values["revision"])
        down = values.get("down_revision")
        parents.update(down if isinstance(down, (tuple, list)) else [down])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def schema_is_current(database_url: str, *, schema: str, migrations: Path) -> bool:
    """True when ``schema``'s alembic version is the head of ``migrations``."""
    import psycopg

    head = head_revision(migrations)
    if head is None:
        return False
    url = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    try:
        with psycopg.connect(url, connect_timeout=10) as conn:
            rows = conn.execute(f'SELECT version_num FROM "{schema}".alembic_version').fetchall()
    except psycopg.Error:  # no such schema or table yet, or a database not up: alembic decides
        return False
    return rows == [(head,)]


def _module_constants(script: Path, names: tuple[str, ...]) -> dict:
    """The literal values assigned to ``names`` at the top level of ``script``."""
    values = {}
    for node in ast.parse(script.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name) and target.id in names:
                values[target.id] = ast.literal_eval(value)
    return values
