"""Settings: per-service prefixes and the shared TUNEWAY_ values."""

from __future__ import annotations

from pathlib import Path

import pytest

from tuneway.core.settings import DatabaseSettings, GrpcServiceSettings, ServiceSettings, service_config


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


class ExampleGrpcSettings(GrpcServiceSettings, DatabaseSettings):
    model_config = service_config("EXAMPLE_")
    database_name = "example"
    grpc_port: int = 50999
    metrics_port: int = 9199


def test_grpc_service_with_a_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("EXAMPLE_DATABASE_URL", "EXAMPLE_ARTIFACTS_DIR", "EXAMPLE_GRPC_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TUNEWAY_DATA_DIR", str(tmp_path))
    settings = ExampleGrpcSettings()
    assert settings.db_url() == f"sqlite+aiosqlite:///{tmp_path}/example.db"
    assert settings.bind_address() == "0.0.0.0:50999"
    assert settings.drain_seconds == 5.0
    assert settings.artifacts_root() == (tmp_path / "artifacts").resolve()
    monkeypatch.setenv("EXAMPLE_DATABASE_URL", "postgresql+asyncpg://db/x")
    monkeypatch.setenv("EXAMPLE_ARTIFACTS_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("EXAMPLE_GRPC_PORT", "1234")
    settings = ExampleGrpcSettings()
    assert settings.db_url() == "postgresql+asyncpg://db/x"
    assert settings.artifacts_root() == tmp_path / "store"
    assert settings.bind_address() == "0.0.0.0:1234"
