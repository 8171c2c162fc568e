"""Settings: per-service prefixes and the shared TUNEWAY_ values."""

from __future__ import annotations

from pathlib import Path

import pytest

from tuneway.core.settings import ServiceSettings, service_config


class ExampleSettings(ServiceSettings):
    model_config = service_config("EXAMPLE_")
    port: int = 1


def test_prefixed_and_shared_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXAMPLE_PORT", "4242")
    monkeypatch.setenv("TUNEWAY_DATA_DIR", "/srv/tuneway")
    monkeypatch.setenv("TUNEWAY_NATS_URL", "nats://nats:4222")
    monkeypatch.setenv("OTHER_PORT", "9")
    settings = ExampleSettings()
    assert settings.port == 4242
    assert settings.data_dir == Path("/srv/tuneway")
    assert settings.nats_url == "nats://nats:4222"


def test_defaults_are_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TUNEWAY_DATA_DIR", "TUNEWAY_NATS_URL", "EXAMPLE_PORT"):
        monkeypatch.delenv(name, raising=False)
    settings = ExampleSettings()
    assert settings.data_dir == Path("var")
    assert settings.nats_url == "nats://127.0.0.1:4222"
    assert ExampleSettings(data_dir=Path("x")).data_dir == Path("x")
