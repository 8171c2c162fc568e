"""The gateway's one generation stream against a real inference service that dies and comes back."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tuneway.api.inference.v1 import inference_pb2 as pb
from tuneway.core.errors import NotFoundError, UnavailableError
from tuneway.core.testing.processes import free_port, start_nats_server, stop_process
from tuneway.gateway.clients.inference import InferenceClient

pytestmark = [pytest.mark.integration, pytest.mark.faults]


class Inference:
    """`python -m tuneway.inference` on a fixed port, which a test may kill and start again."""

    def __init__(self, model: Path, root: Path) -> None:
        self.port = free_port()
        nats_port = free_port()
        self._nats = start_nats_server(nats_port, root / "nats", root / "nats.log")
        self._env = {
            **os.environ,
            "TUNEWAY_NATS_URL": f"nats://127.0.0.1:{nats_port}",
            "TUNEWAY_DATA_DIR": str(root),
            "INFERENCE_MODEL": str(model),
            "INFERENCE_GRPC_PORT": str(self.port),
            "INFERENCE_METRICS_PORT": "0",
            # Long enough that a shutdown which waits out its grace period shows.
            "INFERENCE_DRAIN_SECONDS": "60",
        }
        self._log = root / "inference.log"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self._log.open("ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "tuneway.inference"],
                env=self._env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )

    def kill(self) -> None:
        """SIGKILL to the service and vLLM's processes under it, as when a node dies."""
        if self._process is None:
            return
        # The whole group, also after the service itself exited: no engine process outlives the test.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait()

    def terminate(self) -> float:
        """SIGTERM, as Kubernetes stops a pod; the seconds until the service has exited."""
        assert self._process is not None
        started = time.monotonic()
        self._process.terminate()
        assert self._process.wait(90) == 0, self._log.read_text()[-3000:]
        return time.monotonic() - started

    def close(self) -> None:
        self.kill()
        stop_process(self._nats)

    async def wait_ready(self, client: InferenceClient) -> None:
        deadline = time.monotonic() + 240
        while not await client.ready():
            assert self._process is not None and self._process.poll() is None, self._log.read_text()[-3000:]
            assert time.monotonic() < deadline, "inference did not become ready"
            await asyncio.sleep(0.3)


@pytest.fixture
def inference(demo_model: Path, tmp_path: Path) -> Iterator[Inference]:
    service = Inference(demo_model, tmp_path)
    service.start()
    yield service
    service.close()


def _request(question: str, max_tokens: int = 12) -> pb.GenerateRequest:
    return pb.GenerateRequest(
        tenant_id="acme",
        model="tuneway-tiny",
        messages=[pb.ChatMessage(role="user", content=question)],
        params=pb.SamplingParams(temperature=0, max_tokens=max_tokens, ignore_eos=True),
    )


async def _text(client: InferenceClient, request: pb.GenerateRequest) -> str:
    return "".join([response.text_delta async for response in client.generate(request)])


async def test_generations_share_a_stream_and_survive_a_restart(inference: Inference) -> None:
    client = InferenceClient(f"127.0.0.1:{inference.port}", rpc_timeout=5)
    try:
        await inference.wait_ready(client)
        questions = [f"Where is order {n}?" for n in range(8)]
        alone = [await _text(client, _request(q)) for q in questions]
        assert await asyncio.gather(*(_text(client, _request(q)) for q in questions)) == alone

        # Listed beside a replica that is not there, the live one takes every generation.
        pair = InferenceClient(f"127.0.0.1:{free_port()},127.0.0.1:{inference.port}", rpc_timeout=5)
        try:
            for _ in range(200):  # the live replica's stream opens once its health check answers
                if any(pair.replicas().values()):
                    break
                await asyncio.sleep(0.05)
            assert await pair.ready()
            assert [await _text(pair, _request(q)) for q in questions] == alone
            assert await asyncio.gather(*(_text(pair, _request(q)) for q in questions)) == alone
            assert sorted(pair.replicas().values()) == [False, True]
        finally:
            await pair.close()
        with pytest.raises(NotFoundError):
            await _text(
                client,
                pb.GenerateRequest(tenant_id="acme", model="nope", messages=[_request("x").messages[0]]),
            )

        # A generation in flight when the service dies fails with 503 instead of hanging ...
        running = client.generate(_request("A long answer, please.", max_tokens=1900))
        await anext(running)
        inference.kill()
        with pytest.raises(UnavailableError):
            async with asyncio.timeout(10):
                async for _ in running:
                    pass
        # ... as does a new one while it is down ...
        with pytest.raises(UnavailableError):
            await _text(client, _request(questions[0]))
        # ... and once it is back, the next request opens a new stream.
        inference.start()
        await inference.wait_ready(client)
        assert await _text(client, _request(questions[0])) == alone[0]

        # On SIGTERM a generation in flight runs to its end; then the service ends the stream and exits
        # instead of waiting out its grace period on a stream that never ends.
        running = client.generate(_request("A long answer, please.", max_tokens=1500))
        first = await anext(running)
        stopping = asyncio.create_task(asyncio.to_thread(inference.terminate))
        rest = [response async for response in running]
        assert rest[-1].finish_reason == "length" and rest[-1].usage.completion_tokens == 1500
        assert len(first.text_delta + "".join(r.text_delta for r in rest)) > 0
        assert await stopping < 30
    finally:
        await client.close()
