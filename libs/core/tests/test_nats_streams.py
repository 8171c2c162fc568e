"""ensure_stream against a real nats-server: a stream made by an older release gains new subjects."""

from __future__ import annotations

from pathlib import Path

import nats
import pytest
from nats.js.api import RetentionPolicy, StreamConfig

from tuneway.core.nats import ensure_stream
from tuneway.core.testing.processes import NatsServer

pytestmark = pytest.mark.integration


async def test_an_existing_stream_gains_missing_subjects_and_keeps_its_settings(tmp_path: Path) -> None:
    server = NatsServer(tmp_path / "nats")
    server.start()
    nc = await nats.connect(server.url)
    try:
        js = nc.jetstream()
        old = StreamConfig(
            name="S", subjects=["s.a"], retention=RetentionPolicy.LIMITS, duplicate_window=300.0
        )
        await ensure_stream(js, old)
        await js.publish("s.a", b"kept")
        await ensure_stream(js, StreamConfig(name="S", subjects=["s.a", "s.b"], duplicate_window=60.0))
        info = await js.stream_info("S")
        assert info.config.subjects == ["s.a", "s.b"]
        assert info.config.duplicate_window == 300.0 and info.state.messages == 1
        await js.publish("s.b", b"new subject")  # raises (no stream answers) unless s.b was added
        # Nothing missing: nothing changes.
        await ensure_stream(js, StreamConfig(name="S", subjects=["s.b"]))
        assert (await js.stream_info("S")).config.subjects == ["s.a", "s.b"]
    finally:
        await nc.close()
        server.stop()
