"""Per-tenant model aliases: an application that sends `gpt-4o-mini` switches to tuneway by changing only
its base URL, the tenant having pointed that name at a base model, an adapter, an assistant or an
embedder. Every generation and embeddings route resolves the requested model through `resolve` first.

Resolving must cost the request nothing: each replica keeps every tenant's aliases in memory, loads
a tenant's on its first request, and after `cache_seconds` answers from what it has while one
background query refreshes them. A change on this replica applies at once; other replicas see it
within `cache_seconds`, as they see a revoked key.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.core.errors import InvalidArgumentError, NotFoundError
from tuneway.gateway.models import alias_repository as repo
from tuneway.gateway.models.alias_tables import ModelAlias
from tuneway.gateway.prompts.assistant_names import ASSISTANT_PREFIX

log = logging.getLogger(__name__)

# Names OpenAI's models have (gpt-4o-mini, text-embedding-3-small, gpt-4o-2024-08-06, o1:latest).
ALIAS_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
# Prefixes of names the system gives itself: an alias there could hide an adapter or an assistant.
RESERVED_PREFIXES = ("ft:", ASSISTANT_PREFIX)


@dataclass(frozen=True)
class _Loaded:
    targets: dict[str, str]
    at: float


def alias_not_found(alias: str) -> NotFoundError:
    """An alias the tenant does not have (another tenant's included)."""
    return NotFoundError(f"No model alias '{alias}'.", param="alias", code="not_found")


def _check_alias(alias: str, callable_models: Iterable[str]) -> None:
    if not ALIAS_NAME.fullmatch(alias):
        raise InvalidArgumentError(
            f"Invalid alias {alias!r}: use 1 to 128 letters, digits, '.', '_', ':' or '-', starting with a "
            "letter or digit.",
            param="alias",
            code="invalid_value",
        )
    if alias.startswith(RESERVED_PREFIXES):
        raise InvalidArgumentError(
            f"Invalid alias {alias!r}: names starting with 'ft:' or 'assistant:' are the system's own.",
            param="alias",
            code="invalid_value",
        )
    if alias in callable_models:
        raise InvalidArgumentError(
            f"Invalid alias {alias!r}: a model of that name exists; an alias cannot hide it.",
            param="alias",
            code="invalid_value",
        )


class ModelAliases:
    """The tenants' aliases in the gateway database, with each replica's copy for resolving."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], cache_seconds: float = 5.0) -> None:
        self._sessions = sessions
        self._cache_seconds = cache_seconds
        self._loaded: dict[str, _Loaded] = {}
        self._refreshing: dict[str, asyncio.Task[None]] = {}

    async def resolve(self, tenant_id: str, model: str) -> str:
        """The model `model` stands for in this tenant: its alias's target, else `model` itself."""
        if model.startswith(RESERVED_PREFIXES):
            return model
        return (await self._targets(tenant_id)).get(model, model)

    async def list(self, tenant_id: str) -> Sequence[ModelAlias]:
        """The tenant's aliases, by name."""
        async with self._sessions() as session:
            return await repo.list_aliases(session, tenant_id)

    async def get(self, tenant_id: str, alias: str) -> ModelAlias:
        """One alias, or 404."""
        async with self._sessions() as session:
            found = await repo.get_alias(session, tenant_id, alias)
        if found is None:
            raise alias_not_found(alias)
        return found

    async def set(
        self, tenant_id: str, alias: str, target: str, callable_models: Sequence[str]
    ) -> ModelAlias:
        """Creates the alias or points it at `target`, which must be one of `callable_models` (what the
        tenant may call now; never another alias, so resolving takes one step)."""
        _check_alias(alias, callable_models)
        if target not in callable_models:
            raise InvalidArgumentError(
                f"Invalid 'target': the model `{target}` does not exist or you do not have access to it.",
                param="target",
                code="model_not_found",
            )
        now = int(time.time())
        async with self._sessions.begin() as session:
            row = await repo.get_alias(session, tenant_id, alias)
            if row is None:
                row = ModelAlias(tenant_id=tenant_id, alias=alias, target=target, created_at=now)
                session.add(row)
            row.target, row.updated_at = target, now
        await self._reload(tenant_id)
        return row

    async def delete(self, tenant_id: str, alias: str) -> None:
        """Deletes the alias, or 404."""
        async with self._sessions.begin() as session:
            if await repo.get_alias(session, tenant_id, alias) is None:
                raise alias_not_found(alias)
            await repo.delete_alias(session, tenant_id, alias)
        await self._reload(tenant_id)

    def close(self) -> None:
        """Stops the refreshes under way."""
        for task in self._refreshing.values():
            task.cancel()

    async def _targets(self, tenant_id: str) -> dict[str, str]:
        loaded = self._loaded.get(tenant_id)
        if loaded is None:
            return await self._reload(tenant_id)
        if time.monotonic() - loaded.at > self._cache_seconds and tenant_id not in self._refreshing:
            task = asyncio.create_task(self._refresh(tenant_id), name=f"model-aliases-{tenant_id}")
            self._refreshing[tenant_id] = task
        return loaded.targets

    async def _reload(self, tenant_id: str) -> dict[str, str]:
        at = time.monotonic()
        async with self._sessions() as session:
            targets = {a.alias: a.target for a in await repo.list_aliases(session, tenant_id)}
        self._loaded[tenant_id] = _Loaded(targets, at)
        return targets

    async def _refresh(self, tenant_id: str) -> None:
        try:
            await self._reload(tenant_id)
        except Exception as error:
            # The aliases known stay in use; the next request past the interval tries again.
            log.warning("model aliases of %s not refreshed: %s", tenant_id, error)
        finally:
            self._refreshing.pop(tenant_id, None)
