"""Alembic environment of the gateway: tuneway.core.migrations_env does the work (see there)."""

from __future__ import annotations

from tuneway.core.migrations_env import run_env
from tuneway.gateway.models import Base

# Early releases kept the revision in the shared `alembic_version` table; run_env moves it over.
run_env(Base.metadata, service="gateway", legacy_version_table="alembic_version")
