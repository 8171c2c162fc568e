"""Protobuf messages of the prompt service -> the JSON objects of the HTTP API."""

from __future__ import annotations

from typing import Any, Literal

from typing_extensions import TypedDict  # pydantic documents typing.TypedDict only from Python 3.12

from tuneway.api.prompt.v1 import prompt_pb2 as pb
from tuneway.gateway.prompts.assistant_names import assistant_model


class Parameters(TypedDict):
    """Sampling parameters; unset ones are null."""

    temperature: float | None
    top_p: float | None
    max_tokens: int | None
    stop: list[str]


class MessageObject(TypedDict):
    role: str
    content: str


class VariableObject(TypedDict):
    name: str
    description: str
    default: str | None


class VariantObject(TypedDict):
    """Messages and style for one language, channel and tone."""

    language: str
    channel: str
    tone: str
    messages: list[MessageObject]
    output_style: str | None
    user_template: str | None


class Spec(TypedDict):
    """The content of a prompt version or role template."""

    messages: list[MessageObject]
    variables: list[VariableObject]
    parameters: Parameters
    output_style: str
    user_template: str
    variants: list[VariantObject]


class Prompt(TypedDict):
    """A prompt; `labels` map label names to version numbers."""

    id: str
    object: Literal["prompt"]
    name: str
    description: str
    template: str | None
    latest_version: int
    labels: dict[str, int]
    created_at: int
    updated_at: int


class LabelMoved(Prompt):
    """The prompt after a label moved, with the version the label pointed at before (null if new)."""

    previous_version: int | None


class PromptVersion(Spec):
    """An immutable version of a prompt and the labels that point at it."""

    object: Literal["prompt.version"]
    prompt: str
    prompt_id: str
    version: int
    description: str
    labels: list[str]
    created_at: int


class RoleTemplate(Spec):
    """A built-in role template a prompt can start from."""

    id: str
    object: Literal["prompt_template"]
    name: str
    description: str


class PromptDiff(TypedDict):
    """The unified diff of two versions and the fields that changed."""

    object: Literal["prompt.diff"]
    prompt: str
    from_version: int
    to_version: int
    changed_fields: list[str]
    diff: str


class RenderPreview(TypedDict):
    """The messages and parameters a version (or label) renders."""

    object: Literal["prompt.render"]
    prompt: str
    version: int
    label: str | None
    variant: str
    language: str | None
    language_detected: bool
    messages: list[MessageObject]
    parameters: Parameters


class ExperimentArm(TypedDict):
    name: str
    version: int
    model: str | None
    weight: float


class Experiment(TypedDict):
    """An A/B/n test between versions of a prompt behind one label."""

    id: str
    object: Literal["experiment"]
    name: str
    description: str
    prompt: str
    label: str
    status: str
    variants: list[ExperimentArm]
    winner: str | None
    created_at: int
    started_at: int | None
    ended_at: int | None


class Promoted(Experiment):
    """The completed experiment, with its prompt's labels after the promotion."""

    prompt_labels: dict[str, int]


class KnowledgeSettingsObject(TypedDict):
    knowledge_base_ids: list[str]
    top_k: int
    score_threshold: float


class Assistant(TypedDict):
    """An assistant; chat completions take its `model`, `assistant:<name>`."""

    id: str
    object: Literal["assistant"]
    name: str
    model: str
    description: str
    base_model: str
    adapter: str | None
    prompt: str
    prompt_label: str
    parameters: Parameters
    channels: list[str]
    knowledge: KnowledgeSettingsObject
    created_at: int
    updated_at: int


def _or_none(value: Any) -> Any:
    return value or None


def parameters(p: pb.ModelParameters) -> Parameters:
    """Unset parameters as null."""
    return {
        "temperature": p.temperature if p.HasField("temperature") else None,
        "top_p": p.top_p if p.HasField("top_p") else None,
        "max_tokens": p.max_tokens if p.HasField("max_tokens") else None,
        "stop": list(p.stop),
    }


def _messages(items: Any) -> list[MessageObject]:
    return [{"role": m.role, "content": m.content} for m in items]


def spec(s: pb.PromptSpec) -> Spec:
    """The fields of a version's content."""
    return {
        "messages": _messages(s.messages),
        "variables": [
            {
                "name": v.name,
                "description": v.description,
                "default": v.default if v.HasField("default") else None,
            }
            for v in s.variables
        ],
        "parameters": parameters(s.parameters),
        "output_style": s.output_style,
        "user_template": s.user_template,
        "variants": [
            {
                "language": v.language,
                "channel": v.channel,
                "tone": v.tone,
                "messages": _messages(v.messages),
                "output_style": v.output_style if v.HasField("output_style") else None,
                "user_template": v.user_template if v.HasField("user_template") else None,
            }
            for v in s.variants
        ],
    }


def prompt(p: pb.Prompt) -> Prompt:
    """A prompt object."""
    return {
        "id": p.id,
        "object": "prompt",
        "name": p.name,
        "description": p.description,
        "template": _or_none(p.template),
        "latest_version": p.latest_version,
        "labels": dict(sorted(p.labels.items())),
        "created_at": p.created_at,
        "updated_at": p.updated_at,
    }


def version(v: pb.PromptVersion) -> PromptVersion:
    """A prompt version object."""
    return {
        "object": "prompt.version",
        "prompt": v.prompt_name,
        "prompt_id": v.prompt_id,
        "version": v.version,
        "description": v.description,
        "labels": list(v.labels),
        "created_at": v.created_at,
        **spec(v.spec),
    }


def template(t: pb.RoleTemplate) -> RoleTemplate:
    """A role template object."""
    return {
        "id": t.id,
        "object": "prompt_template",
        "name": t.name,
        "description": t.description,
        **spec(t.spec),
    }


def experiment(e: pb.Experiment) -> Experiment:
    """An experiment object."""
    return {
        "id": e.id,
        "object": "experiment",
        "name": e.name,
        "description": e.description,
        "prompt": e.prompt_name,
        "label": e.label,
        "status": e.status,
        "variants": [
            {"name": a.name, "version": a.version, "model": _or_none(a.model), "weight": a.weight}
            for a in e.variants
        ],
        "winner": _or_none(e.winner),
        "created_at": e.created_at,
        "started_at": _or_none(e.started_at),
        "ended_at": _or_none(e.ended_at),
    }


def assistant(a: pb.Assistant) -> Assistant:
    """An assistant object; `model` is what chat completions take."""
    return {
        "id": a.id,
        "object": "assistant",
        "name": a.name,
        "model": assistant_model(a.name),
        "description": a.description,
        "base_model": a.base_model,
        "adapter": _or_none(a.adapter),
        "prompt": a.prompt,
        "prompt_label": a.prompt_label,
        "parameters": parameters(a.parameters),
        "channels": list(a.channels),
        "knowledge": {
            "knowledge_base_ids": list(a.knowledge.knowledge_base_ids),
            "top_k": a.knowledge.top_k,
            "score_threshold": a.knowledge.score_threshold,
        },
        "created_at": a.created_at,
        "updated_at": a.updated_at,
    }


def label_moved(response: pb.SetPromptLabelResponse) -> LabelMoved:
    """The prompt after a label moved, with the version the label pointed at before (null if new)."""
    return {**prompt(response.prompt), "previous_version": response.previous_version or None}


def diff(
    name: str, from_version: int, to_version: int, response: pb.DiffPromptVersionsResponse
) -> PromptDiff:
    """A diff object: the unified diff of two versions and the fields that changed."""
    return {
        "object": "prompt.diff",
        "prompt": name,
        "from_version": from_version,
        "to_version": to_version,
        "changed_fields": list(response.changed_fields),
        "diff": response.diff,
    }


def promoted(response: pb.PromoteExperimentVariantResponse) -> Promoted:
    """The completed experiment, with its prompt's labels after the promotion."""
    return {**experiment(response.experiment), "prompt_labels": dict(response.prompt.labels)}


def rendered(r: pb.RenderPromptResponse) -> RenderPreview:
    """A render preview object."""
    return {
        "object": "prompt.render",
        "prompt": r.prompt_name,
        "version": r.version,
        "label": _or_none(r.label),
        "variant": r.variant,
        "language": _or_none(r.language),
        "language_detected": r.language_detected,
        "messages": _messages(r.messages),
        "parameters": parameters(r.parameters),
    }
