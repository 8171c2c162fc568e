"""Domain values of the prompt layer: prompt specs, variants, experiments and assistants."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from tuneway.core.errors import InvalidArgumentError

ROLES = ("system", "user", "assistant")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
LABEL_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,31}$")
VARIABLE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
SELECTOR_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
DEFAULT_LABEL = "production"
# Resolves to the newest version; it cannot be moved.
LATEST = "latest"
# Names every template may use without declaring them.
BUILTIN_VARIABLES = frozenset({"message", "language", "channel", "tone", "user"})


@dataclass(frozen=True)
class MessageTemplate:
    role: str
    content: str


@dataclass(frozen=True)
class Variable:
    name: str
    description: str = ""
    default: str | None = None


@dataclass(frozen=True)
class Parameters:
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()

    def over(self, base: Parameters) -> Parameters:
        """These parameters where set, else `base`'s."""
        return Parameters(
            temperature=self.temperature if self.temperature is not None else base.temperature,
            top_p=self.top_p if self.top_p is not None else base.top_p,
            max_tokens=self.max_tokens if self.max_tokens is not None else base.max_tokens,
            stop=self.stop or base.stop,
        )


@dataclass(frozen=True)
class Variant:
    language: str = ""
    channel: str = ""
    tone: str = ""
    messages: tuple[MessageTemplate, ...] = ()
    output_style: str | None = None
    user_template: str | None = None

    def key(self) -> str:
        """A readable name of the selectors, like `de+web` (`default` for none)."""
        return "+".join(s for s in (self.language, self.channel, self.tone) if s) or "default"


@dataclass(frozen=True)
class PromptSpec:
    messages: tuple[MessageTemplate, ...] = ()
    variables: tuple[Variable, ...] = ()
    parameters: Parameters = field(default_factory=Parameters)
    output_style: str = ""
    user_template: str = ""
    variants: tuple[Variant, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The stored JSON form."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PromptSpec:
        """Reads the stored JSON form."""

        def messages(items: list[dict[str, Any]]) -> tuple[MessageTemplate, ...]:
            return tuple(MessageTemplate(m["role"], m["content"]) for m in items)

        params = data.get("parameters") or {}
        return cls(
            messages=messages(data.get("messages", [])),
            variables=tuple(Variable(**v) for v in data.get("variables", [])),
            parameters=Parameters(**{**params, "stop": tuple(params.get("stop", ()))}),
            output_style=data.get("output_style", ""),
            user_template=data.get("user_template", ""),
            variants=tuple(
                Variant(**{**v, "messages": messages(v.get("messages", []))})
                for v in data.get("variants", [])
            ),
        )


def _bad(message: str, param: str) -> InvalidArgumentError:
    return InvalidArgumentError(message, param=param, code="invalid_value")


def check_name(value: str, param: str) -> str:
    """A prompt or assistant name: 1-64 of letters, digits, '_', '.', '-'."""
    if not NAME_RE.match(value):
        raise _bad(
            f"Invalid value for '{param}': {value!r} must be 1-64 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit.",
            param,
        )
    return value


def check_label(value: str, param: str = "label", *, movable: bool = True) -> str:
    """A label name; `latest` is readable but not movable."""
    if not LABEL_RE.match(value):
        raise _bad(
            f"Invalid value for '{param}': {value!r} must be 1-32 of a-z, 0-9, '_', '.' or '-'.", param
        )
    if movable and value == LATEST:
        raise _bad(f"Invalid value for '{param}': '{LATEST}' always means the newest version.", param)
    return value


def _check_messages(messages: tuple[MessageTemplate, ...], param: str) -> None:
    for i, message in enumerate(messages):
        if message.role not in ROLES:
            raise _bad(
                f"Invalid value for '{param}[{i}].role': {message.role!r}; expected one of "
                f"{', '.join(ROLES)}.",
                f"{param}[{i}].role",
            )
        if message.role == "system" and i != 0:
            raise _bad(
                f"Invalid value for '{param}[{i}].role': only the first message may be the system message.",
                f"{param}[{i}].role",
            )


def check_spec_shape(spec: PromptSpec) -> None:
    """Roles, names and selectors of a spec (its templates are checked by the sandbox)."""
    _check_messages(spec.messages, "messages")
    seen: set[str] = set()
    for i, variable in enumerate(spec.variables):
        if not VARIABLE_RE.match(variable.name) or variable.name in BUILTIN_VARIABLES:
            raise _bad(
                f"Invalid value for 'variables[{i}].name': {variable.name!r} must be an identifier and not "
                f"one of the built-in names ({', '.join(sorted(BUILTIN_VARIABLES))}).",
                f"variables[{i}].name",
            )
        if variable.name in seen:
            raise _bad(f"Variable {variable.name!r} is declared twice.", f"variables[{i}].name")
        seen.add(variable.name)
    p = spec.parameters
    if p.temperature is not None and not 0 <= p.temperature <= 2:
        raise _bad(
            "Invalid value for 'parameters.temperature': must be within [0, 2].", "parameters.temperature"
        )
    if p.top_p is not None and not 0 < p.top_p <= 1:
        raise _bad("Invalid value for 'parameters.top_p': must be within (0, 1].", "parameters.top_p")
    if p.max_tokens is not None and p.max_tokens < 1:
        raise _bad("Invalid value for 'parameters.max_tokens': must be at least 1.", "parameters.max_tokens")
    if len(p.stop) > 4:
        raise _bad("Invalid value for 'parameters.stop': at most 4 sequences.", "parameters.stop")
    keys: set[tuple[str, str, str]] = set()
    for i, variant in enumerate(spec.variants):
        selectors = {"language": variant.language, "channel": variant.channel, "tone": variant.tone}
        for name, value in selectors.items():
            if value and not SELECTOR_RE.match(value):
                raise _bad(
                    f"Invalid value for 'variants[{i}].{name}': {value!r} must be 1-32 of a-z, 0-9, "
                    "'_', '-'.",
                    f"variants[{i}].{name}",
                )
        key = (variant.language, variant.channel, variant.tone)
        if key == ("", "", ""):
            raise _bad(
                f"Invalid value for 'variants[{i}]': a variant needs a language, channel or tone "
                "(the version itself is the default).",
                f"variants[{i}]",
            )
        if key in keys:
            raise _bad(f"Variant {variant.key()!r} is declared twice.", f"variants[{i}]")
        keys.add(key)
        _check_messages(variant.messages, f"variants[{i}].messages")


def normalise_spec(spec: PromptSpec) -> PromptSpec:
    """Selectors in lower case, so `DE` and `de` select the same variant."""
    return replace(
        spec,
        variants=tuple(
            replace(v, language=v.language.lower(), channel=v.channel.lower(), tone=v.tone.lower())
            for v in spec.variants
        ),
    )


@dataclass(frozen=True)
class PromptInfo:
    id: str
    tenant_id: str
    name: str
    description: str
    template: str
    latest_version: int
    labels: dict[str, int]
    created_at: int
    updated_at: int


@dataclass(frozen=True)
class VersionInfo:
    prompt_id: str
    prompt_name: str
    version: int
    spec: PromptSpec
    description: str
    labels: tuple[str, ...]
    created_at: int


@dataclass(frozen=True)
class ExperimentArm:
    name: str
    version: int
    model: str = ""
    weight: float = 1.0


@dataclass(frozen=True)
class ExperimentInfo:
    id: str
    tenant_id: str
    name: str
    description: str
    prompt_id: str
    prompt_name: str
    label: str
    variants: tuple[ExperimentArm, ...]
    status: str
    winner: str
    created_at: int
    started_at: int
    ended_at: int


@dataclass(frozen=True)
class Knowledge:
    knowledge_base_ids: tuple[str, ...] = ()
    top_k: int = 0
    score_threshold: float = 0.0


@dataclass(frozen=True)
class AssistantInfo:
    id: str
    tenant_id: str
    name: str
    description: str
    base_model: str
    adapter: str
    prompt: str
    prompt_label: str
    parameters: Parameters
    channels: tuple[str, ...]
    knowledge: Knowledge
    created_at: int
    updated_at: int
