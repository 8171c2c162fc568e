"""Root conftest: shared fixtures over real infrastructure for every test directory."""

pytest_plugins = ["tuneway.core.testing.fixtures"]
