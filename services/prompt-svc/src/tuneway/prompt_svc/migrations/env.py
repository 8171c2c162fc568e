"""Alembic environment of the prompt service: tuneway.core.migrations_env does the work (see there)."""

from __future__ import annotations

from tuneway.core.migrations_env import run_env
from tuneway.prompt_svc.models import Base

run_env(Base.metadata, service="prompt-svc")
