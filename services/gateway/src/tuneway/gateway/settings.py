"""Settings of the gateway (env prefix GATEWAY_; the bootstrap key is the shared TUNEWAY_BOOTSTRAP_KEY)."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field

from tuneway.core.db import sqlite_url
from tuneway.core.settings import ServiceSettings, service_config


class GatewaySettings(ServiceSettings):
    """HTTP serving, the gateway's own database, and where the other services are."""

    model_config = service_config("GATEWAY_")

    host: str = "0.0.0.0"
    port: int = 8080
    # Empty means SQLite under the data dir (var/gateway.db).
    database_url: str = ""
    inference_target: str = "127.0.0.1:50053"
    # Requests with a larger body get 413 before it is read.
    max_body_bytes: int = 4 * 1024 * 1024
    # Deadline of unary calls to other services; generations are bounded by their tokens instead.
    rpc_timeout_seconds: float = 10.0
    # How long a verified API key is trusted without asking the database again (revocation delay).
    key_cache_seconds: float = 5.0
    # Suggested wait, sent as Retry-After with 503 and 429.
    retry_after_seconds: int = 1
    bootstrap_key: str = Field("", validation_alias=AliasChoices("TUNEWAY_BOOTSTRAP_KEY", "bootstrap_key"))

    def db_url(self) -> str:
        """The database URL, defaulting to the embedded SQLite file."""
        return self.database_url or sqlite_url(self.data_dir, "gateway")

    def admin_key_file(self) -> Path:
        """Where a generated bootstrap admin key is written (readable by the owner only)."""
        return self.data_dir / "admin_key"
