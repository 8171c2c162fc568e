"""Readers of generated text: forced calls read incrementally, the model's own calls read by vLLM's hermes
parser (over the demo model's tokenizer), and the schema that forces a call."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tuneway.core.errors import InvalidArgumentError
from tuneway.inference.tool_readers import NamedReader, OutputReader, Parsed, RequiredReader, auto_reader
from tuneway.inference.tools import FunctionTool, ToolChoice, Tools, forced_schema

WEATHER = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": WEATHER}}]


def _read(reader: OutputReader, text: str, step: int) -> tuple[str, dict[int, dict[str, Any]], list[Parsed]]:
    """Feeds `text` in pieces of `step` characters; the content, and each call's id, name and arguments."""
    parts = [reader.feed(text[i : i + step], [0]) for i in range(0, len(text), step)]
    parts.append(reader.finish())
    calls: dict[int, dict[str, Any]] = defaultdict(lambda: {"arguments": ""})
    for part in parts:
        for delta in part.calls:
            if delta.id:
                assert "id" not in calls[delta.index], "a call's id and name come once"
                calls[delta.index] |= {"id": delta.id, "name": delta.name}
            assert "id" in calls[delta.index], "arguments came before the call's id and name"
            calls[delta.index]["arguments"] += delta.arguments
    return "".join(p.content for p in parts), dict(calls), parts


@pytest.mark.parametrize("step", [1, 3, 1000])
def test_required_array_is_read_into_calls_whatever_the_pieces(step: int) -> None:
    text = json.dumps(
        [
            {"name": "get_weather", "parameters": {"city": 'Pa"}ris', "nested": [1, {"a": "]}"}]}},
            {"parameters": {"zone": "UTC"}, "name": "get_time"},  # parameters first: held back
        ],
        separators=(",", ":"),
    )
    reader = RequiredReader()
    content, calls, _ = _read(reader, text, step)
    assert content == "" and reader.called
    assert [c["name"] for c in calls.values()] == ["get_weather", "get_time"]
    assert json.loads(calls[0]["arguments"]) == {"city": 'Pa"}ris', "nested": [1, {"a": "]}"}]}
    assert calls[1]["arguments"] == '{"zone":"UTC"}'
    assert all(c["id"].startswith("call_") and len(c["id"]) == 29 for c in calls.values())
    assert calls[0]["id"] != calls[1]["id"]


def test_required_streams_arguments_as_they_grow() -> None:
    reader = RequiredReader()
    assert reader.feed('[{"name":"get_wea', []).calls == []
    header = reader.feed('ther","parameters":{"ci', []).calls
    assert (header[0].name, header[0].arguments, header[1].arguments) == ("get_weather", "", '{"ci')
    assert [d.arguments for d in reader.feed('ty":"Rome"}}]', []).calls] == ['ty":"Rome"}']


def test_named_reader_sends_the_id_and_name_first() -> None:
    content, calls, parts = _read(NamedReader("get_weather"), '{"city":"Rome"}', 4)
    assert content == "" and calls[0]["name"] == "get_weather" and calls[0]["arguments"] == '{"city":"Rome"}'
    assert parts[0].calls[0].arguments == "" and parts[0].calls[1].arguments == '{"ci'


@pytest.fixture(scope="module")
def tokenizer(demo_model: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(demo_model)


OUTPUT = (
    'Let me check. <tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>\n'
    '<tool_call>{"name": "get_weather", "arguments": {"city": "Rome"}}</tool_call>'
)


@pytest.mark.parametrize("stream", [True, False])
@pytest.mark.parametrize("parallel", [True, False])
def test_auto_reads_the_models_own_calls_with_the_hermes_parser(
    tokenizer: Any, stream: bool, parallel: bool
) -> None:
    reader = auto_reader("hermes", tokenizer, TOOLS, stream=stream, parallel=parallel)
    content, calls, parts = _read(reader, OUTPUT, 5)
    assert content.strip() == "Let me check." and reader.called
    cities = [json.loads(c["arguments"])["city"] for c in calls.values()]
    assert cities == (["Paris", "Rome"] if parallel else ["Paris"])  # OpenAI keeps the first call only
    assert all(c["name"] == "get_weather" and c["id"].startswith("call_") for c in calls.values())
    with_calls = [i for i, p in enumerate(parts) if p.calls]
    # Streaming sends calls as they are generated; otherwise they all arrive when generation ends.
    assert (len(with_calls) > 2) if stream else (with_calls == [len(parts) - 1])


def test_auto_without_a_call_is_content(tokenizer: Any) -> None:
    reader = auto_reader("hermes", tokenizer, TOOLS, stream=True, parallel=True)
    content, calls, _ = _read(reader, "No tools needed <here>.", 2)
    assert content == "No tools needed <here>." and calls == {} and not reader.called


def _tools(*functions: FunctionTool, mode: str = "required", name: str = "", parallel: bool = True) -> Tools:
    return Tools(functions, ToolChoice(mode, name), parallel)


def test_the_required_schema_accepts_calls_of_the_functions_only() -> None:
    defs = {"$defs": {"City": {"type": "string", "enum": ["Rome"]}}}
    weather = {"type": "object", "properties": {"city": {"$ref": "#/$defs/City"}}, **defs}
    schema = forced_schema(
        _tools(
            FunctionTool("get_weather", parameters=json.dumps(weather)), FunctionTool("now"), parallel=False
        )
    )
    assert schema is not None
    jsonschema.validate([{"name": "get_weather", "parameters": {"city": "Rome"}}], schema)
    jsonschema.validate([{"name": "now", "parameters": {}}], schema)
    for bad in (
        [],
        [{"name": "now", "parameters": {}}] * 2,  # one call at most without parallel calls
        [{"name": "get_weather", "parameters": {"city": "Paris"}}],  # $defs resolved at the root
        [{"name": "delete_everything", "parameters": {}}],
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)


def test_a_named_schema_is_the_functions_parameters() -> None:
    tools = _tools(
        FunctionTool("get_weather", parameters=json.dumps(WEATHER)), mode="function", name="get_weather"
    )
    assert forced_schema(tools) == WEATHER
    assert forced_schema(_tools(FunctionTool("now"), mode="function", name="now")) == {
        "type": "object",
        "properties": {},
    }
    with pytest.raises(InvalidArgumentError) as caught:
        forced_schema(_tools(FunctionTool("now"), mode="function", name="later"))
    assert caught.value.param == "tool_choice"
    assert forced_schema(_tools(FunctionTool("now"), mode="auto")) is None


def test_strict_functions_under_auto_get_the_parsers_structural_tag(tokenizer: Any) -> None:
    strict = [{"type": "function", "function": {**TOOLS[0]["function"], "strict": True}}]
    reader = auto_reader("hermes", tokenizer, strict, stream=True, parallel=True)
    assert reader.structural_tag is not None
    tag = json.loads(reader.structural_tag)
    # The call's arguments are held to the function's schema inside the hermes call tags.
    assert "<tool_call>" in reader.structural_tag and json.dumps(WEATHER)[1:-1] in json.dumps(tag)
    assert auto_reader("hermes", tokenizer, TOOLS, stream=True, parallel=True).structural_tag is None


def test_strict_functions_under_auto_are_refused_where_the_format_cannot_be_constrained(
    tokenizer: Any,
) -> None:
    strict = [TOOLS[0], {"type": "function", "function": {"name": "now", "strict": True}}]
    with pytest.raises(InvalidArgumentError) as caught:
        auto_reader("pythonic", tokenizer, strict, stream=True, parallel=True)
    assert caught.value.param == "tools[1].function.strict"
