"""Field types for request bodies whose values travel over gRPC (protobuf) to our services and on to vLLM.

JSON numbers have no range and JSON strings may hold a lone surrogate (`"\\ud800"` decodes fine), but
protobuf's int32/int64 fields raise on overflow, its float fields are 32-bit, and UTF-8 cannot encode a
surrogate: each used to surface as a 500 (retried twice by the OpenAI SDKs) far from the field that
caused it. Validating here makes them a 400 naming the field."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, field_validator

INT32_MAX = 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# The smallest normal float32: anything below rounds to a denormal or to 0.0 on the wire (top_p=5e-324
# reached vLLM as 0.0, which it refuses).
FLOAT32_MIN_NORMAL = 1.1754943508222875e-38

# A count sent as a protobuf int32 (max_tokens, prompt versions).
PositiveInt32 = Annotated[int, Field(ge=1, le=INT32_MAX)]
# A signed 64-bit value: the range of protobuf's int64 and of vLLM's own `seed` (torch.long).
Int64 = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]


def _normal_float32(value: float) -> float:
    if value < FLOAT32_MIN_NORMAL:
        raise ValueError(f"must be at least {FLOAT32_MIN_NORMAL:.4g}: smaller values underflow float32")
    return value


# A probability in (0, 1] that stays above zero as a float32 (top_p). The document states the float32
# bound as the minimum (`exclusiveMinimum: 0` invited 5e-324, a 400); the validator words the refusal.
Probability = Annotated[
    float, Field(le=1, json_schema_extra={"minimum": FLOAT32_MIN_NORMAL}), AfterValidator(_normal_float32)
]


def has_lone_surrogate(value: Any) -> bool:
    """Whether a string anywhere in `value` (strings, lists, dicts, their keys) holds a lone surrogate."""
    if isinstance(value, str):
        # ASCII first: the common case costs one C-level scan; encode() fails only on surrogates.
        if value.isascii():
            return False
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(has_lone_surrogate(k) or has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(has_lone_surrogate(item) for item in value)
    return False


class UnicodeModel(BaseModel):
    """The base of request bodies whose strings travel over gRPC (chat, prompts, knowledge): a lone
    surrogate in any of their strings is a 400 naming the field (nested models name their own field,
    e.g. messages[0].content). pydantic refuses one itself only in constrained strings."""

    @field_validator("*")
    @classmethod
    def _valid_unicode(cls, value: Any) -> Any:
        if has_lone_surrogate(value):
            raise ValueError("must be valid Unicode text (it holds an unpaired surrogate such as \\ud800)")
        return value
