"""A PDF render process: HTML in on stdin, PDF out on stdout. Imports only WeasyPrint.

The documents service starts a few of these (``render.PdfRenderer``) as
``python -P pdf_worker.py <parent pid>``: a fresh interpreter that does not import the product,
so each process costs what WeasyPrint costs and nothing more. Every message is a frame: a
status byte, a 4-byte big-endian length, then the bytes: the HTML from the parent; the PDF back,
or the error as UTF-8 text when the status says the render failed.

The URL fetcher refuses every URL: reports embed their styles, and nothing a user typed can make
the renderer reach out to another host (or to a local file).
"""

from __future__ import annotations

import functools
import os
import struct
import sys
import threading
import time
from typing import BinaryIO

OK, FAILED = 0, 1
HEADER = struct.Struct(">BI")
# The first render loads fonts and styles (seconds on a busy machine): a worker pays that at
# start, on a page that uses what reports use.
WARM_UP = """<style>@page { @bottom-right { content: counter(page) " / " counter(pages) } }
body { font-family: "DejaVu Sans", sans-serif }</style>
<h1>Warm</h1><table><tr><th>up</th><td><b>bold</b> <i>italic</i> 12 %</td></tr></table>"""


@functools.cache
def _weasyprint():  # noqa: ANN202
    """WeasyPrint, imported on first use: the service imports this module only for its frame
    format, and must not pay a second of start-up for a library only the workers use.

    One font configuration serves every render: a new one per render (WeasyPrint's default)
    loads the fonts into a new Pango font map each time, about 15 % of a report's CPU. Reports
    declare no @font-face, so nothing one report adds to it reaches the next.
    """
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import URLFetcher

    class OfflineFetcher(URLFetcher):
        def fetch(self, url: str, headers=None):  # noqa: ANN001, ANN201
            raise ValueError(f"the report renderer does not fetch resources ({url[:80]})")

    return HTML, OfflineFetcher, FontConfiguration()


def html_to_pdf(html: str) -> bytes:
    html_class, fetcher, fonts = _weasyprint()
    document = html_class(string=html, base_url=None, url_fetcher=fetcher())
    return document.write_pdf(font_config=fonts)


def write_frame(stream: BinaryIO, status: int, body: bytes) -> None:
    stream.write(HEADER.pack(status, len(body)) + body)
    stream.flush()


def read_frame(stream: BinaryIO) -> tuple[int, bytes] | None:
    """The next frame, or None once the other side has closed the pipe."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    status, length = HEADER.unpack(header)
    body = stream.read(length)
    return None if len(body) < length else (status, body)


def _exit_with_parent(parent: int, interval: float = 0.5) -> None:
    # A SIGKILL of the parent closes our stdin only once every other holder of the pipe is gone,
    # and PR_SET_PDEATHSIG follows the parent's thread, not its process: so we poll. Once the
    # parent is gone we are reparented.
    while os.getppid() == parent:
        time.sleep(interval)
    os._exit(1)


def serve(requests: BinaryIO, answers: BinaryIO) -> None:
    while (frame := read_frame(requests)) is not None:
        try:
            status, body = OK, html_to_pdf(frame[1].decode())
        except Exception as exc:  # noqa: BLE001 - the parent decides; this process goes on
            status, body = FAILED, f"{type(exc).__name__}: {exc}".encode()
        write_frame(answers, status, body)


def main() -> None:
    threading.Thread(target=_exit_with_parent, args=(int(sys.argv[1]),), daemon=True,
                     name="exit-with-parent").start()
    # Frames only on the answer pipe: whatever a library prints goes to stderr instead.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    html_to_pdf(WARM_UP)
    serve(sys.stdin.buffer, answers)


if __name__ == "__main__":
    main()
