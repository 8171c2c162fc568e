"""The nats-server that tests and `make run` start syncs every JetStream write to disk before it
acknowledges it (`sync_interval: always`, as the manifests run it), and keeps its streams across a
restart on the same store."""

from __future__ import annotations

from pathlib import Path

import httpx
import nats
import pytest

from tuneway.core.testing.processes import free_port, start_nats_server, stop_process

pytestmark = pytest.mark.integration


async def test_jetstream_syncs_every_write_and_keeps_streams_across_a_restart(tmp_path: Path) -> None:
    port, monitor = free_port(), free_port()
    process = start_nats_server(port, tmp_path / "store", tmp_path / "nats.log", monitor_port=monitor)
    try:
        async with httpx.AsyncClient() as http:
            config = (await http.get(f"http://127.0.0.1:{monitor}/varz")).json()["jetstream"]["config"]
        assert config["sync_always"] is True
        nc = await nats.connect(f"nats://127.0.0.1:{port}")
        await nc.jetstream().add_stream(name="KEPT", subjects=["kept"])
        await nc.jetstream().publish("kept", b"acknowledged")
        await nc.close()
    finally:
        stop_process(process)
    process = start_nats_server(port, tmp_path / "store", tmp_path / "nats.log")
    try:
        nc = await nats.connect(f"nats://127.0.0.1:{port}")
        assert (await nc.jetstream().stream_info("KEPT")).state.messages == 1
        await nc.close()
    finally:
        stop_process(process)
