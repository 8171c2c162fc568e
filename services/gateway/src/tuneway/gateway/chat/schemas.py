"""Request bodies of the OpenAI-compatible API, validated with OpenAI's field names and limits."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, JsonValue, ValidationInfo, field_validator
from pydantic.config import JsonDict
from pydantic_core import PydanticCustomError

from tuneway.gateway.chat.sampling_fields import SamplingFields, TopLogprobs
from tuneway.gateway.chat.tool_schemas import (
    FunctionTool,
    MessageToolCall,
    ToolChoice,
    check_json_schema,
    check_tool_choice,
    check_tools,
)
from tuneway.gateway.wire_types import PositiveInt32, UnicodeModel


class _Lenient(UnicodeModel):
    # Clients (LangChain, SDK extra_body) send fields we do not use; OpenAI-compatible servers ignore them.
    model_config = ConfigDict(extra="ignore")


class TextPart(_Lenient):
    type: Literal["text"]
    text: str


# A tool turn names the call it answers; only an assistant turn carries tool_calls.
_NAMED_CALL: JsonDict = {"tool_call_id": {"type": "string", "minLength": 1}}
_NO_CALLS: JsonDict = {"tool_calls": {"anyOf": [{"type": "null"}, {"type": "array", "maxItems": 0}]}}
MESSAGE_ROLE_RULES: list[JsonValue] = [
    {
        "if": {"properties": {"role": {"const": "tool"}}},
        "then": {"required": ["tool_call_id"], "properties": _NAMED_CALL},
    },
    {"if": {"properties": {"role": {"not": {"const": "assistant"}}}}, "then": {"properties": _NO_CALLS}},
]


class ChatMessage(_Lenient):
    # The OpenAPI document states the two rules the validators below enforce, so that clients and
    # generated requests (tests/test_schemathesis_e2e.py) know a tool turn names its call.
    model_config = ConfigDict(json_schema_extra={"allOf": MESSAGE_ROLE_RULES})

    role: Literal["system", "developer", "user", "assistant", "tool"]
    # May be null in an assistant turn that only called tools.
    content: str | list[TextPart] | None = None
    name: str | None = None
    # The functions an assistant turn called, and the call a tool turn answers.
    tool_calls: list[MessageToolCall] | None = None
    tool_call_id: str | None = Field(default=None, validate_default=True)

    @field_validator("tool_calls")
    @classmethod
    def _calls_of_the_assistant(
        cls, value: list[MessageToolCall] | None, info: ValidationInfo
    ) -> list[MessageToolCall] | None:
        if value and info.data.get("role") != "assistant":
            raise ValueError("only assistant messages carry tool_calls")
        return value

    @field_validator("tool_call_id")
    @classmethod
    def _tool_results_name_their_call(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("role") == "tool" and not value:
            raise PydanticCustomError("missing", "a tool message needs the id of the call it answers")
        return value

    def text(self) -> str:
        """The content as one string (text parts joined)."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text for part in self.content)


class StreamOptions(_Lenient):
    include_usage: bool = False


class JsonSchemaFormat(_Lenient):
    name: str = "response"
    schema_: dict[str, Any] = Field(default_factory=dict, alias="schema")
    strict: bool | None = None

    @field_validator("schema_")
    @classmethod
    def _valid_schema(cls, value: dict[str, Any]) -> dict[str, Any]:
        return check_json_schema(value)


class ResponseFormat(_Lenient):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None


class ChatCompletionRequest(SamplingFields):
    model: Annotated[str, Field(min_length=1)]
    messages: Annotated[list[ChatMessage], Field(min_length=1)]
    # Bounded by the int32 on the wire here; inference bounds it by the model's context.
    max_tokens: PositiveInt32 | None = None
    max_completion_tokens: PositiveInt32 | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    response_format: ResponseFormat | None = None
    # Functions the model may call; `tool_choice` defaults to auto with tools (OpenAI's default).
    tools: Annotated[list[FunctionTool], Field(min_length=1, max_length=128)] | None = None
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    user: str | None = None
    metadata: dict[str, str] | None = None
    # tuneway extension for `assistant:<name>` models: values of the prompt's declared variables.
    variables: dict[str, str] | None = None
    # The log probability of each content token, with `top_logprobs` most likely alternatives.
    logprobs: bool | None = None
    top_logprobs: TopLogprobs | None = None
    # OpenAI's deprecated functions API (`tools` replaces it) is refused, never silently ignored; the
    # values that ask for nothing (false, null, {}) stay accepted, as clients send them by default.
    functions: Any = None
    function_call: Any = None

    @field_validator("functions", "function_call")
    @classmethod
    def _unsupported(cls, value: Any) -> Any:
        if value is None or value is False or value == {}:
            return value
        raise PydanticCustomError("unsupported_parameter", "this parameter is not supported")

    @field_validator("top_logprobs")
    @classmethod
    def _top_needs_logprobs(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None and not info.data.get("logprobs"):
            raise ValueError("'top_logprobs' is only allowed when 'logprobs' is true")
        return value

    @field_validator("tools")
    @classmethod
    def _unique_functions(cls, value: list[FunctionTool] | None) -> list[FunctionTool] | None:
        return check_tools(value)

    @field_validator("tool_choice")
    @classmethod
    def _choice_among_tools(cls, value: ToolChoice | None, info: ValidationInfo) -> ToolChoice | None:
        check_tool_choice(value, info.data.get("tools"))
        return value

    @field_validator("parallel_tool_calls")
    @classmethod
    def _parallel_needs_tools(cls, value: bool | None, info: ValidationInfo) -> bool | None:
        if value is not None and not info.data.get("tools"):
            raise ValueError("'parallel_tool_calls' is only allowed when 'tools' are specified")
        return value
