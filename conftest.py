"""Root conftest: shared fixtures over real infrastructure for every test directory."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["tuneway.core.testing.fixtures"]

REPO = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def demo_model() -> Path:
    """The tiny demo model, built once into var/models as `make model` does."""
    from tuneway.devstack.demo_model import build_demo_model

    return build_demo_model(REPO / "var" / "models" / "tuneway-tiny")
