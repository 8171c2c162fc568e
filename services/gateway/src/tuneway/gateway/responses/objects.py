"""OpenAI's `response` object and its output items, built from a generation: a `message` with one
`output_text` part, and a `function_call` item per call. The TypedDicts document the success schema."""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator
from typing import (
    Any,
    Literal,
    NotRequired,  # pydantic documents typing.TypedDict only from 3.12
)

import orjson
from typing_extensions import TypedDict

from tuneway.api.inference.v1 import inference_pb2 as pb
from tuneway.gateway.chat.responses import Served, ToolCalls
from tuneway.gateway.responses.schemas import ResponseRequest

ItemStatus = Literal["in_progress", "completed", "incomplete"]


class OutputText(TypedDict):
    type: Literal["output_text"]
    text: str
    annotations: list[Any]


class OutputMessage(TypedDict):
    """The assistant's text."""

    type: Literal["message"]
    id: str
    status: ItemStatus
    role: Literal["assistant"]
    content: list[OutputText]


class FunctionCall(TypedDict):
    """A call of one of the request's functions; `call_id` is what its `function_call_output` names."""

    type: Literal["function_call"]
    id: str
    call_id: str
    name: str
    arguments: str  # JSON text
    status: ItemStatus


OutputItem = OutputMessage | FunctionCall


class InputTokensDetails(TypedDict):
    cached_tokens: int
    cache_write_tokens: int


class OutputTokensDetails(TypedDict):
    reasoning_tokens: int


class ResponseUsage(TypedDict):
    input_tokens: int
    input_tokens_details: InputTokensDetails
    output_tokens: int
    output_tokens_details: OutputTokensDetails
    total_tokens: int


class IncompleteDetails(TypedDict):
    reason: Literal["max_output_tokens"]


class ResponseError(TypedDict):
    code: str
    message: str


class ResponseObject(TypedDict):
    """OpenAI's `response`: the output items, the status (`incomplete` when `max_output_tokens` cut it
    off), usage, and the request's settings echoed. Nothing is stored. Assistants add `tuneway`."""

    id: str
    object: Literal["response"]
    created_at: int
    status: Literal["in_progress", "completed", "incomplete", "failed"]
    completed_at: int | None
    background: bool
    error: ResponseError | None
    incomplete_details: IncompleteDetails | None
    instructions: str | None
    max_output_tokens: int | None
    model: str
    output: list[OutputItem]
    parallel_tool_calls: bool
    previous_response_id: None
    reasoning: None
    temperature: float | None
    text: dict[str, Any]
    tool_choice: str | dict[str, str]
    tools: list[dict[str, Any]]
    top_p: float | None
    truncation: Literal["disabled"]
    usage: ResponseUsage | None
    user: str | None
    metadata: dict[str, str]
    tuneway: NotRequired[Served]


def item_id(prefix: str) -> str:
    """An output item's id, in OpenAI's shape (`msg_...`, `fc_...`)."""
    return prefix + secrets.token_hex(24)


def message(text: str, status: ItemStatus, id_: str) -> OutputMessage:
    return {
        "type": "message",
        "id": id_,
        "status": status,
        "role": "assistant",
        "content": [output_text(text)],
    }


def output_text(text: str) -> OutputText:
    return {"type": "output_text", "text": text, "annotations": []}


def function_call(call_id: str, name: str, arguments: str, status: ItemStatus, id_: str) -> FunctionCall:
    return {
        "type": "function_call",
        "id": id_,
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
        "status": status,
    }


def usage(last: pb.GenerateResponse) -> ResponseUsage:
    prompt, completion = last.usage.prompt_tokens, last.usage.completion_tokens
    return {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": completion,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": prompt + completion,
    }


def cut_off(last: pb.GenerateResponse) -> bool:
    """Whether the generation stopped at max_output_tokens (or the context's end)."""
    return last.finish_reason == "length"


class ResponseShell:
    """What every state of one response shares: its id, creation time, model and the request's settings
    echoed; `snapshot` fills in the status, output and usage."""

    def __init__(self, response_id: str, body: ResponseRequest, served: Served | None) -> None:
        self.id = response_id
        self.created_at = int(time.time())
        self._body = body
        self._served = served

    def snapshot(
        self,
        status: Literal["in_progress", "completed", "incomplete", "failed"],
        output: list[OutputItem],
        last: pb.GenerateResponse | None = None,
        error: ResponseError | None = None,
    ) -> ResponseObject:
        body = self._body
        response: ResponseObject = {
            "id": self.id,
            "object": "response",
            "created_at": self.created_at,
            "status": status,
            "completed_at": int(time.time()) if status == "completed" else None,
            "background": False,
            "error": error,
            "incomplete_details": {"reason": "max_output_tokens"} if status == "incomplete" else None,
            "instructions": body.instructions,
            "max_output_tokens": body.max_output_tokens,
            "model": body.model,
            "output": output,
            "parallel_tool_calls": body.parallel_tool_calls is not False,
            "previous_response_id": None,
            "reasoning": None,
            "temperature": body.temperature,
            "text": _text(body),
            "tool_choice": _tool_choice(body),
            "tools": [_tool(tool) for tool in body.tools or ()],
            "top_p": body.top_p,
            "truncation": "disabled",
            "usage": usage(last) if last is not None else None,
            "user": body.user,
            "metadata": body.metadata or {},
        }
        if self._served is not None:
            response["tuneway"] = self._served
        return response


def _text(body: ResponseRequest) -> dict[str, Any]:
    text_format = body.text.format if body.text else None
    if text_format is None or text_format.type != "json_schema":
        return {"format": {"type": text_format.type if text_format else "text"}}
    return {
        "format": {
            "type": "json_schema",
            "name": text_format.name,
            "schema": text_format.schema_,
            "strict": text_format.strict,
            "description": text_format.description,
        }
    }


def _tool_choice(body: ResponseRequest) -> str | dict[str, str]:
    choice = body.tool_choice
    if choice is None:
        return "auto"
    if isinstance(choice, str):
        return choice
    return {"type": "function", "name": choice.name}


def _tool(tool: Any) -> dict[str, Any]:
    return {
        "type": "function",
        "name": tool.name,
        "description": tool.description,
        "parameters": tool.parameters,
        # Calls the model chooses follow the schema exactly unless asked not to (forced calls always do).
        "strict": tool.strict_calls,
    }


async def collect_response(
    first: pb.GenerateResponse, rest: AsyncIterator[pb.GenerateResponse], shell: ResponseShell
) -> bytes:
    """The whole `response` once generation finished: the message (unless the reply is only calls), then
    a function_call item per call."""
    parts, calls, last = [first.text_delta], ToolCalls(), first
    calls.add(first)
    async for response in rest:
        parts.append(response.text_delta)
        calls.add(response)
        last = response
    incomplete = cut_off(last)
    text = "".join(parts)
    output: list[OutputItem] = []
    whole = calls.whole()
    if text or not whole:
        # A message cut off is incomplete, unless calls came after it.
        status: ItemStatus = "incomplete" if incomplete and not whole else "completed"
        output.append(message(text, status, item_id("msg_")))
    for index, call in enumerate(whole):
        status = "incomplete" if incomplete and index == len(whole) - 1 else "completed"
        function = call["function"]
        output.append(
            function_call(call["id"], function["name"], function["arguments"], status, item_id("fc_"))
        )
    return orjson.dumps(shell.snapshot("incomplete" if incomplete else "completed", output, last))
