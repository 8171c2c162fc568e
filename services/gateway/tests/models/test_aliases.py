"""Model aliases over the gateway's real databases (SQLite and PostgreSQL): set, move, delete, resolve per
tenant; names that would hide a model and targets the tenant cannot call are refused naming the field;
another replica sees a change once its copy is refreshed in the background."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.core.errors import InvalidArgumentError, NotFoundError
from tuneway.gateway.models.aliases import ModelAliases
from tuneway.gateway.tenancy.admin import TenancyAdmin

CALLABLE = ["tuneway-tiny", "ft:tuneway-tiny:acme:support:ftjob-1", "assistant:helpdesk", "minilm"]
# The `gateway` fixture comes from the parent directory's conftest.
Gateway = Any


@pytest.fixture
async def aliases(sessions: async_sessionmaker[AsyncSession], admin: TenancyAdmin) -> ModelAliases:
    for name in ("acme", "globex"):
        await admin.create_tenant(name)
    return ModelAliases(sessions, cache_seconds=60)


async def test_an_alias_resolves_for_its_tenant_only_and_moves_and_goes_at_once(
    aliases: ModelAliases,
) -> None:
    assert await aliases.resolve("acme", "gpt-4o-mini") == "gpt-4o-mini"
    created = await aliases.set("acme", "gpt-4o-mini", "assistant:helpdesk", CALLABLE)
    assert (created.alias, created.target) == ("gpt-4o-mini", "assistant:helpdesk")
    # This replica's copy changes with the write, though it was loaded a moment ago.
    assert await aliases.resolve("acme", "gpt-4o-mini") == "assistant:helpdesk"
    assert await aliases.resolve("globex", "gpt-4o-mini") == "gpt-4o-mini"
    moved = await aliases.set("acme", "gpt-4o-mini", "ft:tuneway-tiny:acme:support:ftjob-1", CALLABLE)
    assert moved.created_at == created.created_at and moved.updated_at >= created.updated_at
    assert await aliases.resolve("acme", "gpt-4o-mini") == "ft:tuneway-tiny:acme:support:ftjob-1"
    await aliases.set("acme", "text-embedding-3-small", "minilm", CALLABLE)
    assert [a.alias for a in await aliases.list("acme")] == ["gpt-4o-mini", "text-embedding-3-small"]
    assert await aliases.list("globex") == []
    await aliases.delete("acme", "gpt-4o-mini")
    assert await aliases.resolve("acme", "gpt-4o-mini") == "gpt-4o-mini"
    with pytest.raises(NotFoundError):
        await aliases.get("acme", "gpt-4o-mini")
    # Another tenant's alias is not found either.
    with pytest.raises(NotFoundError):
        await aliases.delete("globex", "text-embedding-3-small")
    assert (await aliases.get("acme", "text-embedding-3-small")).target == "minilm"


@pytest.mark.parametrize(
    ("alias", "target", "param"),
    [
        ("gpt 4o", "tuneway-tiny", "alias"),  # a space
        ("-gpt", "tuneway-tiny", "alias"),
        ("x" * 129, "tuneway-tiny", "alias"),
        ("ft:gpt", "tuneway-tiny", "alias"),  # the adapters' prefix
        ("assistant:bot", "tuneway-tiny", "alias"),
        ("tuneway-tiny", "assistant:helpdesk", "alias"),  # would hide a model
        ("gpt-4o", "gpt-4o-mini", "target"),  # nothing of that name (nor an alias: one step only)
        ("gpt-4o", "assistant:other", "target"),
    ],
)
async def test_refused_naming_the_field(aliases: ModelAliases, alias: str, target: str, param: str) -> None:
    await aliases.set("acme", "gpt-4o-mini", "tuneway-tiny", CALLABLE)
    with pytest.raises(InvalidArgumentError) as refused:
        await aliases.set("acme", alias, target, CALLABLE)
    assert refused.value.param == param
    assert [a.alias for a in await aliases.list("acme")] == ["gpt-4o-mini"]


async def test_names_of_the_system_are_never_looked_up(aliases: ModelAliases) -> None:
    await aliases.set("acme", "gpt-4o-mini", "tuneway-tiny", CALLABLE)
    assert await aliases.resolve("acme", "ft:tuneway-tiny:acme:support:ftjob-1") == (
        "ft:tuneway-tiny:acme:support:ftjob-1"
    )
    assert await aliases.resolve("acme", "assistant:helpdesk") == "assistant:helpdesk"


async def test_another_replica_sees_a_change_after_its_background_refresh(
    sessions: async_sessionmaker[AsyncSession], aliases: ModelAliases
) -> None:
    other = ModelAliases(sessions, cache_seconds=0)
    assert await other.resolve("acme", "gpt-4o-mini") == "gpt-4o-mini"
    await aliases.set("acme", "gpt-4o-mini", "tuneway-tiny", CALLABLE)
    # Past its interval the other replica answers from its copy and refreshes it behind the request.
    assert await other.resolve("acme", "gpt-4o-mini") == "gpt-4o-mini"
    refreshing = [t for t in asyncio.all_tasks() if t.get_name() == "model-aliases-acme"]
    assert len(refreshing) == 1
    await refreshing[0]
    assert await other.resolve("acme", "gpt-4o-mini") == "tuneway-tiny"
    other.close()


async def test_routes_list_get_and_delete_per_tenant(gateway: Gateway) -> None:
    aliases: ModelAliases = gateway.services.model_aliases
    await aliases.set("acme", "gpt-4o-mini", "tuneway-tiny", CALLABLE)
    client = gateway.app_client
    acme, globex = gateway.auth(gateway.acme_key), gateway.auth(gateway.globex_key)
    listed = (await client.get("/v1/model_aliases", headers=acme)).json()
    assert listed["object"] == "list"
    [found] = listed["data"]
    assert found["object"] == "model_alias"
    assert (found["alias"], found["target"]) == ("gpt-4o-mini", "tuneway-tiny")
    assert (await client.get("/v1/model_aliases", headers=globex)).json()["data"] == []
    missing = await client.get("/v1/model_aliases/gpt-4o-mini", headers=globex)
    assert missing.status_code == 404 and missing.json()["error"]["param"] == "alias"
    assert (await client.delete("/v1/model_aliases/gpt-4o-mini", headers=globex)).status_code == 404
    gone = await client.delete("/v1/model_aliases/gpt-4o-mini", headers=acme)
    assert gone.json() == {"id": "gpt-4o-mini", "object": "model_alias", "deleted": True}
    assert (await client.get("/v1/model_aliases/gpt-4o-mini", headers=acme)).status_code == 404
    # A body field we do not know is refused, naming it.
    unknown = await client.put("/v1/model_aliases/x", headers=acme, json={"target": "a", "owner": "b"})
    assert unknown.status_code == 400 and unknown.json()["error"]["param"] == "owner"
