"""Tokens per minute through `make run`'s gateway with the real engine: what a completion used is
charged to its key once the engine reports it (JSON and streamed replies), and the next request is a
429 with OpenAI's `tokens` envelope and headers while the window is used up."""

from __future__ import annotations

import time

import openai
import pytest

from tests.conftest import RunningStack, make_tenant

BASE = "tuneway-tiny"
MESSAGES = [{"role": "user", "content": "Tell me about shipping."}]


def _limit_tokens(stack: RunningStack, tenant_id: str, tokens_per_minute: int) -> None:
    with stack.admin() as admin:
        response = admin.post(
            f"/admin/tenants/{tenant_id}", json={"rate_limits": {"tokens_per_minute": tokens_per_minute}}
        )
        assert response.status_code == 200, response.text


def _refused_within(client: openai.OpenAI, seconds: float = 5.0) -> openai.RateLimitError:
    """The 429 of the next request, once the charge of the previous one landed (it is asynchronous)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            client.chat.completions.create(model=BASE, messages=MESSAGES, max_tokens=1)
        except openai.RateLimitError as error:
            return error
        assert time.monotonic() < deadline, "tokens used were never charged"
        time.sleep(0.1)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_tokens_used_are_charged_and_then_refused(stack: RunningStack, stream: bool) -> None:
    tenant = make_tenant(stack, f"tpm-{'stream' if stream else 'json'}")
    _limit_tokens(stack, tenant.id, 40)
    client = stack.client(tenant.key)

    raw = client.chat.completions.with_raw_response.create(
        model=BASE,
        messages=MESSAGES,
        max_tokens=32,
        extra_body={"ignore_eos": True},
        stream=stream,
        **({"stream_options": {"include_usage": True}} if stream else {}),
    )
    assert raw.headers["x-ratelimit-limit-tokens"] == "40"
    assert raw.headers["x-ratelimit-remaining-tokens"] == "40"
    completion = raw.parse()
    usage = [chunk.usage for chunk in completion if chunk.usage][-1] if stream else completion.usage
    assert usage is not None and usage.total_tokens > 40

    refused = _refused_within(client)
    body = refused.response.json()["error"]
    assert (body["type"], body["code"]) == ("tokens", "rate_limit_exceeded")
    assert f"tenant {tenant.id}: Limit 40, all used" in body["message"]
    assert refused.response.headers["x-ratelimit-remaining-tokens"] == "0"
    assert int(refused.response.headers["retry-after"]) >= 1

    # Lifting the quota lets the tenant in again at once (the gateway forgets its cached quotas).
    with stack.admin() as admin:
        admin.post(f"/admin/tenants/{tenant.id}", json={"rate_limits": {}})
    assert client.chat.completions.create(model=BASE, messages=MESSAGES, max_tokens=1).choices
