"""The engine's LoRA set, reconciled with the desired set in the NATS KV bucket ADAPTERS."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import DecodeError
from nats.js.kv import KV_DEL, KV_PURGE, KeyValue

from tuneway.api.events.v1.events_pb2 import AdapterRegistration
from tuneway.core.artifacts import directory_sha256, local_path
from tuneway.inference.metrics import ADAPTER_EVENTS, LOADED_ADAPTERS

log = logging.getLogger(__name__)
# Tells whoever registered an adapter that this replica serves it: (subject, body) -> published.
Announce = Callable[[str, bytes], Awaitable[None]]
LOADED_SUBJECT = "adapters.loaded"


@dataclass(frozen=True)
class Adapter:
    """An adapter registered in this replica's engine."""

    key: str
    model: str
    tenant_id: str
    base_model: str
    sha256: str
    path: str
    lora_int_id: int
    created_at: int
    loaded_at: int


class AdapterSet:
    """Adapters this replica serves, by KV key and by model name."""

    def __init__(self) -> None:
        self._by_key: dict[str, Adapter] = {}
        self._by_model: dict[str, Adapter] = {}

    def by_model(self, model: str) -> Adapter | None:
        """The adapter clients call `model`, if loaded."""
        return self._by_model.get(model)

    def by_key(self, key: str) -> Adapter | None:
        """The adapter registered under KV key `key`, if loaded."""
        return self._by_key.get(key)

    def keys(self) -> set[str]:
        """KV keys of every loaded adapter."""
        return set(self._by_key)

    def all(self) -> Iterable[Adapter]:
        """Every loaded adapter."""
        return list(self._by_key.values())

    def put(self, adapter: Adapter) -> None:
        """Records a loaded adapter."""
        self._by_key[adapter.key] = adapter
        self._by_model[adapter.model] = adapter
        LOADED_ADAPTERS.set(len(self._by_key))

    def pop(self, key: str) -> Adapter | None:
        """Forgets the adapter under `key` and returns it."""
        adapter = self._by_key.pop(key, None)
        if adapter is not None:
            self._by_model.pop(adapter.model, None)
        LOADED_ADAPTERS.set(len(self._by_key))
        return adapter


class AdapterReconciler:
    """Applies KV puts and deletes to the engine: add_lora after a sha256 check, remove_lora on delete."""

    def __init__(
        self, engine: Any, adapters: AdapterSet, base_model: str, announce: Announce | None = None
    ) -> None:
        self._engine = engine
        self._adapters = adapters
        self._base_model = base_model
        self._announce = announce
        self._ids = itertools.count(1)
        self.synced = asyncio.Event()

    async def apply(self, key: str, value: bytes | None) -> None:
        """Brings one key's adapter in line with its KV value (None: the key was deleted)."""
        if value is None:
            await self._unload(key, reason="deleted")
            return
        try:
            registration = AdapterRegistration.FromString(value)
        except DecodeError:
            log.error("adapter %s: KV value is not an AdapterRegistration", key)
            ADAPTER_EVENTS.labels("add", "invalid").inc()
            return
        if registration.base_model != self._base_model:
            return  # another pool of replicas serves that base model
        current = self._adapters.by_key(key)
        if (
            current is not None
            and current.sha256 == registration.sha256
            and current.model == registration.model
        ):
            return
        await self._unload(key, reason="replaced")
        await self._load(key, registration)

    async def resync(self, desired: dict[str, bytes]) -> None:
        """Applies a full snapshot: loads what is new or changed, unloads what is gone."""
        for key in self._adapters.keys() - desired.keys():
            await self._unload(key, reason="absent from snapshot")
        for key, value in desired.items():
            await self.apply(key, value)
        self.synced.set()

    async def _load(self, key: str, registration: AdapterRegistration) -> None:
        from vllm.lora.request import LoRARequest

        try:
            path = local_path(registration.artifact_uri)
            digest = await asyncio.to_thread(directory_sha256, path) if path.is_dir() else None
        except Exception as error:
            log.error("adapter %s: cannot read artifact %s: %s", key, registration.artifact_uri, error)
            ADAPTER_EVENTS.labels("add", "unreadable").inc()
            return
        if digest is None:
            log.error("adapter %s: artifact %s is not a directory", key, registration.artifact_uri)
            ADAPTER_EVENTS.labels("add", "missing").inc()
            return
        if digest != registration.sha256:
            log.error(
                "adapter %s: sha256 mismatch (registered %s, found %s)", key, registration.sha256, digest
            )
            ADAPTER_EVENTS.labels("add", "checksum_mismatch").inc()
            return
        lora_id = next(self._ids)
        request = LoRARequest(
            lora_name=registration.model, lora_int_id=lora_id, lora_path=str(path.resolve())
        )
        try:
            await self._engine.add_lora(request)
        except Exception as error:
            log.error("adapter %s: engine refused it: %s", key, error)
            ADAPTER_EVENTS.labels("add", "refused").inc()
            return
        self._adapters.put(
            Adapter(
                key=key,
                model=registration.model,
                tenant_id=registration.tenant_id,
                base_model=registration.base_model,
                sha256=registration.sha256,
                path=str(path),
                lora_int_id=lora_id,
                created_at=registration.created_at,
                loaded_at=int(time.time()),
            )
        )
        ADAPTER_EVENTS.labels("add", "loaded").inc()
        log.info("adapter loaded", extra={"key": key, "model": registration.model})
        if self._announce is not None:
            # The trainer waits for this before it reports the job succeeded (see ARCHITECTURE.md).
            try:
                await self._announce(f"{LOADED_SUBJECT}.{key}", registration.sha256.encode())
            except Exception as error:
                log.warning("adapter %s: could not announce the load: %s", key, error)

    async def _unload(self, key: str, *, reason: str) -> None:
        adapter = self._adapters.pop(key)
        if adapter is None:
            return
        await self._engine.remove_lora(adapter.lora_int_id)
        ADAPTER_EVENTS.labels("remove", "unloaded").inc()
        log.info("adapter unloaded (%s)", reason, extra={"key": key, "model": adapter.model})


async def watch_adapters(kv: KeyValue, reconciler: AdapterReconciler) -> None:
    """Follows the bucket forever: a full resync from the initial values, then every update."""
    while True:
        try:
            watcher = await kv.watchall()
            snapshot: dict[str, bytes] = {}
            async for entry in watcher:
                if entry is None:  # end of the initial values
                    await reconciler.resync(snapshot)
                    snapshot = {}
                    continue
                deleted = entry.operation in (KV_DEL, KV_PURGE)
                if not reconciler.synced.is_set():
                    if deleted:
                        snapshot.pop(entry.key, None)
                    else:
                        snapshot[entry.key] = entry.value or b""
                    continue
                await reconciler.apply(entry.key, None if deleted else entry.value)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.warning("adapter watch interrupted, resyncing: %s", error)
            reconciler.synced.clear()
            await asyncio.sleep(1)
