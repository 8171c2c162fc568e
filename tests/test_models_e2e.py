"""/v1/models lists the embedders of /v1/embeddings beside the generation models, and still lists the
generation models while the retriever is down."""

from __future__ import annotations

from pathlib import Path

import httpx
import openai
import pytest

from tests.conftest import RunningStack, Tenant, make_tenant
from tuneway.core.testing.processes import free_port
from tuneway.gateway.app import create_app
from tuneway.gateway.settings import GatewaySettings

BASE = "tuneway-tiny"


def test_the_embedder_is_listed_retrievable_and_callable(stack: RunningStack, acme: Tenant) -> None:
    client = stack.client(acme.key)
    models = {m.id: m for m in client.models.list().data}
    embedders = [m for m in models.values() if m.model_extra and m.model_extra["kind"] == "embedding"]
    assert len(embedders) == 1 and BASE in models
    embedder = embedders[0]
    assert embedder.owned_by == "tuneway"
    assert client.models.retrieve(embedder.id).id == embedder.id
    vectors = client.embeddings.create(model=embedder.id, input=["where is my parcel?"]).data
    assert len(vectors) == 1 and len(vectors[0].embedding) == 384


async def test_models_list_without_the_retriever(stack: RunningStack, tmp_path: Path) -> None:
    settings = GatewaySettings(
        data_dir=tmp_path,
        bootstrap_key="sk-tw-models-e2e-0123456789abcdef0123456789abcdef",
        inference_target=f"127.0.0.1:{stack.env['INFERENCE_GRPC_PORT']}",
        prompt_target=f"127.0.0.1:{stack.env['PROMPT_SVC_GRPC_PORT']}",
        retriever_target=f"127.0.0.1:{free_port()}",  # nothing listens: the retriever is down
        nats_url=f"nats://127.0.0.1:{free_port()}",
        metrics_port=0,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await app.state.services.tenancy.create_tenant("acme")
        _, key = await app.state.services.tenancy.create_key("acme")
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway", timeout=30) as http:
            sdk = openai.AsyncOpenAI(
                base_url="http://gateway/v1", api_key=key, http_client=http, max_retries=0
            )
            listed = [(m.id, (m.model_extra or {})["kind"]) for m in (await sdk.models.list()).data]
    assert (BASE, "base") in listed
    assert [kind for _, kind in listed if kind == "embedding"] == []


def test_a_model_alias_serves_an_existing_application_unchanged(stack: RunningStack, globex: Tenant) -> None:
    # A tenant of its own: its aliases must not leak into the other tests' tenants.
    tenant = make_tenant(stack, "alias-e2e")
    client = stack.client(tenant.key)
    embedder = next(m.id for m in client.models.list().data if (m.model_extra or {})["kind"] == "embedding")
    http = httpx.Client(base_url=f"{stack.gateway_url}/v1", headers={"Authorization": f"Bearer {tenant.key}"})
    for alias, target in (("gpt-4o-mini", BASE), ("text-embedding-3-small", embedder)):
        set_ = http.put(f"/model_aliases/{alias}", json={"target": target})
        assert set_.status_code == 200 and set_.json()["target"] == target
    unknown = http.put("/model_aliases/gpt-4o", json={"target": "gpt-4-turbo"})
    assert unknown.status_code == 400 and unknown.json()["error"]["param"] == "target"
    # The application still asks for OpenAI's names; the reply names the model that served it.
    reply = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], max_tokens=4
    )
    assert reply.model == BASE and reply.usage is not None and reply.usage.completion_tokens > 0
    vectors = client.embeddings.create(model="text-embedding-3-small", input="where is my parcel?").data
    assert len(vectors[0].embedding) == 384
    listed = {m.id: m.model_extra for m in client.models.list().data}
    assert listed["gpt-4o-mini"] == {"kind": "alias", "base_model": BASE, "alias_for": BASE}
    assert client.models.retrieve("text-embedding-3-small").model_extra["alias_for"] == embedder  # type: ignore[index]
    # Another tenant's names are its own.
    with pytest.raises(openai.NotFoundError) as refused:
        stack.client(globex.key).chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], max_tokens=4
        )
    assert refused.value.code == "model_not_found"
    http.close()
