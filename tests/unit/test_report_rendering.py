"""The results report: what it shows, that it escapes what users typed, and that the renderer
reaches for nothing on the network."""

import asyncio
import io
import socket
import subprocess
import sys
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pytest
from markupsafe import escape
from pypdf import PdfReader

from services.documents import domain, pdf_worker
from services.documents.pdf_worker import html_to_pdf
from services.documents.render import WORKER, PdfRenderer
from services.scoring.rules import RespondentAnswers, score_scan
from shared.content import Answer, content
from shared.events import ScanCompleted
from shared.web import templates, translate

SCAN = content()
DOCUMENTS = Path(__file__).resolve().parents[2] / "services" / "documents"


def completed(title: str = "MVI-scan 2026") -> ScanCompleted:
    answers = {s.id: (Answer.VOLLEDIG if s.level <= 3 else Answer.NIET) for s in SCAN.statements}
    return ScanCompleted(
        organisation_id=uuid.uuid4(), questionnaire_id=uuid.uuid4(),
        organisation_name="Gemeente <b>Voorbeeld</b>", title=title,
        completed_at=datetime(2026, 11, 23, tzinfo=UTC), reason="all_submitted",
        respondents_invited=2, respondents_submitted=1,
        result=score_scan(SCAN, [RespondentAnswers(respondent_id="a", answers=answers)]))


def render_workers() -> list[psutil.Process]:
    return [p for p in psutil.Process().children() if str(WORKER) in p.cmdline()]


def report_html(event: ScanCompleted, language: str = "nl") -> str:
    view = domain.report_view(event, SCAN, language=language)
    return templates(DOCUMENTS).get_template("report.html").render(
        view=view, lang=language, t=lambda k, **v: translate(language, k, **v))


def test_the_report_shows_every_theme_with_its_level_in_the_chosen_language():
    event = completed()
    nl, en = report_html(event, "nl"), report_html(event, "en")
    assert "Per thema" in nl and "By theme" in en
    for theme in SCAN.themes:
        assert escape(theme.name_nl) in nl
        assert escape(theme.name_en) in en
    assert "3 · Toepassen" in nl  # levels 2 and 3 fully met, 4 not
    assert "geen certificaat" in nl and "not a certificate" in en


def test_what_users_typed_is_escaped():
    html = report_html(completed(title='<img src="http://evil.example/x.png">'))
    assert "<img" not in html
    assert "&lt;img" in html
    assert "Gemeente &lt;b&gt;Voorbeeld&lt;/b&gt;" in html


def test_the_renderer_fetches_nothing_even_when_the_html_asks_for_it(tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    connections = []

    def accept() -> None:
        for _ in range(15):
            try:
                connections.append(listener.accept())
            except TimeoutError:
                pass

    thread = threading.Thread(target=accept)
    thread.start()
    secret = tmp_path / "secret.css"
    secret.write_text("body { background: red }")
    pdf = html_to_pdf(f'<link rel="stylesheet" href="http://127.0.0.1:{port}/a.css">'
                      f'<link rel="stylesheet" href="file://{secret}">'
                      f'<style>@font-face {{ font-family: Remote; '
                      f'src: url(http://127.0.0.1:{port}/f.woff) }}</style>'
                      f'<img src="http://127.0.0.1:{port}/x.png"><p>Rapport</p>')
    thread.join()
    listener.close()
    # The @font-face left a folder in this process's font configuration: drop it now, while
    # the interpreter can still remove that folder.
    pdf_worker._weasyprint.cache_clear()
    assert connections == []
    assert pdf.startswith(b"%PDF")


def test_a_report_is_the_same_pdf_whatever_the_worker_rendered_before():
    event = completed()
    first = html_to_pdf(report_html(event, "nl"))
    html_to_pdf(report_html(completed(title="Another scan"), "en"))
    assert html_to_pdf(report_html(event, "nl")) == first


@pytest.mark.parametrize("language", ["nl", "en"])
async def test_reports_are_rendered_in_worker_processes_into_readable_pdfs(tmp_path, language):
    renderer = PdfRenderer(workers=1)
    await renderer.start()
    try:
        pdf = await renderer.render(report_html(completed(), language))
    finally:
        await renderer.stop()
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    text = "".join(page.extract_text() for page in PdfReader(path).pages)
    assert ("Resultaten ISO 20400-scan" if language == "nl" else "ISO 20400 scan results") in text
    assert "MVI-scan 2026" in text


def test_the_render_worker_imports_weasyprint_and_nothing_of_the_product():
    # Loaded the way the renderer starts it: by path, in a fresh interpreter, then rendering.
    probe = ("import runpy, sys; worker = runpy.run_path(sys.argv[1], run_name='probe'); "
             "worker['html_to_pdf']('<p>Rapport</p>'); print(' '.join(sorted(sys.modules)))")
    modules = subprocess.run([sys.executable, "-P", "-c", probe, str(WORKER)], check=True,
                             capture_output=True, text=True, timeout=120).stdout.split()
    assert "weasyprint" in modules
    product = [m for m in modules if m.split(".")[0] in (
        "services", "shared", "sqlalchemy", "faststream", "fastapi", "jinja2", "pydantic",
        "psycopg", "nats")]
    assert product == []


def test_a_document_the_worker_cannot_render_is_answered_and_the_next_one_rendered():
    requests, answers = io.BytesIO(), io.BytesIO()
    pdf_worker.write_frame(requests, pdf_worker.OK, b"<p>\xff not UTF-8</p>")
    pdf_worker.write_frame(requests, pdf_worker.OK, b"<p>Rapport</p>")
    requests.seek(0)
    pdf_worker.serve(requests, answers)
    answers.seek(0)
    failed, rendered = pdf_worker.read_frame(answers), pdf_worker.read_frame(answers)
    assert failed[0] == pdf_worker.FAILED and b"UnicodeDecodeError" in failed[1]
    assert rendered[0] == pdf_worker.OK and rendered[1].startswith(b"%PDF")
    assert pdf_worker.read_frame(answers) is None


async def test_a_worker_killed_mid_render_fails_that_render_and_is_replaced():
    renderer = PdfRenderer(workers=1)
    await renderer.start()
    try:
        rendering = asyncio.create_task(renderer.render(report_html(completed())))
        await asyncio.sleep(0.05)
        for worker in render_workers():
            worker.kill()
        with pytest.raises((asyncio.IncompleteReadError, ConnectionError)):
            await rendering
        assert (await renderer.render(report_html(completed(), "en"))).startswith(b"%PDF")
    finally:
        await renderer.stop()


async def test_the_renderer_renders_in_parallel_and_stops_its_workers():
    renderer = PdfRenderer(workers=2)
    await renderer.start()
    workers = render_workers()
    pdfs = await asyncio.gather(*(renderer.render(report_html(completed(), lang))
                                  for lang in ("nl", "en")))
    await renderer.stop()
    assert all(pdf.startswith(b"%PDF") for pdf in pdfs)
    assert len(workers) == 2
    assert not [w for w in workers if w.is_running() and w.status() != psutil.STATUS_ZOMBIE]
