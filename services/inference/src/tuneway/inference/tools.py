"""Tool calling on the engine: the functions as the chat template receives them, and the JSON schema that
forces a call (`tool_choice` required or a named function) under vLLM's structured outputs."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from tuneway.core.errors import InvalidArgumentError

# OpenAI's tool_choice modes; "function" names one function. An empty mode is auto when there are tools.
MODES = ("none", "auto", "required", "function")


@dataclass(frozen=True)
class ToolCall:
    """A function call of an assistant turn in the conversation."""

    id: str
    name: str
    arguments: str  # JSON text


@dataclass(frozen=True)
class FunctionTool:
    name: str
    description: str = ""
    parameters: str = ""  # its JSON schema as JSON text; empty when the function takes no arguments
    strict: bool = False  # calls follow the schema exactly, even those the model chooses (auto)


@dataclass(frozen=True)
class ToolChoice:
    mode: str = ""
    function_name: str = ""


@dataclass(frozen=True)
class ToolCallDelta:
    """A part of the generated call at `index`: the first part carries id and name, later parts more
    arguments text (OpenAI's streaming shape)."""

    index: int
    id: str = ""
    name: str = ""
    arguments: str = ""


@dataclass(frozen=True)
class Tools:
    """A generation's tools and how it may use them."""

    functions: tuple[FunctionTool, ...] = ()
    choice: ToolChoice = field(default_factory=ToolChoice)
    parallel: bool = True

    @property
    def mode(self) -> str:
        """none | auto | required | function: OpenAI's defaults are auto with tools, none without."""
        if not self.functions:
            return "none"
        return self.choice.mode or "auto"


def new_call_id() -> str:
    """An id in OpenAI's shape: `call_` and 24 characters."""
    return "call_" + secrets.token_hex(12)


def _parameters(tool: FunctionTool, index: int) -> dict[str, Any] | None:
    if not tool.parameters:
        return None
    try:
        value = json.loads(tool.parameters)
    except ValueError as error:
        raise InvalidArgumentError(
            f"the parameters of function '{tool.name}' are not valid JSON: {error}",
            param=f"tools[{index}].function.parameters",
        ) from error
    if not isinstance(value, dict):
        raise InvalidArgumentError(
            f"the parameters of function '{tool.name}' must be a JSON schema object",
            param=f"tools[{index}].function.parameters",
        )
    return value


def template_tools(tools: Tools, *, strict: bool = False) -> list[dict[str, Any]] | None:
    """The tools in OpenAI's shape, as chat templates (`apply_chat_template(tools=...)`) expect them;
    with `strict`, each function's strict flag too (for vLLM's tool parsers)."""
    if not tools.functions:
        return None
    rendered = []
    for i, tool in enumerate(tools.functions):
        function: dict[str, Any] = {"name": tool.name}
        if tool.description:
            function["description"] = tool.description
        parameters = _parameters(tool, i)
        if parameters is not None:
            function["parameters"] = parameters
        if strict and tool.strict:
            function["strict"] = True
        rendered.append({"type": "function", "function": function})
    return rendered


def template_arguments(arguments: str) -> Any:
    """A past call's arguments for the template: templates write them with `tojson`, so they get the
    parsed object (as transformers and vLLM pass them); text that is not JSON stays text."""
    try:
        return json.loads(arguments)
    except ValueError:
        return arguments


_EMPTY_OBJECT: dict[str, Any] = {"type": "object", "properties": {}}


def forced_schema(tools: Tools) -> dict[str, Any] | None:
    """The JSON schema the output must follow when a call is forced, or None.

    A named function: the output is its arguments object. `required`: a JSON array of
    {"name", "parameters"} objects, one call at least (at most one without parallel calls), whose
    `$defs` are gathered at the root, where the functions' `$ref`s point."""
    mode = tools.mode
    if mode == "function":
        for i, tool in enumerate(tools.functions):
            if tool.name == tools.choice.function_name:
                return _parameters(tool, i) or _EMPTY_OBJECT
        raise InvalidArgumentError(
            f"tool_choice names function '{tools.choice.function_name}', which is not among tools",
            param="tool_choice",
        )
    if mode != "required":
        return None
    calls: list[dict[str, Any]] = []
    defs: dict[str, Any] = {}
    for i, tool in enumerate(tools.functions):
        parameters = dict(_parameters(tool, i) or _EMPTY_OBJECT)
        for name, definition in (parameters.pop("$defs", None) or {}).items():
            if defs.setdefault(name, definition) != definition:
                raise InvalidArgumentError(
                    f"functions define '$defs/{name}' differently; a forced call needs them to agree",
                    param=f"tools[{i}].function.parameters",
                )
        calls.append(
            {
                "type": "object",
                "properties": {"name": {"type": "string", "enum": [tool.name]}, "parameters": parameters},
                "required": ["name", "parameters"],
                "additionalProperties": False,
            }
        )
    schema: dict[str, Any] = {"type": "array", "minItems": 1, "items": {"anyOf": calls}}
    if not tools.parallel:
        schema["maxItems"] = 1
    if defs:
        schema["$defs"] = defs
    return schema
