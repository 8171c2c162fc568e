"""Chat fields tuneway does not honour (OpenAI's deprecated `functions` API) are 400s naming the field,
never accepted and silently ignored."""

from __future__ import annotations

from typing import Any

import pytest

from tuneway.gateway.chat.schemas import ChatCompletionRequest

Gateway = Any  # the gateway fixture's value (services/gateway/tests/conftest.py)
MESSAGES = [{"role": "user", "content": "hi"}]
FUNCTION = {"name": "get_weather", "parameters": {"type": "object", "properties": {}}}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("functions", [FUNCTION]),
        ("function_call", "auto"),
        ("function_call", {"name": "get_weather"}),
    ],
)
async def test_an_unhonoured_field_is_a_400_naming_it(gateway: Gateway, field: str, value: object) -> None:
    response = await gateway.app_client.post(
        "/v1/chat/completions",
        headers=gateway.auth(gateway.acme_key),
        json={"model": "tuneway-tiny", "messages": MESSAGES, field: value},
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["type"], error["param"], error["code"]) == (
        "invalid_request_error",
        field,
        "unsupported_parameter",
    )
    assert f"'{field}'" in error["message"]


@pytest.mark.parametrize(
    "fields",
    [
        {"functions": None},
        {"functions": {}},
        {"function_call": False},
        {"function_call": None},
    ],
)
def test_the_values_that_ask_for_nothing_stay_accepted(fields: dict[str, object]) -> None:
    ChatCompletionRequest.model_validate({"model": "m", "messages": MESSAGES, **fields})
