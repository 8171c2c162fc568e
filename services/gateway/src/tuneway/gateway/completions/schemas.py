"""The body of POST /v1/completions, with OpenAI's field names and limits."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from tuneway.gateway.chat.sampling_fields import SamplingFields
from tuneway.gateway.chat.schemas import StreamOptions
from tuneway.gateway.wire_types import INT32_MAX, PositiveInt32

# Prompts of one request: each is its own engine request (with its n choices).
MAX_PROMPTS = 64
_PROMPT_FORMS = "a string, a list of strings, a list of token ids or a list of lists of token ids"


def _token_ids(value: list[Any]) -> list[int]:
    if not value:
        raise ValueError("a prompt of token ids must not be empty")
    for token in value:
        if isinstance(token, bool) or not isinstance(token, int) or not 0 <= token <= INT32_MAX:
            raise ValueError(f"must be {_PROMPT_FORMS}; token ids are non-negative integers")
    return value


def prompts_of(value: Any) -> list[str | list[int]]:
    """The request's prompts, each a string or a list of token ids (as the inference request takes them)."""
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not value:
        raise ValueError(f"must be {_PROMPT_FORMS}, and not empty")
    if all(isinstance(item, str) for item in value):
        return list(value)
    if all(isinstance(item, list) for item in value):
        return [_token_ids(item) for item in value]
    return [_token_ids(value)]


class CompletionRequest(SamplingFields):
    model: Annotated[str, Field(min_length=1)]
    prompt: str | list[str] | list[int] | list[list[int]]
    # OpenAI's default for this API: 16 tokens (null too).
    max_tokens: PositiveInt32 | None = 16
    # The log probabilities of each token, with this many most likely alternatives (OpenAI's limit: 5).
    logprobs: Annotated[int, Field(ge=0, le=5)] | None = None
    # The prompt before the completion in each choice's text (with logprobs, the prompt's tokens too).
    echo: bool = False
    stream: bool = False
    stream_options: StreamOptions | None = None
    user: str | None = None
    # Not honoured: text after the insertion point, and server-side best-of sampling. A request that asks
    # for them is refused; the values that ask for nothing stay accepted, as clients send them by default.
    suffix: str | None = None
    best_of: int | None = None

    @field_validator("prompt", mode="before")
    @classmethod
    def _prompt_forms(cls, value: Any) -> Any:
        prompts = prompts_of(value)
        if len(prompts) > MAX_PROMPTS:
            raise ValueError(f"at most {MAX_PROMPTS} prompts per request")
        return value

    @field_validator("suffix")
    @classmethod
    def _no_suffix(cls, value: str | None) -> str | None:
        if value:
            raise PydanticCustomError("unsupported_parameter", "this parameter is not supported")
        return value

    @field_validator("best_of")
    @classmethod
    def _no_best_of(cls, value: int | None) -> int | None:
        if value is not None and value != 1:
            raise PydanticCustomError("unsupported_parameter", "this parameter is not supported")
        return value

    def prompts(self) -> list[str | list[int]]:
        """Each prompt of the request."""
        return prompts_of(self.prompt)
