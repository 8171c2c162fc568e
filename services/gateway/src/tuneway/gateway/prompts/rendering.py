"""The render step of an assistant's chat completion: prompt-svc renders the assistant's prompt over the
conversation (with the retrieved chunks among its variables) and names the model and parameters."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from tuneway.api.prompt.v1 import prompt_pb2 as pb
from tuneway.gateway.clients.prompt import PromptClient


class Message(Protocol):
    """A chat message as any of the gateway's protos carry it."""

    role: str
    content: str
    name: str
    tool_call_id: str

    @property
    def tool_calls(self) -> Iterable[ToolCall]: ...


class ToolCall(Protocol):
    id: str
    name: str
    arguments: str


def render_request(
    tenant_id: str,
    messages: Iterable[pb.ChatMessage],
    variables: Mapping[str, str],
    user: str | None,
    metadata: Mapping[str, str] | None,
    *,
    assistant: str = "",
    prompt: str = "",
    version: int = 0,
    label: str = "",
) -> pb.RenderPromptRequest:
    """The RenderPrompt request of an assistant or a prompt; OpenAI's `metadata` steers the variant
    (language, channel, tone) and keeps a conversation on one experiment arm (conversation_id)."""
    metadata = metadata or {}
    return pb.RenderPromptRequest(
        tenant_id=tenant_id,
        assistant=assistant,
        prompt=prompt,
        version=version,
        label=label,
        messages=messages,
        variables=variables,
        user=user or "",
        conversation_id=metadata.get("conversation_id", ""),
        language=metadata.get("language", ""),
        channel=metadata.get("channel", ""),
        tone=metadata.get("tone", ""),
    )


async def render_for_assistant(
    prompts: PromptClient,
    tenant_id: str,
    assistant: str,
    messages: Iterable[Message],
    variables: Mapping[str, str],
    user: str | None,
    metadata: Mapping[str, str] | None,
) -> pb.RenderPromptResponse:
    """The assistant's rendered conversation, model and parameters."""
    # Tool calls and results pass through rendering untouched, so an agent's history survives it.
    conversation = [
        pb.ChatMessage(
            role=m.role,
            content=m.content,
            name=m.name,
            tool_calls=[pb.ToolCall(id=c.id, name=c.name, arguments=c.arguments) for c in m.tool_calls],
            tool_call_id=m.tool_call_id,
        )
        for m in messages
    ]
    request = render_request(tenant_id, conversation, variables, user, metadata, assistant=assistant)
    response: pb.RenderPromptResponse = await prompts.call(prompts.stub.RenderPrompt, request)
    return response
