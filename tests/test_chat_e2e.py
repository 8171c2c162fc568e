"""The OpenAI SDK against the stack: models, chat (plain and streaming), operations endpoints."""

from __future__ import annotations

import json
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

import httpx
import pytest

from tests.conftest import RunningStack, Tenant

pytestmark = pytest.mark.e2e
BASE = "tuneway-tiny"
HELLO = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Where is my parcel?"}]


def test_models_lists_the_base_model(stack: RunningStack, acme: Tenant) -> None:
    models = stack.client(acme.key).models.list()
    assert BASE in [m.id for m in models.data]
    assert stack.client(acme.key).models.retrieve(BASE).id == BASE


def test_chat_non_streaming_returns_text_and_usage(stack: RunningStack, acme: Tenant) -> None:
    client = stack.client(acme.key)
    completion = client.chat.completions.create(model=BASE, messages=HELLO, temperature=0, max_tokens=12)
    assert completion.object == "chat.completion"
    assert completion.id.startswith("chatcmpl-")
    assert completion.model == BASE
    choice = completion.choices[0]
    assert choice.message.role == "assistant"
    assert isinstance(choice.message.content, str)
    assert choice.finish_reason in ("stop", "length")
    assert completion.usage is not None
    assert completion.usage.prompt_tokens > 5
    assert 1 <= completion.usage.completion_tokens <= 12
    assert (
        completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens
    )
    # Greedy decoding on the same engine is deterministic.
    again = client.chat.completions.create(model=BASE, messages=HELLO, temperature=0, max_tokens=12)
    assert again.choices[0].message.content == choice.message.content


def test_max_tokens_bounds_the_completion(stack: RunningStack, acme: Tenant) -> None:
    completion = stack.client(acme.key).chat.completions.create(
        model=BASE, messages=HELLO, temperature=0, max_tokens=3, extra_body={"ignore_eos": True}
    )
    assert completion.usage is not None and completion.usage.completion_tokens == 3
    assert completion.choices[0].finish_reason == "length"


def test_streaming_matches_non_streaming_and_reports_usage(stack: RunningStack, acme: Tenant) -> None:
    client = stack.client(acme.key)
    whole = client.chat.completions.create(model=BASE, messages=HELLO, temperature=0, max_tokens=16)
    chunks = list(
        client.chat.completions.create(
            model=BASE,
            messages=HELLO,
            temperature=0,
            max_tokens=16,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert chunks[0].choices[0].delta.role == "assistant"
    assert all(c.object == "chat.completion.chunk" and c.id == chunks[0].id for c in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == [whole.choices[0].finish_reason]
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == whole.usage.completion_tokens  # type: ignore[union-attr]


def test_stream_ends_with_done(stack: RunningStack, acme: Tenant) -> None:
    body = {"model": BASE, "messages": HELLO, "max_tokens": 4, "stream": True}
    with httpx.stream(
        "POST",
        f"{stack.gateway_url}/v1/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {acme.key}"},
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "data: [DONE]"
    assert all(json.loads(e.removeprefix("data: "))["object"] == "chat.completion.chunk" for e in events[:-1])


def test_a_stream_is_neither_compressed_nor_held_back(stack: RunningStack, acme: Tenant) -> None:
    # Enough tokens that the stream lasts well beyond its first event.
    body = {"model": BASE, "messages": HELLO, "max_tokens": 200, "ignore_eos": True, "stream": True}
    auth = {"Authorization": f"Bearer {acme.key}", "Accept-Encoding": "gzip"}
    url = f"{stack.gateway_url}/v1/chat/completions"
    with httpx.stream(
        "POST", url, json=body, headers={**auth, "x-request-id": "e2e-stream-1"}, timeout=120
    ) as response:
        assert response.status_code == 200
        assert "content-encoding" not in response.headers
        assert response.headers["x-request-id"] == "e2e-stream-1"
        chunks = response.iter_raw()
        first = next(chunks)
        # The first event arrives on its own, long before the stream ends (gzip would hold it back).
        assert first.startswith(b"data: {") and b"[DONE]" not in first
        rest = b"".join(chunks)
    assert rest.endswith(b"data: [DONE]\n\n") and rest.count(b"data: ") > 50
    # Without an id of the caller's, the stream's x-request-id is its completion id.
    with httpx.stream("POST", url, json={**body, "max_tokens": 2}, headers=auth, timeout=120) as response:
        lines = [line for line in response.iter_lines() if line.startswith("data: {")]
        assert response.headers["x-request-id"] == json.loads(lines[0].removeprefix("data: "))["id"]
    assert response.headers["x-request-id"].startswith("chatcmpl-")


def _read_response(conn: socket.socket) -> bytes:
    """One HTTP/1.1 response with a Content-Length, read off a raw connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536)
    head, body = data.split(b"\r\n\r\n", 1)
    length = int(
        next(h.split(b":")[1] for h in head.split(b"\r\n") if h.lower().startswith(b"content-length"))
    )
    while len(body) < length:
        body += conn.recv(65536)
    return head


def test_an_idle_connection_outlives_the_clients_own_keep_alive(stack: RunningStack, acme: Tenant) -> None:
    # httpx (so the OpenAI SDK) keeps an idle connection 5 s, aiohttp 15 s: a server that closed it first
    # would race the client's next request on it, which then fails with a reset.
    url = urlparse(stack.gateway_url)
    request = (
        f"GET /v1/models HTTP/1.1\r\nHost: {url.netloc}\r\nAuthorization: Bearer {acme.key}\r\n\r\n"
    ).encode()
    with socket.create_connection((url.hostname, url.port), timeout=10) as conn:
        conn.sendall(request)
        assert _read_response(conn).startswith(b"HTTP/1.1 200")
        time.sleep(6)  # past the 5 s uvicorn closed them at, and httpx's own 5 s
        conn.settimeout(0.2)
        try:
            closed = conn.recv(1) == b""
        except TimeoutError:
            closed = False
        assert not closed, "the gateway closed an idle connection a client still keeps"
        conn.settimeout(10)
        conn.sendall(request)
        assert _read_response(conn).startswith(b"HTTP/1.1 200")


def test_concurrent_requests_each_get_their_own_answer(stack: RunningStack, acme: Tenant) -> None:
    # The gateway runs every generation over one stream to the engine: answers must not cross.
    questions = [f"Question {i}: where is order {1000 + 7 * i}?" for i in range(12)]

    def ask(question: str, stream: bool) -> str:
        client = stack.client(acme.key)
        messages = [{"role": "user", "content": question}]
        if not stream:
            completion = client.chat.completions.create(
                model=BASE,
                messages=messages,
                temperature=0,
                max_tokens=24,  # type: ignore[arg-type]
            )
            return completion.choices[0].message.content or ""
        chunks = client.chat.completions.create(
            model=BASE,
            messages=messages,
            temperature=0,
            max_tokens=24,
            stream=True,  # type: ignore[arg-type]
        )
        return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)

    alone = [ask(q, stream=False) for q in questions]
    assert len(set(alone)) > len(questions) // 2, "the questions should get different answers"
    with ThreadPoolExecutor(len(questions) * 2) as pool:
        together = list(pool.map(ask, questions * 2, [False] * len(questions) + [True] * len(questions)))
    assert together == alone * 2


def test_json_schema_response_format_is_enforced(stack: RunningStack, acme: Tenant) -> None:
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "string", "enum": ["yes", "no"]}},
        "required": ["answer"],
        "additionalProperties": False,
    }
    completion = stack.client(acme.key).chat.completions.create(
        model=BASE,
        messages=[{"role": "user", "content": "Is shipping free?"}],
        temperature=0,
        max_tokens=40,
        response_format={"type": "json_schema", "json_schema": {"name": "verdict", "schema": schema}},
    )
    # The random demo model would never write this JSON on its own: the grammar makes it.
    assert json.loads(completion.choices[0].message.content or "")["answer"] in ("yes", "no")


def test_operations_endpoints(stack: RunningStack) -> None:
    with httpx.Client(base_url=stack.gateway_url) as http:
        assert http.get("/healthz").json() == {"status": "ok"}
        ready = http.get("/readyz")
        checks = ready.json()["checks"]
        assert ready.status_code == 200 and all(checks.values())
        assert {"database", "inference", "prompt"} <= set(checks)
        assert "/v1/chat/completions" in http.get("/openapi.json").json()["paths"]
        assert http.get("/docs").status_code == 200
        # Not on the public API port: on the gateway's metrics port, where Prometheus scrapes it.
        assert http.get("/metrics").status_code == 404
    metrics = httpx.get(stack.metrics_urls["gateway"]).text
    assert 'tuneway_gateway_requests_total{method="GET",route="/healthz",status="200"}' in metrics
    inference_metrics = httpx.get(stack.inference_metrics_url).text
    assert "tuneway_inference_requests_total" in inference_metrics
    assert "tuneway_inference_time_to_first_token_seconds_bucket" in inference_metrics
