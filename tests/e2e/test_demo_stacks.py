"""``iso20400 demo`` says clearly what is wrong with a stack and never hides it behind another."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests import stack_process as sp

pytestmark = pytest.mark.e2e


def demo(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "services.cli", "demo", *args], cwd=sp.ROOT,
                          capture_output=True, text=True, timeout=timeout,
                          env=os.environ | (env or {}))


class ScoringHasNoDatabase(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: ANN201, N802
        ok = not self.path.startswith("/scoring/")
        body = json.dumps({"ok": ok, "database": ok, "nats": True}).encode()
        self.send_response(200 if ok else 503)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # noqa: ANN002, ANN201
        pass


def test_demo_names_the_unhealthy_service_of_the_recorded_stack_and_its_log(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), ScoringHasNoDatabase)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        data = tmp_path / "var"
        data.mkdir()
        (data / "stack.json").write_text(json.dumps({
            "url": f"http://127.0.0.1:{server.server_port}", "pid": os.getpid(),
            "log": "/var/log/iso20400-up.log"}))
        (data / "demo-admin.json").write_text(json.dumps({"email": "a@b.example",
                                                          "password": "x"}))
        done = demo("--data", str(data), "--out", str(tmp_path / "out"))
    finally:
        server.shutdown()
    assert done.returncode == 1
    assert "scoring is not healthy (database down)" in done.stderr
    assert "/var/log/iso20400-up.log" in done.stderr
    assert "starting a fresh one" not in done.stdout
    assert not (tmp_path / "out").exists()


def test_a_fresh_stack_that_fails_to_start_leaves_its_log_where_the_demo_points(tmp_path):
    # An invalid setting makes `up` fail after NATS and PostgreSQL started.
    done = demo("--data", str(tmp_path / "nothing-here"), "--out", str(tmp_path / "out"),
                env={"ISO20400_STREAM_REPLICAS": "9", "TMPDIR": str(tmp_path)}, timeout=240)
    assert done.returncode == 1
    message = done.stderr
    assert "the embedded stack did not start; its log, " in message
    log = message.split("its log, ", 1)[1].split(", ends with", 1)[0]
    assert log.startswith(str(tmp_path)) and "stream_replicas" in open(log).read()
    assert "stream_replicas" in message  # the end of the log is shown right away
