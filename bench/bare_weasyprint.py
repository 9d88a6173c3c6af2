"""The bare baseline for documents: WeasyPrint in a process pool, nothing of the product.

What an engineer would write by hand to render HTML files to PDF on ``--workers`` processes.
It prints one figure:

    python bench/bare_weasyprint.py throughput --workers 2 --renders 12 nl.html en.html  # PDFs/s
    python bench/bare_weasyprint.py pair --workers 2 --pairs 5 nl.html en.html  # ms, median
    python bench/bare_weasyprint.py rss nl.html  # MB resident after one render in this process

Every pool process renders once before the clock starts (the first render loads the fonts).
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ProcessPoolExecutor, wait
from pathlib import Path

from weasyprint import HTML


def render(html: str) -> bytes:
    return HTML(string=html).write_pdf()


def warm_pool(workers: int, html: str) -> ProcessPoolExecutor:
    pool = ProcessPoolExecutor(max_workers=workers)
    wait([pool.submit(render, html) for _ in range(workers)])
    return pool


def throughput(workers: int, renders: int, pages: list[str]) -> float:
    with warm_pool(workers, pages[0]) as pool:
        started = time.perf_counter()
        list(pool.map(render, [pages[i % len(pages)] for i in range(renders)]))
        return renders / (time.perf_counter() - started)


def pair(workers: int, pairs: int, pages: list[str]) -> float:
    """Milliseconds until every page of ``pages`` is rendered, submitted at once (median)."""
    times = []
    with warm_pool(workers, pages[0]) as pool:
        for _ in range(pairs):
            started = time.perf_counter()
            wait([pool.submit(render, page) for page in pages])
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def rss_after_render(page: str) -> float:
    render(page)
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("measure", choices=("throughput", "pair", "rss"))
    parser.add_argument("html", nargs="+", type=Path)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--renders", type=int, default=12)
    parser.add_argument("--pairs", type=int, default=5)
    args = parser.parse_args()
    pages = [path.read_text() for path in args.html]
    if args.measure == "throughput":
        print(throughput(args.workers, args.renders, pages))
    elif args.measure == "pair":
        print(pair(args.workers, args.pairs, pages))
    else:
        print(rss_after_render(pages[0]))


if __name__ == "__main__":
    main()
