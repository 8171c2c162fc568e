"""The generate step of a chat completion: the inference request (from the body, then from an assistant's
rendered prompt), and the generation's responses, from the engine or a fixed answer."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import orjson

from tuneway.api.inference.v1 import inference_pb2 as pb
from tuneway.api.prompt.v1 import prompt_pb2 as ppb
from tuneway.gateway.chat.schemas import ChatCompletionRequest, ChatMessage
from tuneway.gateway.chat.tool_schemas import NamedToolChoice


def _message(m: ChatMessage) -> pb.ChatMessage:
    return pb.ChatMessage(
        # OpenAI's `developer` role is the newer name of `system`; templates know only the latter.
        role="system" if m.role == "developer" else m.role,
        content=m.text(),
        name=m.name or "",
        tool_calls=[
            pb.ToolCall(id=c.id, name=c.function.name, arguments=c.function.arguments)
            for c in m.tool_calls or ()
        ],
        tool_call_id=m.tool_call_id or "",
    )


def _tool_choice(body: ChatCompletionRequest) -> pb.ToolChoice:
    choice = body.tool_choice
    if isinstance(choice, NamedToolChoice):
        return pb.ToolChoice(mode="function", function_name=choice.function.name)
    return pb.ToolChoice(mode=choice or "")


def generate_request(body: ChatCompletionRequest, tenant_id: str, request_id: str) -> pb.GenerateRequest:
    """The inference request for a validated chat completion body."""
    params = body.sampling_params(max_tokens=body.max_completion_tokens or body.max_tokens)
    if body.logprobs:
        params.logprobs = body.top_logprobs or 0
    fmt = pb.ResponseFormat(type="text")
    if body.response_format is not None:
        fmt.type = body.response_format.type
        if body.response_format.json_schema is not None:
            fmt.json_schema = orjson.dumps(body.response_format.json_schema.schema_).decode()
    request = pb.GenerateRequest(
        tenant_id=tenant_id,
        request_id=request_id,
        model=body.model,
        messages=[_message(m) for m in body.messages],
        params=params,
        response_format=fmt,
        tools=[
            pb.FunctionTool(
                name=t.function.name,
                description=t.function.description or "",
                parameters=orjson.dumps(t.function.parameters).decode() if t.function.parameters else "",
                strict=bool(t.function.strict),
            )
            for t in body.tools or ()
        ],
        tool_choice=_tool_choice(body),
        stream=body.stream,
    )
    if body.parallel_tool_calls is not None:
        request.parallel_tool_calls = body.parallel_tool_calls
    return request


def apply_rendered(
    request: pb.GenerateRequest, rendered: ppb.RenderPromptResponse, body: ChatCompletionRequest
) -> None:
    """Rewrites `request` in place with an assistant's rendered prompt: its messages, the assistant's (or
    experiment arm's) model, and the prompt's parameters wherever the client did not set its own."""
    del request.messages[:]
    request.messages.extend(
        pb.ChatMessage(
            role=m.role,
            content=m.content,
            name=m.name,
            tool_calls=[pb.ToolCall(id=c.id, name=c.name, arguments=c.arguments) for c in m.tool_calls],
            tool_call_id=m.tool_call_id,
        )
        for m in rendered.messages
    )
    request.model = rendered.model
    _merge_parameters(request.params, rendered.parameters, body)


def _merge_parameters(
    params: pb.SamplingParams, prompt: ppb.ModelParameters, body: ChatCompletionRequest
) -> None:
    """The request's own values win; the prompt (and assistant) fill in the rest."""
    if body.temperature is None and prompt.HasField("temperature"):
        params.temperature = prompt.temperature
    if body.top_p is None and prompt.HasField("top_p"):
        params.top_p = prompt.top_p
    if body.max_tokens is None and body.max_completion_tokens is None and prompt.HasField("max_tokens"):
        params.max_tokens = prompt.max_tokens
    if not body.stop and prompt.stop:
        params.stop.extend(prompt.stop)


async def fixed_answer(text: str, n: int = 1) -> AsyncGenerator[pb.GenerateResponse, None]:
    """A 'generation' for replies the gateway gives itself (no tokens were generated): `text` as each of
    the n choices, the last message with the (empty) usage that ends a generation."""
    for index in range(n):
        response = pb.GenerateResponse(text_delta=text, finish_reason="stop", index=index)
        if index == n - 1:
            response.usage.SetInParent()
        yield response


async def first_response(responses: AsyncGenerator[pb.GenerateResponse, None]) -> pb.GenerateResponse:
    """The generation's first response; a failure before it closes the generation and raises."""
    try:
        return await anext(responses)
    except BaseException:
        await responses.aclose()
        raise
