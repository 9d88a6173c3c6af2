"""Every comparison of the product with its bare baseline, in one run, as one table.

    .venv/bin/python -m bench.compare [--rounds 3] [--only scoring pages ...]

Run it on an otherwise idle machine; ``bench/README.md`` keeps the last table.
"""

from __future__ import annotations

import argparse
import importlib
import time

from bench.common import servers, table

# Module names under bench/, in the order of the table.
MODULES = ("scoring", "latency", "documents", "pages", "cold_start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", nargs="+", choices=MODULES, default=list(MODULES))
    args = parser.parse_args()
    rows = []
    started = time.perf_counter()
    with servers() as found:
        for name in args.only:
            module = importlib.import_module(f"bench.{name}")
            print(f"running bench.{name} ...", flush=True)
            rows.extend(module.compare(found, rounds=args.rounds))
    print()
    print(table(rows))
    print(f"\n{sum(r.met for r in rows)} of {len(rows)} goals met "
          f"in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
