"""Which settings class a container runs with, and what that class reads from the environment."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from tests.deploy.manifests import Obj
from tuneway.analytics.settings import AnalyticsSettings
from tuneway.gateway.settings import GatewaySettings
from tuneway.inference.settings import InferenceSettings
from tuneway.prompt_svc.settings import PromptSettings
from tuneway.retriever.settings import RetrieverSettings
from tuneway.trainer.settings import TrainerSettings

# `python -m <module> [role]` -> the settings class the process reads.
SETTINGS: dict[str, type[BaseSettings]] = {
    "tuneway.gateway": GatewaySettings,
    "tuneway.prompt_svc": PromptSettings,
    "tuneway.retriever": RetrieverSettings,
    "tuneway.inference": InferenceSettings,
    "tuneway.trainer": TrainerSettings,
    "tuneway.analytics": AnalyticsSettings,
}


@dataclass(frozen=True)
class Process:
    """A tuneway service process as a container starts it."""

    module: str
    role: str
    settings: type[BaseSettings]

    def port_fields(self) -> dict[str, str]:
        """Container port name -> the settings field that says which port the process listens on."""
        if self.role == "script":
            return {}
        if self.module == "tuneway.gateway":
            return {"http": "port", "metrics": "metrics_port"}
        if self.role == "worker":
            return {"metrics": "worker_metrics_port"}
        return {"grpc": "grpc_port", "metrics": "metrics_port"}


def process_of(container: Obj) -> Process | None:
    """The service a container runs (`python -m tuneway.<service> [role]`, or a `python -c` script
    that reads a service's settings: role "script"), or None for another program."""
    command = [*container.get("command", []), *container.get("args", [])]
    if "-c" in command:
        script = command[command.index("-c") + 1]
        found = re.search(r"from (tuneway\.\w+)\.settings import", script)
        return Process(found[1], "script", SETTINGS[found[1]]) if found else None
    if "-m" not in command:
        return None
    rest = command[command.index("-m") + 1 :]
    if rest[0] not in SETTINGS:
        return None
    role = rest[1] if len(rest) > 1 else "api" if rest[0] == "tuneway.trainer" else ""
    return Process(rest[0], role, SETTINGS[rest[0]])


def env_names(settings: type[BaseSettings]) -> set[str]:
    """Every environment variable the settings class reads (pydantic-settings' own rules, upper case)."""
    prefix = str(settings.model_config.get("env_prefix", ""))
    names = set()
    for name, field in settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names |= {choice.upper() for choice in alias.choices if isinstance(choice, str)}
        elif isinstance(alias, str):
            names.add(alias.upper())
        else:
            names.add(f"{prefix}{name}".upper())
    return names
