"""A generation as the Responses API streams it: server-sent events `event: <type>` / `data: {...}`, each
with its `sequence_number`, in OpenAI's order:

    response.created, response.in_progress,
    per output item: response.output_item.added,
        a message:   response.content_part.added, response.output_text.delta..., response.output_text.done,
                     response.content_part.done
        a call:      response.function_call_arguments.delta..., response.function_call_arguments.done (with
                     the function's name)
    response.output_item.done,
    response.completed (or response.incomplete when max_output_tokens cut it off), with the whole response.

There is no `[DONE]`. A failure after the stream started is an `error` event, then `response.failed`."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
from typing_extensions import TypedDict

from tuneway.api.inference.v1 import inference_pb2 as pb
from tuneway.core.errors import DomainError
from tuneway.gateway.errors import domain_error_response
from tuneway.gateway.responses.objects import (
    ItemStatus,
    OutputItem,
    ResponseError,
    ResponseObject,
    ResponseShell,
    cut_off,
    function_call,
    item_id,
    message,
    output_text,
)


class ResponseStreamEvent(TypedDict, total=False):
    """The data of each event of a streamed response; `type` (also the SSE event name) says which fields
    it has: `response` on the lifecycle events, `item` and `output_index` on an item's added and done,
    `item_id`, `output_index`, `content_index` and `delta`, `text`, `part` or `arguments` on the parts'."""

    type: str
    sequence_number: int
    response: ResponseObject
    output_index: int
    item: OutputItem
    item_id: str
    content_index: int
    part: dict[str, Any]
    delta: str
    text: str
    name: str
    arguments: str
    logprobs: list[Any]
    code: str | None
    message: str
    param: str | None


class EventWriter:
    """Formats the events of one stream, numbering them from 0."""

    def __init__(self) -> None:
        self._sequence = 0

    def event(self, type_: str, **fields: Any) -> bytes:
        data = {"type": type_, "sequence_number": self._sequence, **fields}
        self._sequence += 1
        return b"event: " + type_.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


@dataclass
class _OpenMessage:
    id: str
    index: int
    text: list[str] = field(default_factory=list)


@dataclass
class _OpenCall:
    id: str
    index: int
    call_index: int
    call_id: str
    name: str
    arguments: list[str] = field(default_factory=list)


class _Items:
    """The output items of a stream: the one open now, those already done, and the events of each."""

    def __init__(self, writer: EventWriter) -> None:
        self._writer = writer
        self.done: list[OutputItem] = []
        self._open: _OpenMessage | _OpenCall | None = None

    def text(self, delta: str) -> list[bytes]:
        events = []
        if not isinstance(self._open, _OpenMessage):
            events += self.close("completed")
            events += self._open_message()
        assert isinstance(self._open, _OpenMessage)
        self._open.text.append(delta)
        events.append(self._part_event("response.output_text.delta", delta=delta, logprobs=[]))
        return events

    def call(self, part: pb.ToolCallDelta) -> list[bytes]:
        events = []
        if not (isinstance(self._open, _OpenCall) and self._open.call_index == part.index):
            events += self.close("completed")
            index = len(self.done)
            self._open = _OpenCall(item_id("fc_"), index, part.index, part.id, part.name)
            item = function_call(part.id, part.name, "", "in_progress", self._open.id)
            events.append(self._writer.event("response.output_item.added", output_index=index, item=item))
        assert isinstance(self._open, _OpenCall)
        if part.arguments:
            self._open.arguments.append(part.arguments)
            events.append(
                self._writer.event(
                    "response.function_call_arguments.delta",
                    item_id=self._open.id,
                    output_index=self._open.index,
                    delta=part.arguments,
                )
            )
        return events

    def finish(self, status: ItemStatus) -> list[bytes]:
        """Closes the last item; a reply with no item at all gets an empty message, as in JSON."""
        events = []
        if self._open is None and not self.done:
            events += self._open_message()
        return events + self.close(status)

    def close(self, status: ItemStatus) -> list[bytes]:
        """The events that finish the open item, if any."""
        item, self._open = self._open, None
        if isinstance(item, _OpenMessage):
            text = "".join(item.text)
            done = message(text, status, item.id)
            self.done.append(done)
            return [
                self._writer.event(
                    "response.output_text.done",
                    item_id=item.id,
                    output_index=item.index,
                    content_index=0,
                    text=text,
                    logprobs=[],
                ),
                self._writer.event(
                    "response.content_part.done",
                    item_id=item.id,
                    output_index=item.index,
                    content_index=0,
                    part=output_text(text),
                ),
                self._writer.event("response.output_item.done", output_index=item.index, item=done),
            ]
        if isinstance(item, _OpenCall):
            arguments = "".join(item.arguments)
            call = function_call(item.call_id, item.name, arguments, status, item.id)
            self.done.append(call)
            return [
                self._writer.event(
                    "response.function_call_arguments.done",
                    item_id=item.id,
                    output_index=item.index,
                    name=item.name,
                    arguments=arguments,
                ),
                self._writer.event("response.output_item.done", output_index=item.index, item=call),
            ]
        return []

    def _open_message(self) -> list[bytes]:
        index = len(self.done)
        self._open = _OpenMessage(item_id("msg_"), index)
        added = {
            "type": "message",
            "id": self._open.id,
            "status": "in_progress",
            "role": "assistant",
            "content": [],
        }
        return [
            self._writer.event("response.output_item.added", output_index=index, item=added),
            self._part_event("response.content_part.added", part=output_text("")),
        ]

    def _part_event(self, type_: str, **fields: Any) -> bytes:
        assert isinstance(self._open, _OpenMessage)
        return self._writer.event(
            type_, item_id=self._open.id, output_index=self._open.index, content_index=0, **fields
        )


async def stream_response(
    first: pb.GenerateResponse, rest: AsyncGenerator[pb.GenerateResponse, None], shell: ResponseShell
) -> AsyncIterator[bytes]:
    """The events of the response whose generation begins with `first`."""
    writer = EventWriter()
    items = _Items(writer)
    yield writer.event("response.created", response=shell.snapshot("in_progress", []))
    yield writer.event("response.in_progress", response=shell.snapshot("in_progress", []))
    last = first
    try:
        response = first
        while True:
            if response.text_delta:
                for event in items.text(response.text_delta):
                    yield event
            for part in response.tool_calls:
                for event in items.call(part):
                    yield event
            if response.finish_reason:
                last = response
                break
            response = await anext(rest)
    except DomainError as error:
        # Headers are gone: the error as an event, then the response as failed with what it had.
        detail = orjson.loads(domain_error_response(error).body)["error"]
        yield writer.event("error", code=detail["code"], message=detail["message"], param=detail["param"])
        failure: ResponseError = {"code": _failure_code(detail["code"]), "message": detail["message"]}
        failed = shell.snapshot("failed", items.done, error=failure)
        yield writer.event("response.failed", response=failed)
        return
    except StopAsyncIteration:
        pass
    finally:
        await rest.aclose()
    status: Literal["completed", "incomplete"] = "incomplete" if cut_off(last) else "completed"
    for event in items.finish(status):
        yield event
    yield writer.event(f"response.{status}", response=shell.snapshot(status, items.done, last))


def _failure_code(code: str | None) -> str:
    # A response's error codes are OpenAI's few (the SDK's ResponseError); ours map onto two of them.
    return "rate_limit_exceeded" if code == "rate_limit_exceeded" else "server_error"
