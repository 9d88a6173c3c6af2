"""What `iso20400 up` does to get ready fast: its clock, and what it does not import."""

from __future__ import annotations

import subprocess
import sys

from tests.stack_process import ROOT


def run_python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=True)
    return done.stdout


def test_ready_in_counts_from_the_start_of_the_process_not_from_an_import():
    shown = float(run_python("import time; time.sleep(0.5)\n"
                             "from services.up import seconds_since_start\n"
                             "print(seconds_since_start())"))
    assert 0.5 <= shown < 60


def test_the_services_process_leaves_weasyprint_to_the_pdf_workers():
    imported = run_python("import sys\n"
                          "from services.cli import SERVICES\n"
                          "len(SERVICES)\n"
                          "import services.documents.render\n"
                          "print('weasyprint' in sys.modules)")
    assert imported.strip() == "False"
