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
