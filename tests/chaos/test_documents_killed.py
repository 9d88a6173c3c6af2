"""Documents is killed with SIGKILL while it renders a scan's reports, and started again: the
event comes back, and each report is stored and announced once."""

from __future__ import annotations

import signal

import nats
import pytest

from shared.bus import events_stream
from shared.db import make_engine
from shared.embedded import free_port
from tests import stack_process as sp
from tests.conftest import TEST_SECRET
from tests.flows import eventually
from tests.integration.test_documents import CONSUMER, publish, rows
from tests.unit.test_report_rendering import completed

pytestmark = pytest.mark.chaos


async def test_killing_documents_mid_render_loses_nothing_and_stores_each_report_once(
        tmp_path, nats_url, database_url, namespace):
    port, output = free_port(), tmp_path / "documents.log"
    env = {"ISO20400_NATS_URL": nats_url, "ISO20400_DATABASE_URL": database_url,
           "ISO20400_BUS_NAMESPACE": namespace, "ISO20400_SECRET_KEY": TEST_SECRET,
           "ISO20400_ACK_WAIT": "3", "ISO20400_RELAY_INTERVAL": "0.05"}

    def serve():  # noqa: ANN202
        proc = sp.start(["serve", "documents", "--port", str(port)], output=output, env=env)
        sp.wait_healthy(proc, f"http://127.0.0.1:{port}", output=output, names=("documents",))
        return proc

    engine, nc = make_engine(database_url), await nats.connect(nats_url)
    js, documents = nc.jetstream(), serve()
    try:
        await publish(js, namespace, completed())

        async def rendering() -> bool:
            info = await js.consumer_info(events_stream(namespace), CONSUMER)
            return info.num_ack_pending == 1

        await eventually(rendering, timeout=30, interval=0.02, what="the event taken up")
        documents.send_signal(signal.SIGKILL)
        documents.wait(10)
        assert await rows(engine, "SELECT 1 FROM documents.documents") == [], "killed too late"

        documents = serve()

        async def both_announced() -> bool:
            return len(await rows(engine, "SELECT 1 FROM documents.outbox "
                                          "WHERE published_at IS NOT NULL")) == 2

        await eventually(both_announced, timeout=60, what="both reports after the restart")
        languages = await rows(engine, "SELECT language FROM documents.documents ORDER BY 1")
        assert languages == [("en",), ("nl",)]
        info = await js.stream_info(events_stream(namespace),
                                    subjects_filter=f"{namespace}.*.document.generated")
        assert sum(info.state.subjects.values()) == 2
    finally:
        sp.stop(documents)
        await nc.close()
        await engine.dispose()
