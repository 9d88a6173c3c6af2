"""Folders for stacks started as processes.

pytest's ``tmp_path`` sits under a private folder (``/tmp/pytest-of-root`` is 700). As root, the
embedded PostgreSQL would then keep its data under the product folder (/var/lib/iso20400, see
shared/pgaccess.py): these tests use folders every user may pass through instead, and a product
folder of their own, and remove both.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest


@pytest.fixture
def open_tmp() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="iso20400-e2e-", dir="/tmp"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(autouse=True)
def own_product_home(monkeypatch) -> Path:  # noqa: ANN001
    home = Path(tempfile.mkdtemp(prefix="iso20400-home-", dir="/tmp"))
    home.chmod(0o755)
    monkeypatch.setenv("ISO20400_EMBEDDED_HOME", str(home))
    yield home
    shutil.rmtree(home, ignore_errors=True)
