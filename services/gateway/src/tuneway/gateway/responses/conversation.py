"""A Responses request as the chat completion request the pipeline serves: `instructions` and `input` as
chat messages (function calls of earlier replies on their assistant turn, their outputs as tool messages),
and the other fields under their chat names."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from tuneway.core.errors import InvalidArgumentError
from tuneway.gateway.chat.schemas import ChatCompletionRequest
from tuneway.gateway.responses.schemas import FunctionChoice, ResponseRequest


def _messages(body: ResponseRequest) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    if body.instructions is not None:
        messages.append({"role": "system", "content": body.instructions})
    for item in body.input:
        if item.type == "message":
            messages.append({"role": item.role, "content": item.text()})
        elif item.type == "function_call":
            call = {
                "id": item.call_id,
                "type": "function",
                "function": {"name": item.name, "arguments": item.arguments},
            }
            last = messages[-1] if messages else None
            # The calls of one reply follow its message (if it said anything): one assistant turn.
            if last is not None and last["role"] == "assistant":
                last.setdefault("tool_calls", []).append(call)
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        else:  # function_call_output
            messages.append({"role": "tool", "tool_call_id": item.call_id, "content": item.text()})
    return messages


def _tool_choice(choice: str | FunctionChoice | None) -> Any:
    if isinstance(choice, FunctionChoice):
        return {"type": "function", "function": {"name": choice.name}}
    return choice


def _response_format(body: ResponseRequest) -> dict[str, Any] | None:
    text_format = body.text.format if body.text else None
    if text_format is None or text_format.type == "text":
        return None
    if text_format.type == "json_object":
        return {"type": "json_object"}
    schema = {"name": text_format.name, "schema": text_format.schema_, "strict": text_format.strict}
    return {"type": "json_schema", "json_schema": schema}


def chat_request(body: ResponseRequest) -> ChatCompletionRequest:
    """The chat completion request that generates `body`'s response."""
    chat: dict[str, Any] = {
        "model": body.model,
        "messages": _messages(body),
        "temperature": body.temperature,
        "top_p": body.top_p,
        "max_completion_tokens": body.max_output_tokens,
        "stream": body.stream,
        "user": body.user,
        "metadata": body.metadata,
        "variables": body.variables,
        "response_format": _response_format(body),
        "ignore_eos": body.ignore_eos,
    }
    if body.tools:
        chat["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": tool.name,
                    "description": tool.description,
                    "parameters": tool.parameters,
                    "strict": tool.strict_calls,
                },
            }
            for tool in body.tools
        ]
        chat["tool_choice"] = _tool_choice(body.tool_choice)
        chat["parallel_tool_calls"] = body.parallel_tool_calls
    try:
        return ChatCompletionRequest.model_validate(chat)
    except ValidationError as error:
        # The Responses body was checked field by field already; this would be a gap between the two.
        first = error.errors(include_url=False)[0]
        raise InvalidArgumentError(f"Invalid request: {first['msg']}", param="input") from None
