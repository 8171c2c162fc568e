"""Protobuf messages of the prompt service -> the JSON objects of the HTTP API."""

from __future__ import annotations

from typing import Any

from tuneway.api.prompt.v1 import prompt_pb2 as pb
from tuneway.gateway.prompts.assistant_names import assistant_model


def _or_none(value: Any) -> Any:
    return value or None


def parameters(p: pb.ModelParameters) -> dict[str, Any]:
    """Unset parameters as null."""
    return {
        "temperature": p.temperature if p.HasField("temperature") else None,
        "top_p": p.top_p if p.HasField("top_p") else None,
        "max_tokens": p.max_tokens if p.HasField("max_tokens") else None,
        "stop": list(p.stop),
    }


def _messages(items: Any) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.content} for m in items]


def spec(s: pb.PromptSpec) -> dict[str, Any]:
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


def prompt(p: pb.Prompt) -> dict[str, Any]:
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


def version(v: pb.PromptVersion) -> dict[str, Any]:
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


def template(t: pb.RoleTemplate) -> dict[str, Any]:
    """A role template object."""
    return {
        "id": t.id,
        "object": "prompt_template",
        "name": t.name,
        "description": t.description,
        **spec(t.spec),
    }


def experiment(e: pb.Experiment) -> dict[str, Any]:
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


def assistant(a: pb.Assistant) -> dict[str, Any]:
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


def label_moved(response: pb.SetPromptLabelResponse) -> dict[str, Any]:
    """The prompt after a label moved, with the version the label pointed at before (null if new)."""
    return {**prompt(response.prompt), "previous_version": response.previous_version or None}


def diff(
    name: str, from_version: int, to_version: int, response: pb.DiffPromptVersionsResponse
) -> dict[str, Any]:
    """A diff object: the unified diff of two versions and the fields that changed."""
    return {
        "object": "prompt.diff",
        "prompt": name,
        "from_version": from_version,
        "to_version": to_version,
        "changed_fields": list(response.changed_fields),
        "diff": response.diff,
    }


def promoted(response: pb.PromoteExperimentVariantResponse) -> dict[str, Any]:
    """The completed experiment, with its prompt's labels after the promotion."""
    return {**experiment(response.experiment), "prompt_labels": dict(response.prompt.labels)}


def rendered(r: pb.RenderPromptResponse) -> dict[str, Any]:
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
