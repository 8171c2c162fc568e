"""Settings bases shared by every service: per-service env prefix plus the shared TUNEWAY_ values.

A service's settings class picks the bases it needs: `GrpcServiceSettings` for a gRPC server (bind
address, ports, drain) and `DatabaseSettings` for a service that owns SQL tables. Subclasses set
`model_config = service_config("PREFIX_")` and their own defaults (ports, database name).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from tuneway.core.db import sqlite_url


class ServiceSettings(BaseSettings):
    """Base class: the data dir, NATS, log level (shared) and the artifact store (per service)."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    # Shared values are read without the service prefix, so one export configures every service.
    data_dir: Path = Field(Path("var"), validation_alias=AliasChoices("TUNEWAY_DATA_DIR", "data_dir"))
    nats_url: str = Field(
        "nats://127.0.0.1:4222", validation_alias=AliasChoices("TUNEWAY_NATS_URL", "nats_url")
    )
    log_level: str = Field("INFO", validation_alias=AliasChoices("TUNEWAY_LOG_LEVEL", "log_level"))
    # Off by default: a tenant label multiplies every series by the number of tenants. When on, only the
    # gateway's request counter gets it (bounded by tuneway.core.metrics.BoundedLabel).
    metrics_tenant_label: bool = Field(
        False, validation_alias=AliasChoices("TUNEWAY_METRICS_TENANT_LABEL", "metrics_tenant_label")
    )
    # Root of uploaded files, datasets' derived artifacts, checkpoints and adapters; empty means
    # <data dir>/artifacts. Artifacts are named by absolute URIs, so every service that reads them
    # must see the same store at the same path.
    artifacts_dir: str = ""

    def artifacts_root(self) -> Path:
        """Absolute root of the artifact store on this machine."""
        return Path(self.artifacts_dir or self.data_dir / "artifacts").resolve()


class GrpcServiceSettings(ServiceSettings):
    """A gRPC service: where it listens, where its metrics are, and how long it drains on SIGTERM."""

    host: str = "0.0.0.0"
    grpc_port: int
    metrics_port: int
    # Seconds in-flight RPCs get to finish on SIGTERM.
    drain_seconds: float = 5.0

    def bind_address(self) -> str:
        """host:port for the gRPC server."""
        return f"{self.host}:{self.grpc_port}"


class DatabaseSettings(ServiceSettings):
    """A service with SQL tables: `database_url`, or SQLite under the data dir when it is empty."""

    # The file name of the embedded default: <data dir>/<database_name>.db.
    database_name: ClassVar[str]

    # Empty means SQLite under the data dir (var/<service>.db); else e.g. postgresql+asyncpg://...
    database_url: str = ""

    def db_url(self) -> str:
        """The database URL, defaulting to the embedded SQLite file."""
        return self.database_url or sqlite_url(self.data_dir, self.database_name)


def service_config(env_prefix: str) -> SettingsConfigDict:
    """Settings config of one service: its env prefix, unknown variables ignored."""
    return SettingsConfigDict(env_prefix=env_prefix, extra="ignore", populate_by_name=True)
