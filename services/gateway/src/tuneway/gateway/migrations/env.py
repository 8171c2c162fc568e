"""Alembic environment of the gateway: tuneway.core.migrations_env does the work (see there)."""

from __future__ import annotations

from tuneway.core.migrations_env import run_env

# Each table registers on the one Base as its module is imported: every module with tables is named here.
from tuneway.gateway.audit import tables as _audit  # noqa: F401
from tuneway.gateway.batches import tables as _batches  # noqa: F401
from tuneway.gateway.files import tables as _files  # noqa: F401
from tuneway.gateway.models import alias_tables as _model_aliases  # noqa: F401
from tuneway.gateway.tenancy.tables import Base

# Early releases kept the revision in the shared `alembic_version` table; run_env moves it over.
run_env(Base.metadata, service="gateway", legacy_version_table="alembic_version")
