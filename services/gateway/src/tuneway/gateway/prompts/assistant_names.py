"""Assistants are called as models named `assistant:<name>`."""

from __future__ import annotations

ASSISTANT_PREFIX = "assistant:"


def is_assistant(model: str) -> bool:
    """Whether a model name names an assistant."""
    return model.startswith(ASSISTANT_PREFIX)


def assistant_model(name: str) -> str:
    """The model name chat completions take for an assistant."""
    return ASSISTANT_PREFIX + name


def assistant_name(model: str) -> str:
    """The assistant's name in an `assistant:<name>` model name."""
    return model.removeprefix(ASSISTANT_PREFIX)
