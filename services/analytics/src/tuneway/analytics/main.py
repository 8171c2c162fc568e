"""Composition root of the analytics service (placeholder until the server lands)."""

from __future__ import annotations

from pathlib import Path

MIGRATIONS = Path(__file__).parent / "migrations"
