"""Hot registration: a real PEFT LoRA adapter put into the ADAPTERS bucket is served within 1 s."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import openai
import pytest

from tests.conftest import RunningStack, Tenant
from tuneway.api.events.v1.events_pb2 import AdapterRegistration
from tuneway.core import nats as tnats
from tuneway.core.artifacts import directory_sha256
from tuneway.core.testing.lora import write_random_lora

pytestmark = pytest.mark.e2e
BASE = "tuneway-tiny"
PROMPT = [{"role": "user", "content": "How do I return a jacket?"}]


async def _put(nats_url: str, key: str, registration: AdapterRegistration | None) -> None:
    nc = await tnats.connect(nats_url, "test")
    try:
        kv = await tnats.ensure_kv(nc.jetstream(), tnats.ADAPTERS_BUCKET)
        if registration is None:
            await kv.delete(key)
        else:
            await kv.put(key, registration.SerializeToString())
    finally:
        await nc.close()


def _registration(path: Path, model: str, tenant: str, sha256: str | None = None) -> AdapterRegistration:
    return AdapterRegistration(
        model=model,
        tenant_id=tenant,
        base_model=BASE,
        artifact_uri=f"file://{path}",
        sha256=sha256 or directory_sha256(path),
        created_at=int(time.time()),
        job_id="ftjob-test",
    )


def _wait_listed(client: openai.OpenAI, model: str, listed: bool, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if (model in [m.id for m in client.models.list().data]) == listed:
            return time.monotonic() - started
        time.sleep(0.02)
    raise AssertionError(f"{model} {'not ' if listed else ''}listed after {timeout} s")


def _greedy(client: openai.OpenAI, model: str) -> str:
    completion = client.chat.completions.create(
        model=model, messages=PROMPT, temperature=0, max_tokens=24, extra_body={"ignore_eos": True}
    )
    return completion.choices[0].message.content or ""


def test_registered_adapter_is_served_within_a_second_and_404_once_deleted(
    stack: RunningStack, acme: Tenant, globex: Tenant, demo_model: Path, tmp_path: Path
) -> None:
    adapter_dir = write_random_lora(demo_model, tmp_path / "adapter", seed=1)
    model = f"ft:{BASE}:{acme.id}:support:abc123"
    client, other = stack.client(acme.key), stack.client(globex.key)

    registered_at = time.monotonic()
    asyncio.run(_put(stack.nats_url, "ftjob-abc123", _registration(adapter_dir, model, acme.id)))
    _wait_listed(client, model, listed=True, timeout=5)
    adapted = _greedy(client, model)
    assert time.monotonic() - registered_at < 1.0, "adapter not listed and served within 1 s"
    assert adapted != _greedy(client, BASE)

    # Another tenant neither sees nor reaches it.
    assert model not in [m.id for m in other.models.list().data]
    with pytest.raises(openai.NotFoundError):
        _greedy(other, model)

    asyncio.run(_put(stack.nats_url, "ftjob-abc123", None))
    _wait_listed(client, model, listed=False, timeout=1.0)
    with pytest.raises(openai.NotFoundError) as caught:
        _greedy(client, model)
    assert caught.value.response.json()["error"]["code"] == "model_not_found"


def test_adapter_whose_artifact_does_not_match_its_sha256_is_not_served(
    stack: RunningStack, acme: Tenant, demo_model: Path, tmp_path: Path
) -> None:
    adapter_dir = write_random_lora(demo_model, tmp_path / "tampered", seed=2)
    model = f"ft:{BASE}:{acme.id}:support:bad999"
    asyncio.run(
        _put(stack.nats_url, "ftjob-bad999", _registration(adapter_dir, model, acme.id, sha256="0" * 64))
    )
    # A valid adapter registered after it is served, so the bad one had its turn and was refused.
    good_dir = write_random_lora(demo_model, tmp_path / "good", seed=3)
    good = f"ft:{BASE}:{acme.id}:support:good01"
    asyncio.run(_put(stack.nats_url, "ftjob-good01", _registration(good_dir, good, acme.id)))
    client = stack.client(acme.key)
    _wait_listed(client, good, listed=True, timeout=5)
    assert model not in [m.id for m in client.models.list().data]
    with pytest.raises(openai.NotFoundError):
        _greedy(client, model)
