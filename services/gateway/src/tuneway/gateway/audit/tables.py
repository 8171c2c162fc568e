"""The audit_entries table: one row per change, in the tenant whose resource changed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tuneway.gateway.tenancy.tables import Base

# Before and after are JSON objects or SQL NULL (a creation has no before, a deletion no after).
_SNAPSHOT = JSON(none_as_null=True)


class AuditEntry(Base):
    """A change: the actor's key, the action, the resource, and the resource as the API showed it before
    and after."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_tenant_id_seq", "tenant_id", "seq"),)

    # The order entries were written in (timestamps tie within a second): newest first is seq descending,
    # and the cursor of a page is an entry's seq.
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # audit-<24 hex>: what the API shows and `after` takes.
    id: Mapped[str] = mapped_column(String(64), unique=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    actor_key_id: Mapped[str] = mapped_column(String(64))
    actor_key_name: Mapped[str] = mapped_column(String(256))
    action: Mapped[str] = mapped_column(String(64))
    resource_type: Mapped[str] = mapped_column(String(64))
    resource_id: Mapped[str] = mapped_column(String(1024))
    before: Mapped[dict[str, Any] | None] = mapped_column(_SNAPSHOT, default=None)
    after: Mapped[dict[str, Any] | None] = mapped_column(_SNAPSHOT, default=None)
    request_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[int] = mapped_column(BigInteger)
