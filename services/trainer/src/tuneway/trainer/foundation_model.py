"""The foundation model: the one base model this deployment fine-tunes, and its tokenizer."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from tuneway.core.errors import FailedPreconditionError, InvalidArgumentError


class FoundationModel:
    """The one base model this deployment trains: its public name, directory and (lazy) tokenizer."""

    def __init__(self, name: str, path: Path) -> None:
        self.name = name
        self.path = path
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def check(self, model: str, param: str = "model") -> str:
        """The base model's name when `model` names it (or is empty); an error naming `param` otherwise."""
        if model and model != self.name:
            raise InvalidArgumentError(
                f"Model {model!r} is not available for fine-tuning; "
                f"this deployment fine-tunes {self.name!r}.",
                param=param,
                code="model_not_available",
            )
        return self.name

    def tokenizer(self) -> Any:
        """The base model's tokenizer, loaded once per process (thread-safe)."""
        with self._lock:
            if self._tokenizer is None:
                from transformers import AutoTokenizer

                if not self.path.is_dir():
                    raise FailedPreconditionError(
                        f"the base model directory {self.path} does not exist (run `make model`)"
                    )
                self._tokenizer = AutoTokenizer.from_pretrained(str(self.path))
            return self._tokenizer
