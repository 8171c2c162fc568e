"""Readers of generated text: each turns the engine's text deltas into content and OpenAI tool-call deltas.

- `PlainReader`: no tools in play; the text is the content.
- `NamedReader`: a named function was forced; the whole output is its arguments object.
- `RequiredReader`: `required`; the output is a JSON array of {"name", "parameters"} (tools.forced_schema).
- `AutoReader`: `auto`; the model chose in its own format, which one of vLLM's tool parsers reads
  (INFERENCE_TOOL_PARSER), incrementally when the client streams, else once from the whole output.

Every reader gives each call an id of OpenAI's shape, sends it with the name in the call's first delta,
and the arguments after it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from tuneway.core.errors import InvalidArgumentError
from tuneway.inference.tools import ToolCallDelta, new_call_id


@dataclass
class Parsed:
    """What a piece of output turned out to be."""

    content: str = ""
    calls: list[ToolCallDelta] = field(default_factory=list)

    def extend(self, other: Parsed) -> Parsed:
        self.content += other.content
        self.calls.extend(other.calls)
        return self


class OutputReader(Protocol):
    def feed(self, text: str, token_ids: Sequence[int]) -> Parsed:
        """The content and call deltas that `text` (the next delta) completes."""
        ...

    def finish(self) -> Parsed:
        """What is left once generation ended."""
        ...

    @property
    def called(self) -> bool:
        """Whether the output holds at least one tool call."""
        ...


class PlainReader:
    called = False

    def feed(self, text: str, token_ids: Sequence[int]) -> Parsed:
        return Parsed(content=text)

    def finish(self) -> Parsed:
        return Parsed()


class NamedReader:
    """The output is the arguments of `name`: its id and name go first, then the text as it comes."""

    called = True

    def __init__(self, name: str) -> None:
        self._name = name
        self._started = False

    def feed(self, text: str, token_ids: Sequence[int]) -> Parsed:
        parsed = Parsed()
        if not self._started:
            self._started = True
            parsed.calls.append(ToolCallDelta(0, new_call_id(), self._name))
        if text:
            parsed.calls.append(ToolCallDelta(0, arguments=text))
        return parsed

    def finish(self) -> Parsed:
        return self.feed("", ())


@dataclass
class _ArrayCall:
    id: str = field(default_factory=new_call_id)
    name: str | None = None
    arguments: str = ""
    sent: int = -1  # arguments characters sent; -1 until the id and name are


class RequiredReader:
    """Reads the forced JSON array `[{"name": ..., "parameters": {...}}, ...]` as it grows: a call's id
    and name go out once its name string is complete, its `parameters` text as it is generated (held
    back while the name is not known yet, should the model write `parameters` first)."""

    def __init__(self) -> None:
        self._calls: list[_ArrayCall] = []
        self._depth = 0
        self._in_string = False
        self._escaped = False
        self._string: list[str] | None = None  # a key or name value at call-object depth
        self._key: str | None = None
        self._after_colon = False
        self._capturing = False  # inside the current call's parameters value

    @property
    def called(self) -> bool:
        return any(call.name is not None for call in self._calls)

    def feed(self, text: str, token_ids: Sequence[int]) -> Parsed:
        for char in text:
            self._read(char)
        return self._pending()

    def finish(self) -> Parsed:
        return self._pending()

    def _read(self, char: str) -> None:
        if self._capturing:
            self._calls[-1].arguments += char
        if self._in_string:
            if self._string is not None:
                self._string.append(char)
            if self._escaped:
                self._escaped = False
            elif char == "\\":
                self._escaped = True
            elif char == '"':
                self._in_string = False
                if self._string is not None:
                    self._string_ended(json.loads("".join(self._string)))
                    self._string = None
            return
        if char == '"':
            self._in_string = True
            if self._depth == 2 and not self._capturing:
                self._string = ['"']
        elif char in "{[":
            if self._depth == 1 and char == "{":
                self._calls.append(_ArrayCall())
                self._key, self._after_colon = None, False
            elif self._depth == 2 and self._after_colon and self._key == "parameters":
                self._capturing = True
                self._calls[-1].arguments = char
            self._depth += 1
        elif char in "}]":
            self._depth -= 1
            if self._capturing and self._depth == 2:
                self._capturing = False
        elif self._depth == 2 and not self._capturing:
            if char == ":":
                self._after_colon = True
            elif char == ",":
                self._key, self._after_colon = None, False

    def _string_ended(self, value: Any) -> None:
        if self._after_colon:
            if self._key == "name" and self._calls:
                self._calls[-1].name = str(value)
        else:
            self._key = str(value)

    def _pending(self) -> Parsed:
        parsed = Parsed()
        for index, call in enumerate(self._calls):
            if call.name is None:
                break  # calls go out in order
            if call.sent < 0:
                parsed.calls.append(ToolCallDelta(index, call.id, call.name))
                call.sent = 0
            if len(call.arguments) > call.sent:
                parsed.calls.append(ToolCallDelta(index, arguments=call.arguments[call.sent :]))
                call.sent = len(call.arguments)
        return parsed


class AutoReader:
    """vLLM's tool parser for the model's own call format. `request` is the vLLM ChatCompletionRequest
    the parser reads the tools from; our own ids replace the parser's; without parallel calls only the
    first call is kept (as OpenAI does)."""

    def __init__(self, parser: Any, request: Any, stream: bool, parallel: bool) -> None:
        self._parser = parser
        self._request = request
        self._stream = stream
        self._parallel = parallel
        self._text = ""
        self._token_ids: list[int] = []
        self._ids: dict[int, str] = {}
        # What the parser needs of the engine's detokenizer.
        self.skip_special_tokens: bool = getattr(request, "skip_special_tokens", True)
        # The grammar of strict functions' calls in the model's format (JSON), if any function is strict.
        self.structural_tag: str | None = None

    @property
    def called(self) -> bool:
        return bool(self._ids)

    def feed(self, text: str, token_ids: Sequence[int]) -> Parsed:
        previous_text, previous_ids = self._text, list(self._token_ids)
        self._text += text
        self._token_ids.extend(token_ids)
        if not self._stream or not (text or token_ids):
            return Parsed()
        delta = self._parser.extract_tool_calls_streaming(
            previous_text, self._text, text, previous_ids, self._token_ids, list(token_ids), self._request
        )
        if delta is None:
            return Parsed()
        parsed = Parsed(content=delta.content or "")
        for call in delta.tool_calls or ():
            function = call.function
            name = (function.name if function is not None else None) or ""
            arguments = (function.arguments if function is not None else None) or ""
            self._add(parsed, call.index, name, arguments, header=call.id is not None or bool(name))
        return parsed

    def finish(self) -> Parsed:
        if not self._stream:
            return self._parse_whole()
        parsed = Parsed()
        if self._ids:
            # What the streaming parser held back at the very end (vLLM's server sends it the same way).
            remaining = self._parser.get_remaining_unstreamed_args()
            if remaining:
                self._add(parsed, max(self._ids), "", remaining, header=False)
        return parsed

    def _parse_whole(self) -> Parsed:
        result = self._parser.extract_tool_calls(self._text, self._request)
        if not result.tools_called:
            return Parsed(content=result.content or "")
        parsed = Parsed(content=result.content or "")
        for index, call in enumerate(result.tool_calls):
            self._add(parsed, index, call.function.name, call.function.arguments or "", header=True)
        return parsed

    def _add(self, parsed: Parsed, index: int, name: str, arguments: str, *, header: bool) -> None:
        if index > 0 and not self._parallel:
            return
        if header and index not in self._ids:
            self._ids[index] = new_call_id()
            parsed.calls.append(ToolCallDelta(index, self._ids[index], name))
        if arguments and index in self._ids:
            parsed.calls.append(ToolCallDelta(index, arguments=arguments))


def auto_reader(
    parser_name: str, tokenizer: Any, tools: list[dict[str, Any]], *, stream: bool, parallel: bool
) -> AutoReader:
    """A reader with the vLLM tool parser `parser_name` over `tools` (OpenAI's shape)."""
    from vllm.entrypoints.openai.chat_completion.protocol import ChatCompletionRequest
    from vllm.tool_parsers import ToolParserManager

    request = ChatCompletionRequest(
        model="", messages=[], tools=tools, tool_choice="auto", parallel_tool_calls=parallel
    )
    parser_class = ToolParserManager.get_tool_parser(parser_name)
    parser = parser_class(tokenizer, list(request.tools or ()))
    # Parsers may adjust the request: hermes asks for special tokens in the text, where its tags may be.
    reader = AutoReader(parser, parser.adjust_request(request), stream=stream, parallel=parallel)
    strict = [i for i, tool in enumerate(tools) if tool["function"].get("strict")]
    if strict:
        reader.structural_tag = _strict_calls(parser_class, parser_name, request, strict[0])
    return reader


def _strict_calls(parser_class: Any, parser_name: str, request: Any, first_strict: int) -> str:
    """xgrammar's structural tag for the parser's call format: text stays free, and a call, once
    started, follows its strict function's schema (vLLM's own strict tool calling)."""
    from vllm.tool_parsers.structural_tag_registry import get_model_structural_tag

    model = getattr(parser_class, "structural_tag_model", None)
    tag = get_model_structural_tag(model, request.tools, "auto", reasoning=False) if model else None
    if tag is None:
        raise InvalidArgumentError(
            f"strict functions under tool_choice 'auto' need a tool call format vLLM can constrain, "
            f"and the '{parser_name}' parser has none; use tool_choice 'required' or a named function, "
            "whose calls always follow the schema",
            param=f"tools[{first_strict}].function.strict",
        )
    return json.dumps(tag.model_dump())
