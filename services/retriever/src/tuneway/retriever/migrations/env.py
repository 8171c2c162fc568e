"""Alembic environment of the retriever: tuneway.core.migrations_env does the work (see there)."""

from __future__ import annotations

from tuneway.core.migrations_env import run_env
from tuneway.retriever.models import Base

run_env(Base.metadata, service="retriever")
