"""What a newcomer sees in the terminal of ``iso20400 up`` (``./dev run``) while a scan runs."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys

import pytest

from shared.embedded import free_port
from tests import stack_process as sp

pytestmark = pytest.mark.e2e

BANNER = re.compile(r"try it, in a second terminal here: (.+)")


def run_demo(command: list[str], out) -> subprocess.CompletedProcess:  # noqa: ANN001
    return subprocess.run([*command, "--out", str(out)], cwd=sp.ROOT, capture_output=True,
                          text=True, timeout=300)


def test_up_is_quiet_while_a_scan_runs_and_ctrl_c_stops_everything_without_a_traceback(
        tmp_path, open_tmp):
    port, output = free_port(), tmp_path / "terminal.txt"
    up = sp.start(["up", "--data", str(open_tmp / "var"), "--port", str(port)], output=output)
    try:
        ready = sp.wait_healthy(up, f"http://127.0.0.1:{port}", output=output)
        children = sp.wait_for_pdf_workers(up.pid, 1)
        # The banner's hint, run exactly as printed, from the checkout, in a "new terminal".
        hint = BANNER.search(output.read_text())
        assert hint, output.read_text()
        command = shlex.split(hint.group(1))
        assert command[0] != "iso20400"  # not on a new terminal's PATH
        demo = run_demo(command, tmp_path / "out")
        assert demo.returncode == 0, demo.stdout + demo.stderr
        assert "scan completed" in demo.stdout
        children = sp.descendants(up.pid)  # now with PostgreSQL's backends too

        os.killpg(up.pid, signal.SIGINT)  # what Ctrl-C does: the whole foreground group
        assert up.wait(60) == 130
    finally:
        sp.stop(up)
    text = output.read_text()
    lines = [line for line in text.splitlines() if line.strip()]
    print(f"ready in {ready:.1f}s; {len(lines)} lines:\n{text}")
    assert "\x1b" not in text  # no colour codes in a file
    assert "Traceback" not in text and "KeyboardInterrupt" not in text
    # The banner (5 lines) and a handful of log lines, not one per message, mail or request.
    assert len(lines) <= 12, text
    assert "ISO 20400 Scan is running at" in text
    assert not sp.still_running(children, timeout=10)
    assert not any(("nats-server" in c or "postgres" in c) for c in sp.describe(children))


def test_json_logs_are_one_object_per_line_and_sigterm_exits_0(tmp_path, open_tmp):
    port, output = free_port(), tmp_path / "log.jsonl"
    up = sp.start(["up", "--data", str(open_tmp / "var"), "--port", str(port), "--verbose"],
                  output=output, env={"ISO20400_LOG_FORMAT": "json"})
    try:
        sp.wait_healthy(up, f"http://127.0.0.1:{port}", output=output)
        demo = run_demo([sys.executable, "-m", "services.cli", "demo", "--data",
                         str(open_tmp / "var")], tmp_path / "out")
        assert demo.returncode == 0, demo.stdout + demo.stderr
        children = sp.descendants(up.pid)
        up.send_signal(signal.SIGTERM)
        assert up.wait(60) == 0
    finally:
        sp.stop(up)
    lines = [line for line in output.read_text().splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line, verbose included
    assert len(entries) > 50  # --verbose shows the messages and requests
    for entry in entries:
        assert {"time", "level", "logger", "message"} <= entry.keys()
    assert any(e["message"].startswith("running at http://127.0.0.1") for e in entries)
    assert not any("password" in e["message"] and "json" not in e["message"] for e in entries)
    assert entries[-1]["message"] == "stopped"
    assert not sp.still_running(children, timeout=10)
