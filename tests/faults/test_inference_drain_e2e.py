"""Inference stopped the way the launcher (and Kubernetes) stops it: SIGTERM to its whole process group,
vLLM's engine processes included. Generations in flight must finish, calls during the drain and after
it must be 503 with Retry-After through every gateway route that reaches inference, and the service
must exit cleanly with its engine processes."""

from __future__ import annotations

import re
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import psutil
import pytest

from tests.faults.stack_helpers import (
    BASE,
    assert_unavailable,
    member_client,
    private_stack,
    serves_a_chat,
    wait_until_served,
)
from tuneway.devstack.launcher import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.faults]
ADMIN_KEY = "sk-tw-drain-admin-0123456789abcdef0123456789abcdef"
BOT = "assistant:drain-bot"
MESSAGES = [{"role": "user", "content": "Can I change my delivery address?"}]
# Long enough that the in-flight generations outlast the calls made during the drain.
IN_FLIGHT_TOKENS = 1800
DRAIN_SECONDS = 120


@dataclass
class StreamResult:
    """What one streamed chat completion delivered."""

    first_chunk: threading.Event = field(default_factory=threading.Event)
    ended: threading.Event = field(default_factory=threading.Event)
    status: int = 0
    chunks: list[dict[str, Any]] = field(default_factory=list)
    done: bool = False
    errors: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Drainable:
    stack: Stack
    http: httpx.Client


def _chat(model: str = BASE, **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": MESSAGES, "temperature": 0, **extra}


def _long(model: str = BASE, **extra: Any) -> dict[str, Any]:
    return _chat(model, max_tokens=IN_FLIGHT_TOKENS, ignore_eos=True, **extra)


def _stream(http: httpx.Client, body: dict[str, Any], result: StreamResult) -> StreamResult:
    """Reads one SSE chat completion to its end, noting chunks, error events and [DONE]."""
    try:
        with http.stream("POST", "/v1/chat/completions", json={**body, "stream": True}) as response:
            result.status = response.status_code
            for line in response.iter_lines():
                if not line.startswith("data: "):
                    continue
                data = line.removeprefix("data: ")
                if data == "[DONE]":
                    result.done = True
                    continue
                event = orjson.loads(data)
                if "error" in event:
                    result.errors.append(event["error"])
                else:
                    result.chunks.append(event)
                    result.first_chunk.set()
    finally:
        result.ended.set()
    return result


def _assert_every_route_unavailable(http: httpx.Client) -> None:
    """Chat (plain and assistant, streaming and not) and the model list all answer 503 + Retry-After."""
    for model in (BASE, BOT):
        assert_unavailable(http.post("/v1/chat/completions", json=_chat(model)), f"{model} chat")
        with http.stream("POST", "/v1/chat/completions", json=_chat(model, stream=True)) as response:
            response.read()
            assert_unavailable(response, f"{model} streaming chat")
    assert_unavailable(http.get("/v1/models"), "model list")


def _in_flight(metrics_url: str) -> float:
    text = httpx.get(metrics_url, timeout=10).text
    match = re.search(r"^tuneway_inference_requests_in_flight (\S+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


@pytest.fixture(scope="module")
def drainable(
    nats_url: str, demo_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Drainable]:
    """Inference, prompt-svc and the gateway, each started by the launcher in its own process group;
    a tenant with a plain prompt and an assistant on it."""
    stack = private_stack(
        tmp_path_factory.mktemp("drain"),
        ADMIN_KEY,
        nats_url=nats_url,
        model=str(demo_model),
        env={"INFERENCE_DRAIN_SECONDS": str(DRAIN_SECONDS)},
    )
    for name, module in (
        ("inference", "tuneway.inference"),
        ("prompt-svc", "tuneway.prompt_svc"),
        ("gateway", "tuneway.gateway"),
    ):
        stack.start_service(name, module)
    try:
        wait_until_served(stack, ADMIN_KEY, serves_a_chat)
        _, http = member_client(stack, ADMIN_KEY, "drain", timeout=120)
        prompt = {"name": "drain", "messages": [{"role": "system", "content": "You help customers."}]}
        assert http.post("/v1/prompts", json=prompt).status_code == 201
        assistant = {"name": "drain-bot", "base_model": BASE, "prompt": "drain"}
        assert http.post("/v1/assistants", json=assistant).status_code == 201
        assert http.post("/v1/chat/completions", json=_chat(BOT, max_tokens=1)).status_code == 200
        yield Drainable(stack, http)
        http.close()
    finally:
        stack.stop()


def test_process_group_sigterm_drains_inference(drainable: Drainable) -> None:
    stack, http = drainable.stack, drainable.http
    process = stack.processes["inference"]
    engine_processes = psutil.Process(process.pid).children(recursive=True)
    assert engine_processes, "vLLM's engine processes are missing"
    with ThreadPoolExecutor(8) as pool:
        bodies = (_long(), _long(), _long(BOT), _long(stream_options={"include_usage": True}))
        results = [StreamResult() for _ in bodies]
        streams = [pool.submit(_stream, http, b, r) for b, r in zip(bodies, results, strict=True)]
        whole: Future[httpx.Response] = pool.submit(http.post, "/v1/chat/completions", json=_long(BOT))
        # Every generation is running on the engine before the signal.
        deadline = time.monotonic() + 120
        while _in_flight(stack.config.metrics_urls()["inference"]) < len(streams) + 1:
            assert time.monotonic() < deadline, "the generations did not start"
            time.sleep(0.05)

        stopper = pool.submit(stack.stop_service, "inference", signal.SIGTERM, DRAIN_SECONDS + 60)
        log = stack.log_dir / "inference.log"
        deadline = time.monotonic() + 60
        while b"draining" not in log.read_bytes():
            assert time.monotonic() < deadline, "inference did not start draining"
            time.sleep(0.05)
        # During the drain: new calls are refused with 503 and Retry-After on every route ...
        _assert_every_route_unavailable(http)
        # ... while the generations that were in flight are still running (so these were refused by a
        # draining service, not by one that had already gone).
        assert process.poll() is None and not all(result.ended.is_set() for result in results)

        for future in streams:
            result = future.result(timeout=DRAIN_SECONDS)
            assert result.status == 200 and not result.errors, result.errors
            assert result.done, "the stream ended without [DONE]"
            finishes = [c["choices"][0]["finish_reason"] for c in result.chunks if c["choices"]]
            assert finishes[-1] == "length" and not any(finishes[:-1])
        usage = [c["usage"] for c in streams[3].result().chunks if c.get("usage")]
        assert usage and usage[-1]["completion_tokens"] == IN_FLIGHT_TOKENS
        response = whole.result(timeout=DRAIN_SECONDS)
        assert response.status_code == 200, response.text
        completion = response.json()
        assert completion["choices"][0]["finish_reason"] == "length"
        assert completion["usage"]["completion_tokens"] == IN_FLIGHT_TOKENS
        stopper.result(timeout=DRAIN_SECONDS + 90)

    # The service drained and exited on its own (no SIGKILL), and took its engine processes with it.
    assert process.returncode == 0, stack.log_tail("inference")
    # (multiprocessing's resource tracker may take a moment after its last user has gone)
    _, alive = psutil.wait_procs(engine_processes, timeout=30)
    assert not alive, f"processes of the service outlived it: {alive}"
    # Gone: still 503 with Retry-After, never 500.
    _assert_every_route_unavailable(http)


def _assert_chat_unavailable(http: httpx.Client) -> None:
    """Plain and assistant chats, streaming and not, answer 503 with Retry-After."""
    for model in (BASE, BOT):
        assert_unavailable(http.post("/v1/chat/completions", json=_chat(model)), f"{model} chat")
        with http.stream("POST", "/v1/chat/completions", json=_chat(model, stream=True)) as response:
            response.read()
            assert_unavailable(response, f"{model} streaming chat")


def _serving_inference(stack: Stack, http: httpx.Client) -> psutil.Process:
    """The inference service, started by the launcher again if a test stopped it, once it serves."""
    if "inference" not in stack.processes:
        stack.start_service("inference", "tuneway.inference")
    deadline = time.monotonic() + 300
    while http.post("/v1/chat/completions", json=_chat(max_tokens=1)).status_code != 200:
        stack.check_alive()
        assert time.monotonic() < deadline, "inference did not come back"
        time.sleep(0.5)
    return psutil.Process(stack.processes["inference"].pid)


def test_dead_engine_is_503_not_500(drainable: Drainable) -> None:
    """vLLM's engine core killed under the service (out of memory, a crash): the generation in flight
    ends with a service_unavailable error event, new chats are 503 with Retry-After, and the service
    exits so that its supervisor starts a new one."""
    stack, http = drainable.stack, drainable.http
    service = _serving_inference(stack, http)
    # vLLM's engine core is the child with worker processes of its own.
    [engine_core] = [child for child in service.children() if child.children()]
    with ThreadPoolExecutor(1) as pool:
        result = StreamResult()
        stream = pool.submit(_stream, http, _long(), result)
        assert result.first_chunk.wait(120), "the stream did not start"
        engine_core.kill()
        stream.result(timeout=120)
    assert not result.done and [e["code"] for e in result.errors] == ["service_unavailable"], result.errors
    _assert_chat_unavailable(http)
    assert stack.processes["inference"].wait(120) == 0, stack.log_tail("inference")
    _assert_chat_unavailable(http)
