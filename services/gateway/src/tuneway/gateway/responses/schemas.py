"""The body of POST /v1/responses: the subset of OpenAI's Responses API that plain generation and function
calling use, with OpenAI's field names. Every other field of the API, when it asks for something, is a 400
`unsupported_parameter` naming it; a field the API does not have is a 400 `unknown_parameter`, as OpenAI
answers."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from tuneway.gateway.chat.schemas import JsonSchemaFormat
from tuneway.gateway.chat.tool_schemas import FUNCTION_NAME, check_function_parameters
from tuneway.gateway.wire_types import PositiveInt32, Probability, UnicodeModel, has_lone_surrogate

# Kinds of input the engine cannot take (images, files, audio), and items that only make sense on a
# server that stores responses or runs built-in tools.
UNSUPPORTED_PARTS = ("input_image", "input_file", "input_audio")
UNSUPPORTED_ITEMS = (
    "item_reference",
    "reasoning",
    "compaction",
    "file_search_call",
    "web_search_call",
    "computer_call",
    "computer_call_output",
    "code_interpreter_call",
    "image_generation_call",
    "local_shell_call",
    "local_shell_call_output",
    "shell_call",
    "shell_call_output",
    "apply_patch_call",
    "apply_patch_call_output",
    "mcp_list_tools",
    "mcp_approval_request",
    "mcp_approval_response",
    "mcp_call",
    "custom_tool_call",
    "custom_tool_call_output",
    "tool_search_call",
    "tool_search_output",
    "additional_tools",
)
ITEMS = ("message", "function_call", "function_call_output")


def _unsupported(what: str) -> PydanticCustomError:
    return PydanticCustomError(
        "unsupported_parameter", "{what} is not supported by this server", {"what": what}
    )


class _Lenient(UnicodeModel):
    # Input items that clients send back from an earlier response carry ids, statuses, annotations and
    # the like, which say nothing about what to generate.
    model_config = ConfigDict(extra="ignore")


class ContentPart(_Lenient):
    """A text part of a message: `input_text` (what users, systems and developers say) or `output_text`
    (an earlier reply of the assistant); both are the text they carry."""

    type: str
    text: str = Field(default="", validate_default=True)

    @field_validator("type")
    @classmethod
    def _text_only(cls, value: str) -> str:
        if value in ("input_text", "output_text"):
            return value
        if value in UNSUPPORTED_PARTS or value == "refusal":
            raise _unsupported(f"content of type '{value}'")
        raise ValueError("must be 'input_text' or 'output_text'")


def _or_string(schema: dict[str, Any]) -> None:
    """The JSON schema of a list that also takes a plain string (which the before-validator wraps)."""
    items = dict(schema)
    schema.clear()
    schema["anyOf"] = [{"type": "string"}, items]


def _parts(value: Any) -> Any:
    # A plain string is one text part. Validating one type rather than a union keeps errors on the
    # offending part (input[0].content[1].type), not on the union's members.
    return [{"type": "input_text", "text": value}] if isinstance(value, str) else value


# `content` of a message, `output` of a function call: text, or a list of text parts.
Text = Annotated[list[ContentPart], BeforeValidator(_parts), Field(json_schema_extra=_or_string)]


def _text(parts: list[ContentPart] | None) -> str:
    return "".join(part.text for part in parts or ())


class InputItem(_Lenient):
    """One item of `input`: a message (`type` may be left out), a function call of an earlier reply, or
    the output of such a call. Which fields are required depends on `type`; each is checked on its own
    field so that a 400 names it."""

    type: str = "message"
    # message
    role: Literal["user", "assistant", "system", "developer"] | None = Field(
        default=None, validate_default=True
    )
    content: Text | None = Field(default=None, validate_default=True)
    # function_call and function_call_output
    call_id: Annotated[str, Field(min_length=1)] | None = Field(default=None, validate_default=True)
    # function_call
    name: Annotated[str, Field(pattern=FUNCTION_NAME)] | None = Field(default=None, validate_default=True)
    arguments: str | None = Field(default=None, validate_default=True)
    # function_call_output
    output: Text | None = Field(default=None, validate_default=True)

    @field_validator("type")
    @classmethod
    def _known_item(cls, value: str) -> str:
        if value in ITEMS:
            return value
        if value in UNSUPPORTED_ITEMS:
            raise _unsupported(f"an input item of type '{value}'")
        raise ValueError("must be 'message', 'function_call' or 'function_call_output'")

    @field_validator("role", "content")
    @classmethod
    def _message_fields(cls, value: Any, info: ValidationInfo) -> Any:
        return _required_for(value, info, "message")

    @field_validator("name", "arguments")
    @classmethod
    def _call_fields(cls, value: Any, info: ValidationInfo) -> Any:
        return _required_for(value, info, "function_call")

    @field_validator("call_id")
    @classmethod
    def _call_id(cls, value: Any, info: ValidationInfo) -> Any:
        if info.data.get("type") in ("function_call", "function_call_output") and value is None:
            raise PydanticCustomError("missing", "Field required")
        return value

    @field_validator("output")
    @classmethod
    def _output(cls, value: Any, info: ValidationInfo) -> Any:
        return _required_for(value, info, "function_call_output")

    def text(self) -> str:
        """A message's content, or a function call's output, as one string."""
        if self.type == "function_call_output":
            return _text(self.output)
        return _text(self.content)


def _required_for(value: Any, info: ValidationInfo, item_type: str) -> Any:
    if value is None and info.data.get("type") == item_type:
        raise PydanticCustomError("missing", "Field required")
    return value


class FunctionTool(_Lenient):
    """A function the model may call, in the Responses shape: the chat tool's `function` fields at the
    top level, checked as chat's are. `type` comes first so that a built-in tool's 400 names it."""

    type: str
    name: Annotated[str, Field(pattern=FUNCTION_NAME)]
    description: str | None = None
    parameters: dict[str, Any] | None = None
    # OpenAI's Responses default, unlike chat's: the calls the model chooses follow the schema exactly.
    strict: bool | None = None

    @property
    def strict_calls(self) -> bool:
        """Whether calls the model chooses follow the schema exactly: unless `strict` is false."""
        return self.strict is not False

    @field_validator("type")
    @classmethod
    def _functions_only(cls, value: str) -> str:
        if value != "function":
            # web_search, file_search, mcp, custom tools and the like run on OpenAI's servers.
            raise _unsupported(f"a tool of type '{value}'")
        return value

    _valid_parameters = field_validator("parameters")(check_function_parameters)


class FunctionChoice(_Lenient):
    type: Literal["function"]
    name: str


_CHOICES = "'none', 'auto', 'required' or {\"type\": \"function\", \"name\": ...}"


def _known_choice(value: Any) -> Any:
    # Checked before the union, whose errors would name its members (tool_choice.literal[...]).
    if isinstance(value, str) and value in ("none", "auto", "required"):
        return value
    if isinstance(value, dict) and value.get("type") == "function":
        if not isinstance(value.get("name"), str):
            raise ValueError(f"must be {_CHOICES}")
        return value
    if isinstance(value, dict) and isinstance(value.get("type"), str):
        # allowed_tools, built-in tools' and MCP choices
        raise _unsupported(f"a tool_choice of type '{value['type']}'")
    raise ValueError(f"must be {_CHOICES}")


ToolChoice = Annotated[Literal["none", "auto", "required"] | FunctionChoice, BeforeValidator(_known_choice)]


class TextFormat(JsonSchemaFormat):
    """`text.format`: plain text, a JSON object, or JSON that follows `schema` (the chat's response_format,
    with the json_schema fields at the top level)."""

    type: Literal["text", "json_object", "json_schema"]
    description: str | None = None


class TextConfig(_Lenient):
    format: TextFormat | None = None
    verbosity: Any = None

    @field_validator("verbosity")
    @classmethod
    def _no_verbosity(cls, value: Any) -> Any:
        if value is not None:
            raise _unsupported("verbosity")
        return value


class StreamOptions(_Lenient):
    include_obfuscation: bool | None = None

    @field_validator("include_obfuscation")
    @classmethod
    def _no_obfuscation(cls, value: bool | None) -> bool | None:
        if value:
            raise _unsupported("obfuscation")
        return value


def _messages(value: Any) -> Any:
    # A plain string is one user message (checked here, so that its 400 names `input`).
    if not isinstance(value, str):
        return value
    if has_lone_surrogate(value):
        raise ValueError("must be valid Unicode text (it holds an unpaired surrogate such as \\ud800)")
    return [{"role": "user", "content": value}]


Input = Annotated[
    list[InputItem], Field(min_length=1), BeforeValidator(_messages), Field(json_schema_extra=_or_string)
]


class ResponseRequest(UnicodeModel):
    """POST /v1/responses."""

    model_config = ConfigDict(extra="forbid")

    model: Annotated[str, Field(min_length=1)]
    input: Input
    # A system message before the input.
    instructions: str | None = None
    # OpenAI's own lower bound; bounded above by the int32 on the wire (inference bounds it by the context).
    max_output_tokens: Annotated[PositiveInt32, Field(ge=16)] | None = None
    temperature: Annotated[float, Field(ge=0, le=2)] | None = None
    top_p: Probability | None = None
    tools: Annotated[list[FunctionTool], Field(max_length=128)] | None = None
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    text: TextConfig | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    user: str | None = None
    metadata: Annotated[dict[str, Annotated[str, Field(max_length=512)]], Field(max_length=16)] | None = None
    # Nothing is stored: `store: true` (OpenAI's default) is accepted, but no response can be retrieved or
    # continued later (`previous_response_id` is refused).
    store: bool | None = None
    truncation: Literal["auto", "disabled"] | None = None
    # tuneway extension for `assistant:<name>` models: values of the prompt's declared variables.
    variables: dict[str, str] | None = None
    # vLLM extension, as on chat completions: generate past the end-of-sequence token.
    ignore_eos: bool = False
    # Parts of the Responses API tuneway does not implement: refused when they ask for anything.
    previous_response_id: Any = None
    conversation: Any = None
    reasoning: Any = None
    background: Any = None
    include: Any = None
    prompt: Any = None
    max_tool_calls: Any = None
    top_logprobs: Any = None
    service_tier: Any = None
    prompt_cache_key: Any = None
    prompt_cache_retention: Any = None
    prompt_cache_options: Any = None
    safety_identifier: Any = None
    context_management: Any = None
    moderation: Any = None
    image: Any = None
    access_programs: Any = None
    background_options: Any = None

    @field_validator(
        "previous_response_id",
        "conversation",
        "reasoning",
        "background",
        "include",
        "prompt",
        "max_tool_calls",
        "top_logprobs",
        "prompt_cache_key",
        "prompt_cache_retention",
        "prompt_cache_options",
        "safety_identifier",
        "context_management",
        "moderation",
        "image",
        "access_programs",
        "background_options",
    )
    @classmethod
    def _unsupported_fields(cls, value: Any) -> Any:
        # The values that ask for nothing (null, false, empty) stay accepted.
        if value is None or value is False or value == [] or value == {}:
            return value
        raise PydanticCustomError("unsupported_parameter", "this parameter is not supported")

    @field_validator("service_tier")
    @classmethod
    def _default_tier(cls, value: Any) -> Any:
        if value in (None, "auto", "default"):
            return value
        raise PydanticCustomError("unsupported_parameter", "only the default service tier is served")

    @field_validator("truncation")
    @classmethod
    def _no_truncation(cls, value: str | None) -> str | None:
        if value == "auto":
            raise PydanticCustomError("unsupported_parameter", "only 'disabled' truncation is supported")
        return value

    @field_validator("metadata")
    @classmethod
    def _metadata_keys(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value and any(len(key) > 64 for key in value):
            raise ValueError("keys must have at most 64 characters")
        return value

    @field_validator("tools")
    @classmethod
    def _unique_functions(cls, value: list[FunctionTool] | None) -> list[FunctionTool] | None:
        names = [tool.name for tool in value or ()]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"function names must be unique; '{duplicates[0]}' is declared twice")
        return value

    @field_validator("tool_choice")
    @classmethod
    def _choice_among_tools(cls, choice: ToolChoice | None, info: ValidationInfo) -> ToolChoice | None:
        names = {tool.name for tool in info.data.get("tools") or ()}
        if choice == "required" and not names:
            raise ValueError("'required' needs 'tools'")
        if isinstance(choice, FunctionChoice) and choice.name not in names:
            raise ValueError(f"function '{choice.name}' is not among 'tools'")
        return choice
