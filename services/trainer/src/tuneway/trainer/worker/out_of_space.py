"""A training run that failed because the artifact store is full: told apart from other failures, so that
the job's error says so and what the job had written is given back."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

# How the writers a run uses report ENOSPC when they wrap it in errors of their own: safetensors'
# SafetensorError ("I/O error: No space left on device (os error 28)") and Python's OSError.
_MESSAGES = (os.strerror(errno.ENOSPC), f"os error {errno.ENOSPC}")
# torch.save (the optimizer's state in a checkpoint) loses the errno: its stream writer fails with
# "[enforce fail at inline_container.cc:...] . unexpected pos 862784 vs 862676" or "file write failed".
_TORCH_WRITER = "inline_container.cc"
# A torch write failure while the store has less than this left is taken for a full store.
_NEARLY_FULL_BYTES = 64 * 1024 * 1024


def out_of_space(error: BaseException, store: Path) -> bool:
    """Whether `error`, or an error that caused it, is ENOSPC (or torch's writer failing on a nearly full
    `store`)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno == errno.ENOSPC:
            return True
        text = str(current)
        if any(message in text for message in _MESSAGES):
            return True
        if _TORCH_WRITER in text and _free_bytes(store) < _NEARLY_FULL_BYTES:
            return True
        current = current.__cause__ or current.__context__
    return False


def _free_bytes(store: Path) -> int:
    try:
        return shutil.disk_usage(store).free
    except OSError:
        return _NEARLY_FULL_BYTES


def out_of_space_message(error: BaseException) -> str:
    """The job's error: what happened, what to do, and the writer's own words."""
    return (
        "Training failed: the artifact store is full (ENOSPC: No space left on device); no adapter was "
        "registered. Free space in the artifact store and create the job again. "
        f"({type(error).__name__}: {error})"
    )
