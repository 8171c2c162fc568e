"""Caches of the render path: per-tenant lookups (dropped on invalidation) and compiled versions."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from tuneway.prompt_svc.metrics import CACHE_LOOKUPS

MISSING: Any = object()


class TenantCache:
    """Lookups (labels, assistants, running experiments) grouped by tenant, with a TTL.

    Writers publish an invalidation for the tenant after they commit, and every replica drops that
    tenant's entries. A reader takes `generation(tenant)` before it reads the database and passes it
    to `put`; if an invalidation arrived meanwhile, the possibly stale value is not stored. While
    invalidations cannot be received (`live` is False) nothing is cached at all.
    """

    def __init__(self, ttl_seconds: float) -> None:
        self._ttl = ttl_seconds
        self._entries: dict[str, dict[Hashable, tuple[float, Any]]] = {}
        self._generations: dict[str, int] = {}
        self.live = False

    def get(self, tenant: str, key: Hashable) -> Any:
        """The cached value, or MISSING."""
        entry = self._entries.get(tenant, {}).get(key) if self.live else None
        if entry is None or entry[0] < time.monotonic():
            CACHE_LOOKUPS.labels("miss").inc()
            return MISSING
        CACHE_LOOKUPS.labels("hit").inc()
        return entry[1]

    def generation(self, tenant: str) -> int:
        """The tenant's invalidation count; pass it back to `put`."""
        return self._generations.get(tenant, 0)

    def put(self, tenant: str, key: Hashable, value: Any, generation: int) -> None:
        """Stores `value` unless the tenant was invalidated since `generation` was read."""
        if self.live and self._generations.get(tenant, 0) == generation:
            self._entries.setdefault(tenant, {})[key] = (time.monotonic() + self._ttl, value)

    def invalidate(self, tenant: str) -> None:
        """Drops every entry of `tenant`."""
        self._generations[tenant] = self._generations.get(tenant, 0) + 1
        self._entries.pop(tenant, None)

    def set_live(self, live: bool) -> None:
        """Turns caching on or off; both directions start from empty."""
        for tenant in list(self._entries):
            self.invalidate(tenant)
        self.live = live


class LruCache:
    """A bounded least-recently-used map, for values that never change (compiled versions)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._data: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable) -> Any:
        """The value, or MISSING."""
        value = self._data.get(key, MISSING)
        if value is not MISSING:
            self._data.move_to_end(key)
        return value

    def put(self, key: Hashable, value: Any) -> None:
        """Stores `value`, evicting the least recently used entry when full."""
        self._data[key] = value
        self._data.move_to_end(key)
        if len(self._data) > self._size:
            self._data.popitem(last=False)
