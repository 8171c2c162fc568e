"""/v1/models lists the embedders of /v1/embeddings beside the generation models, and still lists the
generation models while the retriever is down."""

from __future__ import annotations

from pathlib import Path

import httpx
import openai

from tests.conftest import RunningStack, Tenant
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
