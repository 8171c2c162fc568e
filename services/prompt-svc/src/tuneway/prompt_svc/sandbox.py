"""The Jinja2 sandbox prompts render in: no Python internals, bounded work, time and output size.

Jinja's SandboxedEnvironment already refuses unsafe attributes at run time. On top of it every
template is rewritten before compilation so that loops and concatenations pass through guards, and
calls and arithmetic on sequences are intercepted: each guard spends one step of a per-render budget,
checks the deadline and refuses values larger than the output limit before they are built.
Filters and builtin methods are allow-listed and sized before they run (join, replace, batch, slice,
center...), and only JSON-like values may become text: anything else would print as a Python repr.
"""

from __future__ import annotations

import contextvars
import functools
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, Undefined, nodes
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError
from jinja2.filters import make_attrgetter
from jinja2.meta import find_undeclared_variables
from jinja2.nodes import EvalContext
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment, SandboxedFormatter, safe_range
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


# What a template may turn into text: JSON's kinds of value. Anything else (a class, a function, a
# bound method, a generator, a dict view, a macro, `self`, `loop`) would print as a Python repr that
# names internals and memory addresses.
_PLAIN_SCALARS = (str, int, float, bool, type(None))
_PLAIN_CONTAINERS = (list, tuple, dict)


def _text_size(value: Any, budget: _Budget | None) -> int:
    """The length str(value) would have (items in a container count their quotes and separators),
    checked against the output limit as it is counted, so a list repeating a long string 60,000 times
    is refused before it is ever joined. Refuses values whose text would be a Python repr."""
    limit = budget.limits.max_output_chars if budget else None
    total = 0
    seen: set[int] = set()
    stack: list[tuple[Any, bool]] = [(value, False)]
    while stack:
        item, nested = stack.pop()
        if isinstance(item, str):
            total += len(item) + (4 if nested else 0)  # 'text', and the ", " after it
        elif isinstance(item, _PLAIN_SCALARS):
            total += len(repr(item)) + (2 if nested else 0)
        elif isinstance(item, _PLAIN_CONTAINERS):
            total += 2
            if id(item) in seen:  # a list holding itself prints as [...]
                continue
            seen.add(id(item))
            if isinstance(item, dict):
                for key, val in item.items():
                    stack.extend(((key, True), (val, True)))
            else:
                stack.extend((element, True) for element in item)
        else:
            raise SecurityError(
                f"templates can only output text, numbers, lists and objects, not a Python "
                f"{type(item).__name__} (use |list for map, select and items)"
            )
        if limit is not None and total > limit:
            assert budget is not None
            budget.check_size(total)
    return total


def _current_budget() -> _Budget | None:
    return _budget.get(None)


def _as_text(value: Any) -> Any:
    """`value`, once it is known to stringify to plain, bounded text (Undefined raises on its own)."""
    if not isinstance(value, Undefined | str):
        _text_size(value, _current_budget())
    return value


def _guarded_iter(iterable: Iterable[Any]) -> Iterator[Any]:
    for item in iterable:
        _spend()
        yield item


def _guarded_concat(*parts: Any) -> str:
    budget = _spend()
    budget.check_size(sum(_text_size(p, budget) for p in parts if not isinstance(p, Undefined)))
    texts = [str(p) for p in parts]
    budget.check_size(sum(map(len, texts)))
    return "".join(texts)


def _guarded_range(*args: int) -> range:
    budget = _spend()
    result = safe_range(*args)
    budget.check_size(len(result))
    return result


def _guard_text_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """A filter that spends a step, refuses input that would print as a Python repr or whose result
    would exceed the output limit (checked before building it where the filter can grow its input)."""

    @functools.wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        budget = _spend()
        checked = _FILTER_CHECKS.get(name, _unchecked)(budget, list(args), kwargs)
        result = func(*checked, **kwargs)
        if isinstance(result, str | list | tuple | dict):
            budget.check_size(_size(result))
        return result

    return guarded


def _value_index(args: list[Any]) -> int:
    """Filters marked pass_environment/pass_eval_context/pass_context take it before the value."""
    return 1 if args and not _is_value(args[0]) else 0


def _is_value(arg: Any) -> bool:
    return not isinstance(arg, SandboxedEnvironment | EvalContext | Context)


def _unchecked(budget: _Budget, args: list[Any], kwargs: dict[str, Any]) -> list[Any]:
    """Filters that neither stringify nor grow their input (their result is still size-checked)."""
    return args


def _check_stringified(budget: _Budget, args: list[Any], kwargs: dict[str, Any]) -> list[Any]:
    index = _value_index(args)
    if len(args) > index and not isinstance(args[index], Undefined):
        _text_size(args[index], budget)
    return args


def _check_replace(budget: _Budget, args: list[Any], kwargs: dict[str, Any]) -> list[Any]:
    index = _value_index(args)
    _check_stringified(budget, args, kwargs)
    value, rest = args[index], args[index + 1 :]
    old = str(rest[0] if rest else kwargs.get("old", ""))
    new = str(rest[1] if len(rest) > 1 else kwargs.get("new", ""))
    _check_replacement(budget, str(value), old, new)
    return args


def _check_replacement(budget: _Budget, text: str, old: str, new: str) -> None:
    matches = text.count(old) if old else len(text) + 1
    budget.check_size(len(text) + matches * max(0, len(new) - len(old)))


def _check_join(budget: _Budget, args: list[Any], kwargs: dict[str, Any]) -> list[Any]:
    index = _value_index(args)
    rest = args[index + 1 :]
    separator = rest[0] if rest else kwargs.get("d", "")
    attribute = rest[1] if len(rest) > 1 else kwargs.pop("attribute", None)
    items = list(_guarded_iter(args[index]))
    if attribute is not None:
        environment = getattr(args[0], "environment", args[0])
        items = [make_attrgetter(environment, attribute)(item) for item in items]
        args = [*args[: index + 2]] if len(rest) > 1 else args
    _check_joined(budget, items, separator)
    args[index] = items
    return args


def _check_joined(budget: _Budget, items: list[Any], separator: Any) -> None:
    size = _text_size(separator, budget) * max(len(items) - 1, 0)
    budget.check_size(size)
    for item in items:
        size += _text_size(item, budget)
        budget.check_size(size)


def _check_sum(budget: _Budget, args: list[Any], kwargs: dict[str, Any]) -> list[Any]:
    index = _value_index(args)
    items = list(_guarded_iter(args[index]))
    budget.check_size(sum(_size(item) for item in items) + _size(kwargs.get("start")))
    args[index] = items
    return args


def _check_count(position: int, keyword: str) -> Callable[[_Budget, list[Any], dict[str, Any]], list[Any]]:
    """batch and slice make as many rows as their count says, however short their input."""

    def check(budget: _Budget, args: list[Any], kwargs: dict[str, Any]) -> list[Any]:
        index = _value_index(args)
        rest = args[index + 1 :]
        count = rest[position] if len(rest) > position else kwargs.get(keyword, 0)
        if isinstance(count, int):
            budget.check_size(count)
        return args

    return check


def _check_tojson(budget: _Budget, args: list[Any], kwargs: dict[str, Any]) -> list[Any]:
    index = _value_index(args)
    rest = args[index + 1 :]
    indent = rest[0] if rest else kwargs.get("indent")
    width = len(indent) if isinstance(indent, str) else indent if isinstance(indent, int) else 0
    if width > _MAX_INDENT:
        raise RenderLimitError(
            f"tojson indents by at most {_MAX_INDENT} characters.", code="render_limit_exceeded"
        )
    _check_stringified(budget, args, kwargs)
    return args


_MAX_INDENT = 16
_STRINGIFYING = ("capitalize e escape lower string striptags title trim truncate upper wordcount").split()
_FILTER_CHECKS: dict[str, Callable[[_Budget, list[Any], dict[str, Any]], list[Any]]] = {
    **{name: _check_stringified for name in _STRINGIFYING},
    "replace": _check_replace,
    "join": _check_join,
    "sum": _check_sum,
    "batch": _check_count(0, "linecount"),
    "slice": _check_count(0, "slices"),
    "tojson": _check_tojson,
}

# Methods a template may call on its values; anything else (str.translate, str.encode, dict views'
# internals) is refused. Growing ones are checked before they run, mutating ones after.
_STR_METHODS = frozenset(
    "capitalize casefold count endswith find index isalnum isalpha isdecimal isdigit islower isnumeric "
    "isspace istitle isupper join lower lstrip partition removeprefix removesuffix replace rfind rindex "
    "rpartition rsplit rstrip split splitlines startswith strip swapcase title upper center ljust rjust "
    "zfill".split()
)
_LIST_METHODS = frozenset("append count copy extend index insert pop remove reverse sort clear".split())
_DICT_METHODS = frozenset("clear copy get items keys pop popitem setdefault update values fromkeys".split())
# Not int.to_bytes: (1).to_bytes(10**9) is a gigabyte.
_NUMBER_METHODS = frozenset("as_integer_ratio bit_count bit_length conjugate hex is_integer".split())


def _check_method(budget: _Budget, method: Any, args: tuple[Any, ...]) -> None:
    """Refuses a call of a builtin method outside the allow-list, or one that would build too much."""
    owner, name = getattr(method, "__self__", None), getattr(method, "__name__", "")
    if isinstance(owner, str):
        if name not in _STR_METHODS:
            raise SecurityError(f"str.{name} is not available in templates")
        if name in ("center", "ljust", "rjust", "zfill") and args and isinstance(args[0], int):
            budget.check_size(args[0])
        elif name == "replace" and len(args) >= 2:
            _check_replacement(budget, owner, str(args[0]), str(args[1]))
        elif name == "join" and args:
            items = list(_guarded_iter(args[0]))
            _check_joined(budget, items, owner)
    elif isinstance(owner, int | float) and name not in _NUMBER_METHODS:
        raise SecurityError(f"{type(owner).__name__}.{name} is not available in templates")
    elif isinstance(owner, list) and name not in _LIST_METHODS:
        raise SecurityError(f"list.{name} is not available in templates")
    elif (isinstance(owner, dict) or owner is dict) and name not in _DICT_METHODS:
        raise SecurityError(f"dict.{name} is not available in templates")


class _BoundedFormatter(SandboxedFormatter):
    """str.format's sandboxed formatter that counts what it writes and refuses repr-only values."""

    def __init__(self, env: SandboxedEnvironment, budget: _Budget) -> None:
        super().__init__(env)
        self._budget = budget
        self._written = 0

    def format_field(self, value: Any, format_spec: str) -> Any:
        self._written += _text_size(value, self._budget)
        self._budget.check_size(self._written)
        return super().format_field(value, format_spec)


class PromptSandbox(SandboxedEnvironment):
    """A SandboxedEnvironment with StrictUndefined, a filter allow-list and work/size guards."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self, limits: Limits) -> None:
        super().__init__(
            undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True, finalize=_as_text
        )
        self.limits = limits
        self.filters = {name: _guard_text_filter(name, self.filters[name]) for name in SAFE_FILTERS}
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
        elif operator == "%" and isinstance(left, str):
            if _PERCENT_WIDTH.search(left):
                raise RenderLimitError(
                    "Format widths of 1000 or more are not allowed.", code="render_limit_exceeded"
                )
            # Each conversion may print the largest argument: count before formatting.
            values = (
                right.values() if isinstance(right, dict) else right if isinstance(right, tuple) else [right]
            )
            largest = max((_text_size(v, budget) for v in values), default=0)
            budget.check_size(len(left) + left.count("%") * largest)
        if operator == "*" and isinstance(left, int) and isinstance(right, int):
            if left.bit_length() + right.bit_length() > 65_536:
                raise RenderLimitError(
                    "The template computes a number too large.", code="render_limit_exceeded"
                )
        result = super().call_binop(context, operator, left, right)
        budget.check_size(_size(result))
        return result

    def wrap_str_format(self, value: Any) -> Any:
        """str.format in a template: Jinja's sandboxed formatter, with widths bounded first."""
        owner = getattr(value, "__self__", None)
        name = getattr(value, "__name__", "")
        if not isinstance(owner, str) or name not in ("format", "format_map"):
            return None
        if _BRACE_WIDTH.search(owner):
            raise RenderLimitError(
                "Format widths of 1000 or more are not allowed.", code="render_limit_exceeded"
            )

        def bounded_format(*args: Any, **kwargs: Any) -> str:
            if name == "format_map":
                if kwargs or len(args) != 1:
                    raise TypeError("format_map() takes exactly one argument")
                mapping: dict[str, Any] = args[0]
                args, kwargs = (), mapping
            formatter = _BoundedFormatter(self, _spend())
            return str(formatter.vformat(owner, args, kwargs))

        return bounded_format

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        """Every call spends a step (recursive macros), and its result must fit the output limit."""
        budget = _spend()
        _check_method(budget, __obj, args)
        result = super().call(__context, __obj, *args, **kwargs)
        budget.check_size(_size(result))
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, list | dict):  # append/extend/update grow the value they were called on
            budget.check_size(_size(owner))
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
        except MemoryError:
            raise RenderLimitError(
                "The template asked for more memory than a render may use.", code="render_limit_exceeded"
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
