"""Which settings class a container runs with, and what that class reads from the environment."""

from __future__ import annotations

import importlib
import inspect
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
    # The batch worker runs with the gateway's settings (and image), using only some of them.
    "tuneway.gateway.batch_worker": GatewaySettings,
    "tuneway.prompt_svc": PromptSettings,
    "tuneway.retriever": RetrieverSettings,
    "tuneway.inference": InferenceSettings,
    "tuneway.trainer": TrainerSettings,
    "tuneway.analytics": AnalyticsSettings,
}

# Processes that share a settings class but read only part of it: module -> its composition root,
# whose `settings.<field>` uses are the fields the process reads (the other fields are for the
# process the class was written for; a connection they name is one this process never makes).
COMPOSITION_ROOTS = {"tuneway.gateway.batch_worker": "tuneway.gateway.batch_worker.main"}


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
        if self.module == "tuneway.gateway.batch_worker":
            return {"metrics": "batch_worker_metrics_port"}
        if self.role == "worker":
            return {"metrics": "worker_metrics_port"}
        return {"grpc": "grpc_port", "metrics": "metrics_port"}

    def reads(self, variable: str) -> bool:
        """Whether the process uses the setting an environment variable sets (every one, unless its
        composition root is listed in COMPOSITION_ROOTS)."""
        root = COMPOSITION_ROOTS.get(self.module)
        if root is None:
            return True
        source = inspect.getsource(importlib.import_module(root))
        used = set(re.findall(r"\bsettings\.(\w+)", source))
        return any(variable in field_env_names(self.settings, name) for name in used)


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


def field_env_names(settings: type[BaseSettings], name: str) -> set[str]:
    """The environment variables that set one field (pydantic-settings' own rules, upper case); none
    for a name that is no field (a method such as db_url)."""
    field = settings.model_fields.get(name)
    if field is None:
        return set()
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return {choice.upper() for choice in alias.choices if isinstance(choice, str)}
    if isinstance(alias, str):
        return {alias.upper()}
    return {f"{settings.model_config.get('env_prefix', '')}{name}".upper()}


def env_names(settings: type[BaseSettings]) -> set[str]:
    """Every environment variable the settings class reads."""
    return {env for name in settings.model_fields for env in field_env_names(settings, name)}
