"""The gateway's declarative base, and the tables of tenancy: tenants and their API keys (stored hashed,
never in the clear)."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from tuneway.core.db import service_metadata

ROLES = ("admin", "member")
# The operators' own tenant: created at start-up, and the only one that may hold admin keys.
DEFAULT_TENANT = "default"


class Base(DeclarativeBase):
    """Declarative base of every gateway table (the Alembic env reads its metadata)."""

    metadata = service_metadata()


class Tenant(Base):
    """A customer of the platform; every other row in every service carries its id."""

    __tablename__ = "tenants"

    # `tenant_<hex>` or a slug the operator chose; both match the name pattern, so ids are safe
    # inside model names such as ft:<base>:<tenant>:<suffix>:<id>.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    # Per-minute quotas of all the tenant's keys together; None: no limit.
    requests_per_minute: Mapped[int | None] = mapped_column(BigInteger, default=None)
    tokens_per_minute: Mapped[int | None] = mapped_column(BigInteger, default=None)


class ApiKey(Base):
    """An API key of one tenant with one role; only its hash and a redacted form are stored."""

    __tablename__ = "api_keys"
    __table_args__ = (CheckConstraint("role IN ('admin', 'member')", name="role"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(256), default="")
    # sha256 hex of the raw key. Generated keys carry 32 random bytes, far beyond brute force, so a
    # fast unsalted hash is safe and lets authentication look a key up by its hash in one indexed query
    # (a slow, salted password hash would need the key id in the token and cost every request).
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Display form such as sk-tw-ab…wxyz, so operators can tell keys apart without the secret.
    redacted: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[int] = mapped_column(BigInteger)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger, default=None)
    # When the key stops working (unix seconds); None: never.
    expires_at: Mapped[int | None] = mapped_column(BigInteger, default=None)
    # Per-minute quotas of this key alone (its tenant's apply too); None: no limit.
    requests_per_minute: Mapped[int | None] = mapped_column(BigInteger, default=None)
    tokens_per_minute: Mapped[int | None] = mapped_column(BigInteger, default=None)
