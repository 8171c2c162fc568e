"""Alembic environment of the analytics service: tuneway.core.migrations_env does the work (see there)."""

from __future__ import annotations

from tuneway.analytics.models import Base
from tuneway.core.migrations_env import run_env

run_env(Base.metadata, service="analytics")
