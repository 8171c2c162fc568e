"""The tool-calling parts of a chat request, with OpenAI's field names and rules: `tools`, `tool_choice`,
and the calls of assistant messages."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import jsonschema
from pydantic import BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from tuneway.gateway.wire_types import UnicodeModel

# OpenAI's rule for function names.
FUNCTION_NAME = r"^[a-zA-Z0-9_-]{1,64}$"


class _Lenient(UnicodeModel):
    # Clients (LangChain, SDK extra_body) send fields we do not use; OpenAI-compatible servers ignore them.
    model_config = ConfigDict(extra="ignore")


def check_json_schema(value: dict[str, Any]) -> dict[str, Any]:
    """`value` when it is a valid JSON schema; vLLM's structured-output backend raised a ValueError (a 500)
    on schemas that break the metaschema."""
    try:
        jsonschema.validators.validator_for(value).check_schema(value)
    except jsonschema.SchemaError as error:
        raise ValueError(f"not a valid JSON schema: {error.message}") from error
    return value


def check_function_parameters(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """A function's `parameters`: none (it takes no arguments) or a valid JSON schema of an object."""
    if value is None:
        return None
    if value.get("type", "object") != "object":
        raise ValueError("the parameters of a function must be a JSON schema of type object")
    return check_json_schema(value)


class FunctionDefinition(_Lenient):
    name: Annotated[str, Field(pattern=FUNCTION_NAME)]
    description: str | None = None
    # The JSON schema of the arguments; none means the function takes no arguments.
    parameters: dict[str, Any] | None = None
    # Forced calls (`required`, a named function) always follow the schema exactly; with `strict`, so do
    # the calls the model chooses under `auto` (vLLM's structural tag for the tool parser's format).
    strict: bool | None = None

    _valid_parameters = field_validator("parameters")(check_function_parameters)


class FunctionTool(_Lenient):
    type: Literal["function"]
    function: FunctionDefinition


class FunctionName(_Lenient):
    name: str


class NamedToolChoice(_Lenient):
    type: Literal["function"]
    function: FunctionName


MODES = ("none", "auto", "required")
_CHOICES = '\'none\', \'auto\', \'required\' or {"type": "function", "function": {"name": ...}}'


def _known_choice(value: Any) -> Any:
    # Checked before the union, whose errors would name its members (tool_choice.literal[...]).
    if isinstance(value, str) and value not in MODES:
        raise ValueError(f"must be {_CHOICES}")
    if not isinstance(value, str):
        try:
            NamedToolChoice.model_validate(value)
        except ValidationError as error:
            raise ValueError(f"must be {_CHOICES}") from error
    return value


ToolChoice = Annotated[Literal["none", "auto", "required"] | NamedToolChoice, BeforeValidator(_known_choice)]


class CalledFunction(_Lenient):
    name: str
    # JSON text, as the model produced it.
    arguments: str


class MessageToolCall(_Lenient):
    id: str
    type: Literal["function"] = "function"
    function: CalledFunction


def check_tools(tools: list[FunctionTool] | None) -> list[FunctionTool] | None:
    """Function names must be unique: a call names its function."""
    names = [tool.function.name for tool in tools or ()]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"function names must be unique; '{duplicates[0]}' is declared twice")
    return tools


def check_tool_choice(choice: str | NamedToolChoice | None, tools: list[FunctionTool] | None) -> None:
    """A choice needs tools, and a named function must be one of them."""
    if choice is None:
        return
    if not tools:
        raise ValueError("'tool_choice' is only allowed when 'tools' are specified")
    if isinstance(choice, NamedToolChoice) and choice.function.name not in {t.function.name for t in tools}:
        raise ValueError(f"function '{choice.function.name}' is not among 'tools'")
