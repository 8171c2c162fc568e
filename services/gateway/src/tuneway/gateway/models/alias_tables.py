"""The table of per-tenant model aliases: a name an application already sends (`gpt-4o-mini`) standing for
a model the tenant may call (a base model, an adapter, an assistant or an embedder)."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from tuneway.gateway.tenancy.tables import Base


class ModelAlias(Base):
    """One alias of one tenant and the model it stands for."""

    __tablename__ = "model_aliases"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    alias: Mapped[str] = mapped_column(String(128), primary_key=True)
    target: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)
