"""POST /v1/responses refuses what it does not honour with a 400 naming the field: the parts of the
Responses API tuneway does not implement (`unsupported_parameter`), fields the API does not have
(`unknown_parameter`), and malformed input items, tools and choices."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from tuneway.gateway.errors import validation_error_response
from tuneway.gateway.responses.schemas import ResponseRequest

Gateway = Any  # the gateway fixture's value (services/gateway/tests/conftest.py)
PARAMETERS = {"type": "object", "properties": {"city": {"type": "string"}}}
TOOL = {"type": "function", "name": "get_weather", "parameters": PARAMETERS}


def _error(**fields: Any) -> dict[str, Any]:
    """The error the route answers `fields` with: FastAPI reports the body's first error as a
    RequestValidationError, which the gateway's handler turns into OpenAI's envelope."""
    body = {"model": "tuneway-tiny", "input": "hi", **fields}
    with pytest.raises(ValidationError) as raised:
        ResponseRequest.model_validate(body)
    errors = [{**e, "loc": ("body", *e["loc"])} for e in raised.value.errors(include_url=False)]
    response = validation_error_response(RequestValidationError(errors))
    assert response.status_code == 400
    error: dict[str, Any] = orjson.loads(response.body)["error"]
    assert error["type"] == "invalid_request_error"
    return error


async def test_the_route_answers_in_openais_envelope(gateway: Gateway) -> None:
    headers = {**gateway.auth(gateway.acme_key), "content-type": "application/json"}
    answers = [
        await gateway.app_client.post("/v1/responses", headers=headers, content=content)
        for content in (
            b'{"model": "tuneway-tiny", "input": "hi", "previous_response_id": "resp_1"}',
            b'{"model": "tuneway-tiny", "input": "hi", "temperature_x": 1}',
            b'{"model": "tuneway-tiny", "input": "\\ud800"}',
        )
    ]
    assert [(a.status_code, a.json()["error"]["param"], a.json()["error"]["code"]) for a in answers] == [
        (400, "previous_response_id", "unsupported_parameter"),
        (400, "temperature_x", "unknown_parameter"),
        (400, "input", "invalid_value"),
    ]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("previous_response_id", "resp_123"),
        ("conversation", "conv_123"),
        ("reasoning", {"effort": "low"}),
        ("background", True),
        ("include", ["message.output_text.logprobs"]),
        ("prompt", {"id": "pmpt_123"}),
        ("max_tool_calls", 2),
        ("top_logprobs", 3),
        ("service_tier", "flex"),
        ("truncation", "auto"),
        ("safety_identifier", "user-1"),
        ("prompt_cache_key", "key"),
    ],
)
def test_an_unimplemented_part_of_the_api_is_a_400_naming_it(field: str, value: object) -> None:
    error = _error(**{field: value})
    assert (error["param"], error["code"]) == (field, "unsupported_parameter")
    assert f"'{field}'" in error["message"]


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"tools": [{"type": "web_search"}]}, "tools[0].type"),
        ({"tools": [TOOL, {"type": "mcp", "server_label": "x"}]}, "tools[1].type"),
        (
            {"tools": [TOOL], "tool_choice": {"type": "allowed_tools", "mode": "auto", "tools": []}},
            "tool_choice",
        ),
        (
            {
                "input": [
                    {"role": "user", "content": [{"type": "input_image", "image_url": "https://x/y.png"}]}
                ]
            },
            "input[0].content[0].type",
        ),
        (
            {"input": [{"role": "user", "content": [{"type": "input_file", "file_id": "file-1"}]}]},
            "input[0].content[0].type",
        ),
        ({"input": [{"type": "item_reference", "id": "msg_1"}]}, "input[0].type"),
        ({"input": [{"type": "reasoning", "id": "rs_1", "summary": []}]}, "input[0].type"),
        ({"text": {"verbosity": "low"}}, "text.verbosity"),
        ({"stream_options": {"include_obfuscation": True}}, "stream_options.include_obfuscation"),
    ],
)
def test_images_files_built_in_tools_and_stored_items_are_unsupported(
    fields: dict[str, Any], param: str
) -> None:
    error = _error(**fields)
    assert (error["param"], error["code"]) == (param, "unsupported_parameter")


@pytest.mark.parametrize(
    ("fields", "param", "code"),
    [
        ({"temperature_x": 1}, "temperature_x", "unknown_parameter"),
        ({"input": []}, "input", "invalid_value"),
        ({"input": [{"content": "hi"}]}, "input[0].role", "missing_required_parameter"),
        (
            {"input": [{"type": "function_call", "call_id": "call_1", "arguments": "{}"}]},
            "input[0].name",
            None,
        ),
        ({"input": [{"type": "function_call_output", "output": "sunny"}]}, "input[0].call_id", None),
        ({"input": [{"type": "function_call_output", "call_id": "call_1"}]}, "input[0].output", None),
        ({"input": [{"type": "shout", "content": "hi"}]}, "input[0].type", "invalid_value"),
        (
            {"input": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]},
            "input[0].content[0].type",
            None,
        ),
        ({"max_output_tokens": 15}, "max_output_tokens", "invalid_value"),
        ({"max_output_tokens": 2**31}, "max_output_tokens", "invalid_value"),
        ({"top_p": 5e-324}, "top_p", "invalid_value"),
        ({"tools": [TOOL], "tool_choice": {"type": "function", "name": "get_time"}}, "tool_choice", None),
        ({"tools": [TOOL], "tool_choice": "sometimes"}, "tool_choice", None),
        ({"tool_choice": "required"}, "tool_choice", None),
        ({"tools": [TOOL, TOOL]}, "tools", None),
        ({"tools": [{**TOOL, "parameters": {"type": "nonsense"}}]}, "tools[0].parameters", None),
        ({"tools": [{**TOOL, "name": "get weather"}]}, "tools[0].name", None),
        (
            {"text": {"format": {"type": "json_schema", "name": "x", "schema": {"type": 3}}}},
            "text.format.schema",
            None,
        ),
        ({"metadata": {"k" * 65: "v"}}, "metadata", None),
        ({"input": "\ud800"}, "input", "invalid_value"),
        ({"input": [{"role": "user", "content": "\ud800"}]}, "input[0].content[0].text", "invalid_value"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(fields: dict[str, Any], param: str, code: str | None) -> None:
    error = _error(**fields)
    assert error["param"] == param, error
    if code is not None:
        assert error["code"] == code, error


@pytest.mark.parametrize(
    "fields",
    [
        # What the SDKs and LangChain send by default, or values that ask for nothing.
        {"store": True},
        {"store": False},
        {"include": []},
        {"background": False},
        {"reasoning": None},
        {"service_tier": "auto"},
        {"truncation": "disabled"},
        {"text": {"format": {"type": "text"}}},
        {"stream_options": {"include_obfuscation": False}},
        {"tools": [TOOL], "tool_choice": "none", "parallel_tool_calls": False},
        # Items sent back from an earlier response keep their ids, statuses and annotations.
        {
            "input": [
                {"role": "user", "content": [{"type": "input_text", "text": "Weather?"}]},
                {
                    "type": "message",
                    "id": "msg_1",
                    "status": "completed",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": "Let me look.", "annotations": []}],
                },
                {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "f", "arguments": "{}"},
                {
                    "type": "function_call_output",
                    "call_id": "call_1",
                    "output": [{"type": "input_text", "text": "ok"}],
                },
            ]
        },
    ],
)
def test_the_values_clients_send_by_default_are_accepted(fields: dict[str, Any]) -> None:
    ResponseRequest.model_validate({"model": "m", "input": "hi", **fields})
