"""Knowledge bases and documents in the audit log, over the whole gateway with a real retriever (SQLite and
local Qdrant, the real embedder)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tuneway.core.testing.processes import free_port

retriever_main = pytest.importorskip("tuneway.retriever.main")
pytestmark = pytest.mark.integration
Entries = Callable[..., Awaitable[list[dict[str, Any]]]]

Gateway = Any
LEAVE = b"# Leave\n\nFull-time employees receive 27 days of paid vacation per year.\n"


@pytest.fixture
async def gateway(start_gateway: Callable[..., Any], tmp_path: Path) -> AsyncIterator[Gateway]:
    """The gateway and a retriever on SQLite and local Qdrant, sharing the artifact store."""
    from tuneway.retriever.settings import RetrieverSettings

    port = free_port()
    settings = RetrieverSettings(grpc_port=port, host="127.0.0.1", data_dir=tmp_path / "data", metrics_port=0)
    server = retriever_main.RetrieverServer(settings)
    await server.start()
    try:
        async with start_gateway(retriever_target=f"127.0.0.1:{port}") as running:
            yield running
    finally:
        await server.stop()


async def test_knowledge_changes_are_recorded(gateway: Gateway, audit_entries: Entries) -> None:
    client, acme = gateway.app_client, gateway.auth(gateway.acme_key)
    kb = (await client.post("/v1/knowledge_bases", json={"name": "hr"}, headers=acme)).json()
    base = f"/v1/knowledge_bases/{kb['id']}"
    added = await client.post(
        f"{base}/documents",
        files={"file": ("leave.md", LEAVE, "text/markdown")},
        data={"wait": "true"},
        headers=acme,
    )
    assert added.status_code == 201, added.text
    document = added.json()
    path = f"{base}/documents/{document['id']}"
    replaced = await client.put(
        path,
        files={"file": ("leave.md", LEAVE.replace(b"27", b"30"), "text/markdown")},
        data={"wait": "true"},
        headers=acme,
    )
    assert replaced.status_code == 200, replaced.text
    current = (await client.get(path, headers=acme)).json()
    # Another tenant cannot delete it, and that failure records nothing anywhere.
    assert (await client.delete(path, headers=gateway.auth(gateway.globex_key))).status_code == 404
    assert (await client.delete(path, headers=acme)).status_code == 200
    # A JSONL upload adds a document per line: an entry for each.
    lines = b'{"text": "Parking is free."}\n{"text": "Lunch is at noon."}\n{"text": "Badges at the desk."}\n'
    jsonl = await client.post(
        f"{base}/documents", files={"file": ("rules.jsonl", lines)}, data={"wait": "true"}, headers=acme
    )
    assert jsonl.status_code == 201, jsonl.text
    rules = jsonl.json()["data"]
    added = await audit_entries(gateway, gateway.acme_key, action="knowledge.document.added", limit=3)
    assert [e["after"] for e in added] == rules[::-1]
    assert [e["resource_id"] for e in added] == [f"{kb['id']}/documents/{r['id']}" for r in rules[::-1]]
    kb_now = (await client.get(base, headers=acme)).json()
    assert (await client.delete(base, headers=acme)).status_code == 200

    entries = await audit_entries(gateway, gateway.acme_key)
    assert [(e["action"], e["resource_type"]) for e in entries] == [
        ("knowledge_base.deleted", "knowledge_base"),
        *[("knowledge.document.added", "knowledge.document")] * 3,
        ("knowledge.document.deleted", "knowledge.document"),
        ("knowledge.document.replaced", "knowledge.document"),
        ("knowledge.document.added", "knowledge.document"),
        ("knowledge_base.created", "knowledge_base"),
    ]
    kb_deleted, *_, doc_deleted, doc_replaced, doc_added, kb_created = entries
    assert (kb_created["resource_id"], kb_created["before"], kb_created["after"]) == (kb["id"], None, kb)
    document_id = f"{kb['id']}/documents/{document['id']}"
    assert {e["resource_id"] for e in (doc_added, doc_replaced, doc_deleted)} == {document_id}
    assert (doc_added["before"], doc_added["after"]) == (None, document)
    assert (doc_replaced["before"], doc_replaced["after"]) == (document, replaced.json())
    assert doc_replaced["after"]["revision"] == 2
    assert (doc_deleted["before"], doc_deleted["after"]) == (current, None)
    assert (kb_deleted["before"], kb_deleted["after"]) == (kb_now, None)
    assert await audit_entries(gateway, gateway.globex_key) == []
