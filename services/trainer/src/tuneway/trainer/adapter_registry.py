"""Adapter registry: numbered versions per family, aliases with history, and the ADAPTERS KV keys."""

from __future__ import annotations

import time
from typing import Any, Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.api.events.v1.events_pb2 import AdapterRegistration
from tuneway.core.errors import FailedPreconditionError, NotFoundError
from tuneway.trainer import domain as d
from tuneway.trainer.models import AdapterVersionRow, AliasRow, JobRow
from tuneway.trainer.repository import adapters as adapter_repo


class KeyValueStore(Protocol):
    """The part of a NATS KV bucket the registry uses."""

    async def put(self, key: str, value: bytes) -> int: ...

    async def delete(self, key: str) -> bool: ...


def registration(model: str, version: AdapterVersionRow) -> bytes:
    """The KV value that makes inference replicas serve `version` as `model`."""
    return AdapterRegistration(
        model=model,
        tenant_id=version.tenant_id,
        base_model=version.base_model,
        artifact_uri=version.artifact_uri,
        sha256=version.sha256,
        created_at=version.created_at,
        job_id=version.job_id,
    ).SerializeToString()


class Registry:
    """Versions and aliases in the database, mirrored into the ADAPTERS bucket."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], kv: KeyValueStore) -> None:
        self._sessions = sessions
        self._kv = kv

    async def record(
        self,
        job: JobRow,
        artifact_uri: str,
        sha256: str,
        hyperparameters: dict[str, Any],
        metrics: dict[str, float],
    ) -> d.AdapterVersion:
        """The job's version: numbered next in its family, or the one a previous attempt recorded."""
        name = job.suffix or "default"
        for _ in range(5):  # two jobs of one family finishing together race for a number
            try:
                async with self._sessions() as s, s.begin():
                    existing = await adapter_repo.version_of_job(s, job.id)
                    if existing is not None:
                        return adapter_repo.version_of(existing)
                    latest = await adapter_repo.last_version_number(s, job.tenant_id, name)
                    row = AdapterVersionRow(
                        model=d.fine_tuned_model(job.model, job.tenant_id, job.suffix, job.id),
                        tenant_id=job.tenant_id,
                        name=name,
                        version=latest + 1,
                        base_model=job.model,
                        job_id=job.id,
                        dataset_sha256=job.dataset_sha256,
                        hyperparameters=hyperparameters,
                        metrics=metrics,
                        artifact_uri=artifact_uri,
                        sha256=sha256,
                        status=d.ACTIVE,
                        created_at=int(time.time()),
                    )
                    s.add(row)
                return adapter_repo.version_of(row)
            except IntegrityError:
                continue
        raise FailedPreconditionError(f"could not number the adapter of job {job.id}")

    async def publish(self, version: d.AdapterVersion) -> str:
        """Puts the version's KV key; returns the key."""
        async with self._sessions() as s:
            row = await self._version(s, version.tenant_id, version.model)
        key = d.version_key(row.tenant_id, row.job_id)
        await self._kv.put(key, registration(row.model, row))
        return key

    async def list_versions(self, tenant_id: str, name: str, include_retired: bool) -> list[d.AdapterVersion]:
        """The tenant's versions, by family then number."""
        tenant = d.check_tenant(tenant_id)
        async with self._sessions() as s:
            rows = await adapter_repo.list_versions(s, tenant, name, include_retired)
        return [adapter_repo.version_of(r) for r in rows]

    async def get_version(self, tenant_id: str, model: str) -> d.AdapterVersion:
        """One version by its model name."""
        async with self._sessions() as s:
            return adapter_repo.version_of(await self._version(s, tenant_id, model))

    async def retire(self, tenant_id: str, model: str) -> d.AdapterVersion:
        """Retires a version: its KV key goes, so every replica unloads it."""
        async with self._sessions() as s, s.begin():
            row = await self._version(s, tenant_id, model)
            pointing = await adapter_repo.aliases_targeting(s, tenant_id, model)
            if pointing:
                raise FailedPreconditionError(
                    f"Alias {', '.join(sorted(pointing))} points at {model}; move or delete it first.",
                    param="model",
                )
            if row.status != d.RETIRED:
                row.status = d.RETIRED
                await self._kv.delete(d.version_key(row.tenant_id, row.job_id))
            return adapter_repo.version_of(row)

    async def set_alias(self, tenant_id: str, alias: str, target: str) -> d.AdapterAlias:
        """Points an alias at an active version, remembering where it pointed before."""
        d.check_alias(alias)
        async with self._sessions() as s, s.begin():
            version = await self._active(s, tenant_id, target, "target")
            row = await adapter_repo.get_alias(s, tenant_id, alias)
            model = d.alias_model(version.base_model, tenant_id, alias)
            if row is None:
                row = AliasRow(
                    tenant_id=tenant_id, alias=alias, model=model, target=target, history=[], updated_at=0
                )
                s.add(row)
            elif row.target != target:
                row.history = [row.target, *row.history]
            row.target, row.model, row.updated_at = target, model, int(time.time())
            # KV before commit: if the put fails, the alias has not moved anywhere.
            await self._kv.put(d.alias_key(tenant_id, alias), registration(model, version))
            return adapter_repo.alias_of(row)

    async def rollback_alias(self, tenant_id: str, alias: str) -> d.AdapterAlias:
        """Moves an alias back to the version it pointed at before its last move."""
        async with self._sessions() as s, s.begin():
            row = await self._alias(s, tenant_id, alias)
            if not row.history:
                raise FailedPreconditionError(
                    f"Alias {alias} has no earlier target to roll back to.", param="alias"
                )
            previous, *rest = row.history
            version = await self._active(s, tenant_id, previous, "alias")
            row.target, row.history, row.updated_at = previous, list(rest), int(time.time())
            row.model = d.alias_model(version.base_model, tenant_id, alias)
            await self._kv.put(d.alias_key(tenant_id, alias), registration(row.model, version))
            return adapter_repo.alias_of(row)

    async def list_aliases(self, tenant_id: str) -> list[d.AdapterAlias]:
        """The tenant's aliases by name."""
        tenant = d.check_tenant(tenant_id)
        async with self._sessions() as s:
            rows = await adapter_repo.list_aliases(s, tenant)
        return [adapter_repo.alias_of(r) for r in rows]

    async def delete_alias(self, tenant_id: str, alias: str) -> None:
        """Deletes an alias and its KV key (its versions stay)."""
        async with self._sessions() as s, s.begin():
            row = await self._alias(s, tenant_id, alias)
            await s.delete(row)
            await self._kv.delete(d.alias_key(tenant_id, alias))

    async def _version(self, s: AsyncSession, tenant_id: str, model: str) -> AdapterVersionRow:
        row = await adapter_repo.get_version(s, model)
        if row is None or row.tenant_id != d.check_tenant(tenant_id):
            raise NotFoundError(
                f"The model `{model}` does not exist or you do not have access to it.",
                param="model",
                code="model_not_found",
            )
        return row

    async def _active(self, s: AsyncSession, tenant_id: str, model: str, param: str) -> AdapterVersionRow:
        row = await self._version(s, tenant_id, model)
        if row.status != d.ACTIVE:
            raise FailedPreconditionError(f"{model} is retired and cannot be served again.", param=param)
        return row

    async def _alias(self, s: AsyncSession, tenant_id: str, alias: str) -> AliasRow:
        row = await adapter_repo.get_alias(s, d.check_tenant(tenant_id), alias)
        if row is None:
            raise NotFoundError(f"No adapter alias {alias!r}.", param="alias")
        return row
