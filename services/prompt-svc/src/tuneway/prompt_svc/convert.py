"""Protobuf <-> domain values of the prompt service."""

from __future__ import annotations

from dataclasses import asdict

from tuneway.api.prompt.v1 import prompt_pb2 as pb
from tuneway.prompt_svc.compiled_version import ToolCall, Turn
from tuneway.prompt_svc.domain import (
    AssistantInfo,
    ExperimentArm,
    ExperimentInfo,
    Knowledge,
    MessageTemplate,
    Parameters,
    PromptInfo,
    PromptSpec,
    Variable,
    Variant,
    VersionInfo,
)
from tuneway.prompt_svc.role_templates import RoleTemplate


def turn_from(m: pb.ChatMessage) -> Turn:
    """A conversation turn, with its tool calls or the call id it answers."""
    calls = tuple(ToolCall(c.id, c.name, c.arguments) for c in m.tool_calls)
    return Turn(m.role, m.content, m.name, calls, m.tool_call_id)


def turn_to(t: Turn) -> pb.ChatMessage:
    calls = [pb.ToolCall(id=c.id, name=c.name, arguments=c.arguments) for c in t.tool_calls]
    return pb.ChatMessage(
        role=t.role, content=t.content, name=t.name, tool_calls=calls, tool_call_id=t.tool_call_id
    )


def parameters_from(p: pb.ModelParameters) -> Parameters:
    """Domain parameters; unset optional fields stay None."""
    return Parameters(
        temperature=p.temperature if p.HasField("temperature") else None,
        top_p=p.top_p if p.HasField("top_p") else None,
        max_tokens=p.max_tokens if p.HasField("max_tokens") else None,
        stop=tuple(p.stop),
    )


def parameters_to(p: Parameters) -> pb.ModelParameters:
    """Protobuf parameters; None fields are left unset."""
    message = pb.ModelParameters(stop=list(p.stop))
    if p.temperature is not None:
        message.temperature = p.temperature
    if p.top_p is not None:
        message.top_p = p.top_p
    if p.max_tokens is not None:
        message.max_tokens = p.max_tokens
    return message


def _messages_from(items: object) -> tuple[MessageTemplate, ...]:
    return tuple(MessageTemplate(m.role, m.content) for m in items)  # type: ignore[attr-defined]


def _messages_to(items: tuple[MessageTemplate, ...]) -> list[pb.MessageTemplate]:
    return [pb.MessageTemplate(role=m.role, content=m.content) for m in items]


def spec_from(s: pb.PromptSpec) -> PromptSpec:
    """A domain spec from its message."""
    return PromptSpec(
        messages=_messages_from(s.messages),
        variables=tuple(
            Variable(v.name, v.description, v.default if v.HasField("default") else None) for v in s.variables
        ),
        parameters=parameters_from(s.parameters),
        output_style=s.output_style,
        user_template=s.user_template,
        variants=tuple(
            Variant(
                language=v.language,
                channel=v.channel,
                tone=v.tone,
                messages=_messages_from(v.messages),
                output_style=v.output_style if v.HasField("output_style") else None,
                user_template=v.user_template if v.HasField("user_template") else None,
            )
            for v in s.variants
        ),
    )


def spec_to(s: PromptSpec) -> pb.PromptSpec:
    """A spec message from the domain value."""
    return pb.PromptSpec(
        messages=_messages_to(s.messages),
        variables=[
            pb.Variable(name=v.name, description=v.description, default=v.default) for v in s.variables
        ],
        parameters=parameters_to(s.parameters),
        output_style=s.output_style,
        user_template=s.user_template,
        variants=[
            pb.PromptVariant(
                language=v.language,
                channel=v.channel,
                tone=v.tone,
                messages=_messages_to(v.messages),
                output_style=v.output_style,
                user_template=v.user_template,
            )
            for v in s.variants
        ],
    )


def prompt_to(p: PromptInfo) -> pb.Prompt:
    """A prompt message (the fields are the message's own)."""
    return pb.Prompt(**asdict(p))


def version_to(v: VersionInfo) -> pb.PromptVersion:
    """A version message."""
    return pb.PromptVersion(
        prompt_id=v.prompt_id,
        prompt_name=v.prompt_name,
        version=v.version,
        spec=spec_to(v.spec),
        description=v.description,
        labels=list(v.labels),
        created_at=v.created_at,
    )


def template_to(t: RoleTemplate) -> pb.RoleTemplate:
    """A role template message."""
    return pb.RoleTemplate(id=t.id, name=t.name, description=t.description, spec=spec_to(t.spec))


def arms_from(items: object) -> list[ExperimentArm]:
    """Experiment arms; a weight left at 0 means 1 (equal shares)."""
    return [ExperimentArm(a.name, a.version, a.model, a.weight or 1.0) for a in items]  # type: ignore[attr-defined]


def experiment_to(e: ExperimentInfo) -> pb.Experiment:
    """An experiment message (the fields are the message's own, its arms its variants)."""
    fields = asdict(e)
    fields["variants"] = [pb.ExperimentVariant(**arm) for arm in fields["variants"]]
    return pb.Experiment(**fields)


def assistant_from(a: pb.Assistant, tenant_id: str) -> AssistantInfo:
    """A domain assistant from its message (ids and times are the store's)."""
    return AssistantInfo(
        id=a.id,
        tenant_id=tenant_id,
        name=a.name,
        description=a.description,
        base_model=a.base_model,
        adapter=a.adapter,
        prompt=a.prompt,
        prompt_label=a.prompt_label,
        parameters=parameters_from(a.parameters),
        channels=tuple(c.lower() for c in a.channels),
        knowledge=Knowledge(
            knowledge_base_ids=tuple(a.knowledge.knowledge_base_ids),
            top_k=a.knowledge.top_k,
            score_threshold=a.knowledge.score_threshold,
        ),
        created_at=a.created_at,
        updated_at=a.updated_at,
    )


def knowledge_to(k: Knowledge) -> pb.KnowledgeSettings:
    """Knowledge-base slots as a message."""
    return pb.KnowledgeSettings(
        knowledge_base_ids=list(k.knowledge_base_ids), top_k=k.top_k, score_threshold=k.score_threshold
    )


def assistant_to(a: AssistantInfo) -> pb.Assistant:
    """An assistant message."""
    return pb.Assistant(
        id=a.id,
        tenant_id=a.tenant_id,
        name=a.name,
        description=a.description,
        base_model=a.base_model,
        adapter=a.adapter,
        prompt=a.prompt,
        prompt_label=a.prompt_label,
        parameters=parameters_to(a.parameters),
        channels=list(a.channels),
        knowledge=knowledge_to(a.knowledge),
        created_at=a.created_at,
        updated_at=a.updated_at,
    )
