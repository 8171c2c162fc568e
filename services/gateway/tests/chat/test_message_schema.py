"""A chat message's JSON schema (in the OpenAPI document) states the role rules its validators enforce."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from tuneway.gateway.chat.schemas import ChatMessage

CALL = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}


@pytest.mark.parametrize(
    ("message", "valid"),
    [
        ({"role": "tool", "tool_call_id": "call_1", "content": "42"}, True),
        ({"role": "tool", "content": "42"}, False),
        ({"role": "tool", "tool_call_id": "", "content": "42"}, False),
        ({"role": "assistant", "tool_calls": [CALL]}, True),
        ({"role": "user", "content": "hi", "tool_calls": [CALL]}, False),
        ({"role": "user", "content": "hi", "tool_calls": []}, True),
    ],
)
def test_the_schema_and_the_validators_agree(message: dict[str, Any], valid: bool) -> None:
    # Issue 12 §6: schemathesis generated tool turns without tool_call_id as valid, and met a 400.
    schema = ChatMessage.model_json_schema()
    schema_says = jsonschema.Draft202012Validator(schema).is_valid(message)
    try:
        ChatMessage.model_validate(message)
        accepted = True
    except ValidationError:
        accepted = False
    assert schema_says == accepted == valid
