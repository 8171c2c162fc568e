"""Audit entries as the API shows them."""

from __future__ import annotations

from typing import Any, Literal

from typing_extensions import TypedDict  # pydantic documents typing.TypedDict only from Python 3.12

from tuneway.gateway.audit.tables import AuditEntry


class AuditActor(TypedDict):
    """The API key that made the change."""

    key_id: str
    key_name: str


class AuditEntryObject(TypedDict):
    """One change: who, when, what, and the resource before and after as the API showed it (null before a
    creation and after a deletion)."""

    id: str
    object: Literal["audit.entry"]
    tenant_id: str
    actor: AuditActor
    action: str
    resource_type: str
    resource_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str
    created_at: int


def audit_entry_object(entry: AuditEntry) -> AuditEntryObject:
    """The API object of an entry."""
    return {
        "id": entry.id,
        "object": "audit.entry",
        "tenant_id": entry.tenant_id,
        "actor": {"key_id": entry.actor_key_id, "key_name": entry.actor_key_name},
        "action": entry.action,
        "resource_type": entry.resource_type,
        "resource_id": entry.resource_id,
        "before": entry.before,
        "after": entry.after,
        "request_id": entry.request_id,
        "created_at": entry.created_at,
    }
