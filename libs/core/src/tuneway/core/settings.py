"""Settings base shared by every service: per-service env prefix plus the shared TUNEWAY_ values."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Base class: subclasses set `model_config = service_config("GATEWAY_")` and add their fields."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    # Shared values are read without the service prefix, so one export configures every service.
    data_dir: Path = Field(Path("var"), validation_alias=AliasChoices("TUNEWAY_DATA_DIR", "data_dir"))
    nats_url: str = Field(
        "nats://127.0.0.1:4222", validation_alias=AliasChoices("TUNEWAY_NATS_URL", "nats_url")
    )
    log_level: str = Field("INFO", validation_alias=AliasChoices("TUNEWAY_LOG_LEVEL", "log_level"))


def service_config(env_prefix: str) -> SettingsConfigDict:
    """Settings config of one service: its env prefix, unknown variables ignored."""
    return SettingsConfigDict(env_prefix=env_prefix, extra="ignore", populate_by_name=True)
