"""What an API key and its tenant may use per minute, as set through /admin (None: no limit)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Scope = Literal["key", "tenant"]


@dataclass(frozen=True)
class Quota:
    """The per-minute limits of one holder: an API key (by id) or a tenant (by id)."""

    scope: Scope
    holder: str
    requests_per_minute: int | None
    tokens_per_minute: int | None

    @property
    def limited(self) -> bool:
        """Whether any limit is set."""
        return self.requests_per_minute is not None or self.tokens_per_minute is not None

    def describe(self) -> str:
        """How the holder is named in a 429's message."""
        return f"API key {self.holder}" if self.scope == "key" else f"tenant {self.holder}"


def quotas_of(
    key_id: str,
    key_limits: tuple[int | None, int | None],
    tenant_id: str,
    tenant_limits: tuple[int | None, int | None],
) -> tuple[Quota, ...]:
    """The quotas a request with this key must fit in: the key's and its tenant's, those that limit."""
    candidates = (Quota("key", key_id, *key_limits), Quota("tenant", tenant_id, *tenant_limits))
    return tuple(quota for quota in candidates if quota.limited)
