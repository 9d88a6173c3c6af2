"""Children die with their parent: a SIGKILL of ``up`` or ``serve documents`` leaves nothing.

A PDF worker is about 60 MB; before they watched their parent, each SIGKILL left the workers
(and, while they were a multiprocessing pool, its resource tracker) running for good.
"""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from shared.embedded import free_port
from tests import stack_process as sp
from tests.conftest import TEST_SECRET

pytestmark = pytest.mark.e2e


async def test_sigkill_of_serve_documents_leaves_no_pdf_worker(
        tmp_path, nats_url, database_url, namespace):
    port, output = free_port(), tmp_path / "documents.log"
    env = {"ISO20400_NATS_URL": nats_url, "ISO20400_DATABASE_URL": database_url,
           "ISO20400_BUS_NAMESPACE": namespace, "ISO20400_SECRET_KEY": TEST_SECRET,
           "ISO20400_DOCUMENT_WORKERS": "2"}
    serve = sp.start(["serve", "documents", "--port", str(port)], output=output, env=env)
    try:
        sp.wait_healthy(serve, f"http://127.0.0.1:{port}", output=output, names=("documents",))
        children = sp.wait_for_pdf_workers(serve.pid, 2)
        assert len(sp.pdf_workers(children)) == 2, sp.describe(children)
        serve.send_signal(signal.SIGKILL)
        serve.wait(10)
        assert sp.still_running(children, timeout=5) == []
    finally:
        sp.stop(serve)


def test_sigkill_of_up_leaves_no_child_and_the_demo_then_refuses_the_dead_stack(tmp_path,
                                                                               open_tmp):
    port, output, data = free_port(), tmp_path / "up.log", open_tmp / "var"
    up = sp.start(["up", "--data", str(data), "--port", str(port)], output=output)
    try:
        sp.wait_healthy(up, f"http://127.0.0.1:{port}", output=output)
        # A whole scan, so PDF workers exist because they rendered its reports.
        demo = subprocess.run([sys.executable, "-m", "services.cli", "demo", "--data",
                               str(data), "--out", str(tmp_path / "out")], cwd=sp.ROOT,
                              capture_output=True, text=True, timeout=300)
        assert demo.returncode == 0, demo.stdout + demo.stderr
        children = sp.descendants(up.pid)
        assert sp.pdf_workers(children), sp.describe(children)
        commands = sp.describe(children)
        assert any("nats-server" in c for c in commands) and any("postgres" in c
                                                                 for c in commands)
        up.send_signal(signal.SIGKILL)
        up.wait(10)
        assert sp.still_running(children, timeout=10) == []
    finally:
        sp.stop(up)
    # The killed stack left its stack.json behind: the demo says so instead of starting another.
    demo = subprocess.run([sys.executable, "-m", "services.cli", "demo", "--data", str(data),
                           "--out", str(tmp_path / "again")], cwd=sp.ROOT, capture_output=True,
                          text=True, timeout=60)
    assert demo.returncode == 1
    assert "is not running" in demo.stderr and str(data / "stack.json") in demo.stderr
    assert "starting a fresh one" not in demo.stdout
