"""Alembic environment of the trainer: tuneway.core.migrations_env does the work (see there)."""

from __future__ import annotations

from tuneway.core.migrations_env import run_env
from tuneway.trainer.models import Base

run_env(Base.metadata, lock_name="tuneway-trainer-migrations")
