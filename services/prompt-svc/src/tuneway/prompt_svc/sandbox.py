"""The Jinja2 sandbox prompts render in: no Python internals, bounded work, time and output size.

Jinja's SandboxedEnvironment already refuses unsafe attributes at run time. On top of it every
template is rewritten before compilation so that loops and concatenations pass through guards, and
calls and arithmetic on sequences are intercepted: each guard spends one step of a per-render budget,
checks the deadline and refuses values larger than the output limit before they are built.
"""

from __future__ import annotations

import contextvars
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError
from jinja2.meta import find_undeclared_variables
from jinja2.sandbox import SandboxedEnvironment, safe_range
from jinja2.utils import Cycler, Joiner, Namespace
from jinja2.visitor import NodeTransformer

from tuneway.core.errors import InvalidArgumentError

# Filters that only transform their (already bounded) input; the rest are left out, e.g. `center`,
# `indent` and `format`, whose arguments could ask for gigabytes, and `attr`, `pprint`, `xmlattr`.
SAFE_FILTERS = (
    "abs capitalize count d default dictsort e escape first float int items join last length list "
    "lower map max min reject rejectattr replace reverse round select selectattr slice sort string "
    "striptags sum title tojson trim truncate unique upper wordcount batch"
).split()
# Format specs like %10000s or {:>10000}: widths would let a short template build a huge string.
_PERCENT_WIDTH = re.compile(r"%[-#0 +]*(\*|\d{4,}|\.\d{4,})")
_BRACE_WIDTH = re.compile(r"\{[^{}]*:[^{}]*(\d{4,}|\{)")
_GUARD_ITER, _GUARD_CONCAT = "__tw_iter", "__tw_concat"


@dataclass(frozen=True)
class Limits:
    """Per-render bounds."""

    max_template_chars: int = 32_768
    max_output_chars: int = 65_536
    max_steps: int = 100_000
    timeout_seconds: float = 0.1


class RenderLimitError(InvalidArgumentError):
    """A render exceeded its time, work or size budget."""


class _Budget:
    __slots__ = ("deadline", "limits", "steps")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.steps = limits.max_steps
        self.deadline = time.perf_counter() + limits.timeout_seconds

    def spend(self) -> None:
        self.steps -= 1
        if self.steps < 0:
            raise RenderLimitError(
                f"The template did more than {self.limits.max_steps} steps (loop turns and calls).",
                code="render_limit_exceeded",
            )
        if time.perf_counter() > self.deadline:
            raise RenderLimitError(
                f"Rendering took longer than {self.limits.timeout_seconds * 1000:.0f} ms.",
                code="render_limit_exceeded",
            )

    def check_size(self, size: int) -> None:
        if size > self.limits.max_output_chars:
            raise RenderLimitError(
                f"The template would produce more than {self.limits.max_output_chars} characters.",
                code="render_limit_exceeded",
            )


_budget: contextvars.ContextVar[_Budget] = contextvars.ContextVar("render_budget")


def _spend() -> _Budget:
    budget = _budget.get()
    budget.spend()
    return budget


def _size(value: Any) -> int:
    return len(value) if isinstance(value, str | bytes | list | tuple | dict) else 0


def _guarded_iter(iterable: Iterable[Any]) -> Iterator[Any]:
    for item in iterable:
        _spend()
        yield item


def _guarded_concat(*parts: Any) -> str:
    budget = _spend()
    texts = [str(p) for p in parts]
    budget.check_size(sum(map(len, texts)))
    return "".join(texts)


def _guarded_range(*args: int) -> range:
    budget = _spend()
    result = safe_range(*args)
    budget.check_size(len(result))
    return result


class PromptSandbox(SandboxedEnvironment):
    """A SandboxedEnvironment with StrictUndefined, a filter allow-list and work/size guards."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self, limits: Limits) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
        self.limits = limits
        self.filters = {name: self.filters[name] for name in SAFE_FILTERS}
        self.globals = {
            "range": _guarded_range,
            "dict": dict,
            "namespace": Namespace,
            "cycler": Cycler,
            "joiner": Joiner,
            _GUARD_ITER: _guarded_iter,
            _GUARD_CONCAT: _guarded_concat,
        }

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        """Refuses arithmetic that would build huge values, before building them."""
        budget = _spend()
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if _size(seq) and isinstance(times, int):
                    budget.check_size(_size(seq) * max(times, 0))
        elif operator == "+":
            budget.check_size(_size(left) + _size(right))
        elif operator == "**":
            if isinstance(left, int) and isinstance(right, int) and left.bit_length() * right > 65_536:
                raise RenderLimitError(
                    "The template computes a number too large.", code="render_limit_exceeded"
                )
        elif operator == "%" and isinstance(left, str) and _PERCENT_WIDTH.search(left):
            raise RenderLimitError(
                "Format widths of 1000 or more are not allowed.", code="render_limit_exceeded"
            )
        result = super().call_binop(context, operator, left, right)
        budget.check_size(_size(result))
        return result

    def wrap_str_format(self, value: Any) -> Any:
        """str.format in a template: Jinja's sandboxed formatter, with widths bounded first."""
        owner = getattr(value, "__self__", None)
        if isinstance(owner, str) and getattr(value, "__name__", "") in ("format", "format_map"):
            if _BRACE_WIDTH.search(owner):
                raise RenderLimitError(
                    "Format widths of 1000 or more are not allowed.", code="render_limit_exceeded"
                )
        return super().wrap_str_format(value)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        """Every call spends a step (recursive macros), and its result must fit the output limit."""
        budget = _spend()
        result = super().call(__context, __obj, *args, **kwargs)
        budget.check_size(_size(result))
        return result


class _Guard(NodeTransformer):
    """Routes loop iterables and `~` concatenations through the guard functions."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = nodes.Call(nodes.Name(_GUARD_ITER, "load"), [node.iter], [], None, None)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return nodes.Call(nodes.Name(_GUARD_CONCAT, "load"), list(node.nodes), [], None, None)


def _internal_names(ast: nodes.Template) -> list[str]:
    """Attribute and item names that reach for Python internals (`__class__`, `_private`)."""
    found = [n.attr for n in ast.find_all(nodes.Getattr) if n.attr.startswith("_")]
    for item in ast.find_all(nodes.Getitem):
        if (
            isinstance(item.arg, nodes.Const)
            and isinstance(item.arg.value, str)
            and item.arg.value.startswith("_")
        ):
            found.append(item.arg.value)
    return found


@dataclass(frozen=True)
class CompiledTemplate:
    """A guarded, compiled template and the variables it reads."""

    template: Any
    names: frozenset[str]
    # The text of a template without any Jinja syntax (few-shot turns usually): no render needed.
    constant: str | None = None

    def render(self, variables: dict[str, Any], limits: Limits) -> str:
        """Renders within `limits`; raises InvalidArgumentError naming what went wrong."""
        if self.constant is not None:
            return self.constant
        token = _budget.set(_Budget(limits))
        try:
            budget = _budget.get()
            parts: list[str] = []
            size = 0
            for part in self.template.root_render_func(self.template.new_context(variables)):
                size += len(part)
                budget.check_size(size)
                parts.append(part)
            return "".join(parts)
        except UndefinedError as error:
            raise InvalidArgumentError(
                f"Prompt template error: {error.message}.", param="variables", code="missing_variable"
            ) from None
        except SecurityError as error:
            raise InvalidArgumentError(
                f"The template was refused by the sandbox: {error}.",
                param="variables",
                code="unsafe_template",
            ) from None
        except (TemplateError, ArithmeticError, TypeError, ValueError, LookupError, RecursionError) as error:
            raise InvalidArgumentError(
                f"Prompt template error: {type(error).__name__}: {error}.",
                param="variables",
                code="template_error",
            ) from None
        finally:
            _budget.reset(token)


def compile_template(env: PromptSandbox, source: str, param: str) -> CompiledTemplate:
    """Parses, checks and compiles one template; errors name `param` (e.g. messages[0].content)."""
    if len(source) > env.limits.max_template_chars:
        raise InvalidArgumentError(
            f"Invalid value for '{param}': templates are limited to {env.limits.max_template_chars} "
            "characters.",
            param=param,
            code="invalid_value",
        )
    try:
        ast = env.parse(source)
    except TemplateSyntaxError as error:
        raise InvalidArgumentError(
            f"Template syntax error in '{param}' line {error.lineno}: {error.message}.",
            param=param,
            code="template_syntax_error",
        ) from None
    internal = _internal_names(ast)
    if internal:
        raise InvalidArgumentError(
            f"The template in '{param}' uses {internal[0]!r}: templates cannot reach Python internals.",
            param=param,
            code="unsafe_template",
        )
    if any(
        isinstance(n, nodes.Extends | nodes.Include | nodes.Import | nodes.FromImport)
        for n in ast.find_all(nodes.Stmt)
    ):
        raise InvalidArgumentError(
            f"The template in '{param}' includes or imports other templates, which prompts cannot do.",
            param=param,
            code="template_syntax_error",
        )
    try:
        names = frozenset(find_undeclared_variables(ast)) - set(env.globals)
        code = env.compile(_Guard().visit(ast))
    except TemplateSyntaxError as error:  # unknown filters and tests are found while compiling
        raise InvalidArgumentError(
            f"Template error in '{param}' line {error.lineno}: {error.message}.",
            param=param,
            code="template_syntax_error",
        ) from None
    template = env.template_class.from_code(env, code, env.make_globals(None), None)
    return CompiledTemplate(template, names, _constant(ast))


def _constant(ast: nodes.Template) -> str | None:
    """The text of a template made of plain text only, else None."""
    parts: list[str] = []
    for node in ast.body:
        if not isinstance(node, nodes.Output) or not all(
            isinstance(n, nodes.TemplateData) for n in node.nodes
        ):
            return None
        parts.extend(n.data for n in node.nodes if isinstance(n, nodes.TemplateData))
    return "".join(parts)
