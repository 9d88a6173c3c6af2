"""NATS is down for 180 s with work in flight: the services keep answering without spinning,
stop on SIGTERM, reconnect by themselves and finish the work, each scan exactly once."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tests.chaos.outage import (
    QUESTIONNAIRES,
    RESPONDENTS,
    Workload,
    all_healthy,
    assert_nothing_lost_nothing_twice,
    cpu_seconds,
    extra_replica,
    own_nats,  # noqa: F401 - fixture
    restart,
    seconds_to_stop,
    wait_for,
)
from tests.flows import respondent_page
from tests.processes import NAMES

pytestmark = [pytest.mark.chaos, pytest.mark.outage]
OUTAGE = 180.0
CPU_WINDOW = 20.0


@pytest.fixture
def nats_url(own_nats):  # noqa: ANN001, ANN201, F811
    return own_nats.url


async def test_nats_down_for_180_seconds_delays_the_scans_and_loses_nothing(
        processes, mail_sink, settings, own_nats, nats_url, tmp_path):  # noqa: F811
    work = Workload(processes, mail_sink, settings)
    await work.create_and_invite()
    half = len(work.links) // 2
    await work.submit(work.links[:half])
    async with httpx.AsyncClient(base_url=processes.url("responses"), timeout=30) as r:
        for link in work.links[half:]:  # the responses service knows every respondent
            await respondent_page(r, link, timeout=60)
    spare = await extra_replica(processes, "scoring", tmp_path / "spare-scoring.log")

    own_nats.proc.kill()
    stopped = time.monotonic()
    # Work goes on meanwhile: the other half answer; their events wait in the outbox.
    await work.submit(work.links[half:])

    # Nothing spins: pages and /health answer, and the processes are all but idle.
    await asyncio.sleep(5)
    before = {name: cpu_seconds(processes.procs[name].pid) for name in NAMES}
    await asyncio.sleep(CPU_WINDOW)
    busy = {name: cpu_seconds(processes.procs[name].pid) - before[name] for name in NAMES}
    assert all(seconds < 0.2 * CPU_WINDOW for seconds in busy.values()), busy
    async with httpx.AsyncClient(timeout=3) as client:
        for name in NAMES:
            health = await client.get(f"{processes.url(name)}/{name}/health")
            assert health.status_code == 503 and health.json()["nats"] is False
    stop_took = await seconds_to_stop(spare, limit=10)
    assert stop_took < 10, f"SIGTERM during the outage took {stop_took:.1f}s"

    await asyncio.sleep(OUTAGE - (time.monotonic() - stopped))
    restart(own_nats)
    took = await wait_for(work.all_completed, "every scan completed", timeout=180)
    print(f"\nNATS outage {OUTAGE:.0f}s: last scan completed {took:.1f}s after NATS returned; "
          f"SIGTERM during the outage stopped a replica in {stop_took:.1f}s; CPU seconds "
          f"over {CPU_WINDOW:.0f}s of outage: {busy}")
    await wait_for(work.all_reported, "every report made", timeout=120)
    await wait_for(lambda: all_healthy(processes), "every service ready", timeout=30)

    assert QUESTIONNAIRES * RESPONDENTS == len(work.links)
    assert RESPONDENTS >= 2
    await assert_nothing_lost_nothing_twice(work, nats_url)
    await work.close()
