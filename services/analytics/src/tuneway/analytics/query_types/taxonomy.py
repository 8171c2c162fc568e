"""Query types: the default taxonomy shipped with the service, tenants' own types, and their rules."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

from tuneway.core.errors import InvalidArgumentError

# What a query is when no type's centroid is close enough; it has no centroid of its own.
OTHER = "other"
HUMAN = "asks for a human"

MAX_NAME_LENGTH = 64
MAX_EXAMPLES = 100
MAX_EXAMPLE_LENGTH = 500
# Lower case words (letters, digits, "-", "_") separated by single spaces, like "refunds and returns".
_NAME = re.compile(r"[a-z0-9_-]+( [a-z0-9_-]+)*")


@dataclass(frozen=True)
class QueryTypeDefinition:
    """A named type and the example utterances whose mean embedding is its centroid."""

    name: str
    examples: tuple[str, ...]
    builtin: bool = False


def _load_defaults() -> tuple[QueryTypeDefinition, ...]:
    """default_examples.jsonl: one {"query_type", "text"} per line, types in order of first appearance."""
    examples: dict[str, list[str]] = {}
    text = resources.files(__package__).joinpath("default_examples.jsonl").read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.strip():
            row = json.loads(line)
            examples.setdefault(row["query_type"], []).append(row["text"])
    return tuple(QueryTypeDefinition(name, tuple(texts), builtin=True) for name, texts in examples.items())


DEFAULT_QUERY_TYPES: tuple[QueryTypeDefinition, ...] = _load_defaults()


def effective_types(tenant_types: Sequence[QueryTypeDefinition]) -> tuple[QueryTypeDefinition, ...]:
    """The defaults in their order, a tenant type of the same name replacing a default, then the
    tenant's new types in the order given."""
    by_name = {definition.name: definition for definition in tenant_types}
    merged = [by_name.pop(default.name, default) for default in DEFAULT_QUERY_TYPES]
    return (*merged, *by_name.values())


def validate_query_type(name: str, examples: Sequence[str]) -> None:
    """Refuses a type the classifier cannot use, naming the field (`name` or `examples`)."""
    if not 1 <= len(name) <= MAX_NAME_LENGTH or not _NAME.fullmatch(name):
        raise InvalidArgumentError(
            f"name must be 1 to {MAX_NAME_LENGTH} characters: lower case letters, digits, '-' or '_', "
            "in words separated by single spaces.",
            param="name",
        )
    if name == OTHER:
        raise InvalidArgumentError(f"name must not be {OTHER!r}: it is what matches no type.", param="name")
    if not 1 <= len(examples) <= MAX_EXAMPLES:
        raise InvalidArgumentError(f"examples must hold 1 to {MAX_EXAMPLES} utterances.", param="examples")
    for position, example in enumerate(examples):
        if not example.strip() or len(example) > MAX_EXAMPLE_LENGTH:
            raise InvalidArgumentError(
                f"examples[{position}] must be 1 to {MAX_EXAMPLE_LENGTH} characters and not blank.",
                param="examples",
            )
