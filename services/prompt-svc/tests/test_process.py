"""`python -m tuneway.prompt_svc` as a process: serves without NATS, exposes metrics, drains on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tuneway.api.prompt.v1 import prompt_pb2 as pb
from tuneway.api.prompt.v1 import prompt_pb2_grpc
from tuneway.core.grpc_client import create_channel
from tuneway.core.testing.probes import grpc_serving
from tuneway.core.testing.processes import free_port

pytestmark = pytest.mark.integration


async def _create_and_render(target: str) -> pb.RenderPromptResponse:
    async with create_channel(target) as channel:
        stub = prompt_pb2_grpc.PromptServiceStub(channel)
        await stub.CreatePrompt(pb.CreatePromptRequest(tenant_id="t", name="p", template="healthcare"))
        return await stub.RenderPrompt(pb.RenderPromptRequest(tenant_id="t", prompt="p"))


def test_process_serves_without_nats_and_drains(tmp_path: Path) -> None:
    port, metrics_port = free_port(), free_port()
    target = f"127.0.0.1:{port}"
    env = {
        **os.environ,
        "TUNEWAY_DATA_DIR": str(tmp_path),
        # Nothing listens here: the service must serve anyway (uncached) and keep retrying NATS.
        "TUNEWAY_NATS_URL": f"nats://127.0.0.1:{free_port()}",
        "PROMPT_SVC_GRPC_PORT": str(port),
        "PROMPT_SVC_METRICS_PORT": str(metrics_port),
    }
    log = tmp_path / "prompt-svc.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tuneway.prompt_svc"], env=env, stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + 60
        while not asyncio.run(grpc_serving(target)):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        rendered = asyncio.run(_create_and_render(target))
        assert "doctor" in rendered.messages[0].content
        assert (tmp_path / "prompt-svc.db").exists()
        metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").text
        assert 'tuneway_prompt_svc_renders_total{kind="prompt",outcome="ok"} 1.0' in metrics
        assert 'tuneway_prompt_svc_grpc_requests_total{code="OK",method="RenderPrompt"} 1.0' in metrics
        assert b"waiting for NATS" in log.read_bytes()
    finally:
        process.terminate()
        code = process.wait(30)
    assert code == 0, log.read_text()
