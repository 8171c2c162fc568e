"""Request bodies of /admin."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class CreateTenantRequest(BaseModel):
    """Body of POST /admin/tenants; `id` defaults to the name."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="1-64 characters from a-z, 0-9, '-', '_'; unique.")
    id: str | None = Field(None, description="Optional id with the same rules as `name`.")


class CreateKeyRequest(BaseModel):
    """Body of POST /admin/keys."""

    model_config = ConfigDict(extra="forbid")

    tenant_id: str
    role: Literal["member", "admin"] = "member"
    name: str = Field("", max_length=256)
    expires_at: int | None = Field(
        None, ge=0, le=2**53, description="When the key stops working (unix seconds); null: never."
    )


class RateLimits(BaseModel):
    """Per-minute quotas; null (or absent) removes a limit."""

    model_config = ConfigDict(extra="forbid")

    requests_per_minute: int | None = Field(None, ge=1, le=2**53, description="Requests per minute.")
    tokens_per_minute: int | None = Field(
        None, ge=1, le=2**53, description="Prompt and completion tokens per minute."
    )


class UpdateLimitsRequest(BaseModel):
    """Body of POST /admin/tenants/{tenant_id} and POST /admin/keys/{key_id}."""

    model_config = ConfigDict(extra="forbid")

    rate_limits: RateLimits
