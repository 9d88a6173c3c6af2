"""How long scoring a whole scan takes, for a growing number of respondents.

    .venv/bin/python -m bench.scoring_rules [--respondents 10 100 1000]
"""

from __future__ import annotations

import argparse
import random
import time

from services.scoring.rules import RespondentAnswers, score_scan
from shared.content import Answer, content

CHOICES = (Answer.NIET, Answer.DEELS, Answer.VOLLEDIG, Answer.NVT, Answer.WEET_NIET)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--respondents", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    scan = content()
    rng = random.Random(20400)
    print(f"content {scan.version}: {len(scan.statements)} statements, {len(scan.themes)} themes")
    for n in args.respondents:
        responses = [RespondentAnswers(respondent_id=str(i), answers={
            s.id: rng.choice(CHOICES) for s in scan.statements}) for i in range(n)]
        timings = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            score_scan(scan, responses)
            timings.append(time.perf_counter() - start)
        best = min(timings)
        print(f"{n:>6} respondents: best {best * 1000:8.1f} ms per scan "
              f"({n * len(scan.statements) / best:,.0f} answers/s)")


if __name__ == "__main__":
    main()
