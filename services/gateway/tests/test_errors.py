"""OpenAI error envelopes for validation errors and domain errors."""

from __future__ import annotations

import orjson
import pytest
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from tuneway.core.errors import NotFoundError, UnavailableError
from tuneway.gateway.chat.schemas import ChatCompletionRequest
from tuneway.gateway.errors import domain_error_response, validation_error_response


def _validation(body: dict) -> dict:
    with pytest.raises(ValidationError) as caught:
        ChatCompletionRequest.model_validate(body)
    errors = [{**e, "loc": ("body", *e["loc"])} for e in caught.value.errors()]
    response = validation_error_response(RequestValidationError(errors))
    assert response.status_code == 400
    return orjson.loads(response.body)["error"]


def test_missing_field() -> None:
    error = _validation({"model": "m"})
    assert (error["param"], error["code"]) == ("messages", "missing_required_parameter")


def test_nested_field_is_named_with_its_index() -> None:
    error = _validation({"model": "m", "messages": [{"role": "user", "content": "x"}, {"role": "robot"}]})
    assert error["param"] == "messages[1].role"
    assert "messages[1].role" in error["message"]


def test_domain_errors_map_to_status_and_retry_after() -> None:
    not_found = domain_error_response(NotFoundError("nope", param="model", code="model_not_found"))
    assert not_found.status_code == 404
    assert orjson.loads(not_found.body) == {
        "error": {
            "message": "nope",
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_found",
        }
    }
    unavailable = domain_error_response(UnavailableError("down"), retry_after=3)
    assert unavailable.status_code == 503 and unavailable.headers["retry-after"] == "3"
