"""One prompt version compiled once (its templates, per variant), and the conversation it renders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tuneway.core.errors import InvalidArgumentError
from tuneway.prompt_svc.domain import BUILTIN_VARIABLES, MessageTemplate, PromptSpec
from tuneway.prompt_svc.sandbox import CompiledTemplate, Limits, PromptSandbox, compile_template


@dataclass(frozen=True)
class ToolCall:
    """A function call of an assistant turn (its arguments as JSON text)."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class Turn:
    role: str
    content: str
    name: str = ""
    # An assistant turn's function calls and a tool turn's call id: rendering passes them through.
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str = ""


@dataclass(frozen=True)
class CompiledPart:
    """The templates one variant sets (or the defaults, which set everything)."""

    messages: tuple[tuple[str, CompiledTemplate], ...] | None
    output_style: CompiledTemplate | None
    user_template: CompiledTemplate | None
    sets_output_style: bool
    sets_user_template: bool


@dataclass(frozen=True)
class CompiledVersion:
    """Every template of a version, compiled; index 0 of `parts` is the defaults, then the variants."""

    spec: PromptSpec
    parts: tuple[CompiledPart, ...]
    defaults: dict[str, str]
    needs_language: bool


def _compile(env: PromptSandbox, source: str, param: str, declared: set[str]) -> CompiledTemplate:
    compiled = compile_template(env, source, param)
    unknown = sorted(compiled.names - declared - BUILTIN_VARIABLES)
    if unknown:
        raise InvalidArgumentError(
            f"The template in '{param}' uses the variable {unknown[0]!r}, which is not declared: add it to "
            "'variables' (with a default if requests may omit it).",
            param=param,
            code="undeclared_variable",
        )
    return compiled


def _part(
    env: PromptSandbox,
    declared: set[str],
    prefix: str,
    messages: Sequence[MessageTemplate] | None,
    output_style: str | None,
    user_template: str | None,
) -> CompiledPart:
    def optional(source: str | None, field: str) -> CompiledTemplate | None:
        return _compile(env, source, f"{prefix}{field}", declared) if source else None

    compiled = (
        tuple(
            (m.role, _compile(env, m.content, f"{prefix}messages[{i}].content", declared))
            for i, m in enumerate(messages)
        )
        if messages is not None
        else None
    )
    return CompiledPart(
        compiled,
        optional(output_style, "output_style"),
        optional(user_template, "user_template"),
        output_style is not None,
        user_template is not None,
    )


def compile_version(env: PromptSandbox, spec: PromptSpec) -> CompiledVersion:
    """Compiles every template; a syntax error or an undeclared variable is a 400 naming the field."""
    declared = {v.name for v in spec.variables}
    parts = [_part(env, declared, "", spec.messages, spec.output_style, spec.user_template)]
    for i, v in enumerate(spec.variants):
        parts.append(
            _part(env, declared, f"variants[{i}].", v.messages or None, v.output_style, v.user_template)
        )
    return CompiledVersion(
        spec=spec,
        parts=tuple(parts),
        defaults={v.name: v.default for v in spec.variables if v.default is not None},
        needs_language=any(v.language for v in spec.variants),
    )


def render_conversation(
    version: CompiledVersion,
    chain: Sequence[int],
    variables: dict[str, str],
    builtins: dict[str, str],
    conversation: Sequence[Turn],
    limits: Limits,
) -> list[Turn]:
    """System message (instruction, output style, the client's system text), few-shot turns, then the
    conversation with every user turn through the user template. Each field comes from the first
    variant of `chain` that sets it, else from the version's defaults.

    Every turn, not only the last, goes through the template: the model then sees the earlier turns
    exactly as it saw them when they were the last, so a conversation stays consistent.
    """
    parts = [version.parts[i + 1] for i in chain] + [version.parts[0]]
    messages = next(p.messages for p in parts if p.messages is not None) or ()
    style = next(p.output_style for p in parts if p.sets_output_style)
    user_template = next(p.user_template for p in parts if p.sets_user_template)
    used = [t for _, t in messages] + [t for t in (style, user_template) if t is not None]
    names = frozenset().union(*(t.names for t in used))
    declared = {v.name for v in version.spec.variables}
    values = {**version.defaults, **{k: v for k, v in variables.items() if k in declared}}
    missing = sorted((names & declared) - values.keys())
    if missing:
        raise InvalidArgumentError(
            f"Missing value for the prompt variable '{missing[0]}': pass it in 'variables'.",
            param=f"variables.{missing[0]}",
            code="missing_variable",
        )
    last_user = next((t.content for t in reversed(conversation) if t.role == "user"), "")
    context = {**values, **builtins, "message": last_user}
    system: list[str] = []
    shots: list[Turn] = []
    for role, template in messages:
        text = template.render(context, limits)
        if role == "system":
            system.append(text)
        else:
            shots.append(Turn(role, text))
    if style is not None:
        system.append(style.render(context, limits))
    system.extend(t.content for t in conversation if t.role == "system")
    rendered = (
        [Turn("system", "\n\n".join(s for s in system if s.strip()))] if any(map(str.strip, system)) else []
    )
    rendered.extend(shots)
    for turn in conversation:
        if turn.role == "system":
            continue
        if turn.role == "user" and user_template is not None:
            content = user_template.render({**context, "message": turn.content}, limits)
            rendered.append(Turn("user", content, turn.name))
        else:
            rendered.append(turn)
    return rendered
