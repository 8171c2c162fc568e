"""What the host's pip is configured with (its config files and PIP_* variables), read at run time so
that the image builds reach packages as the host does without a host path in the repository."""

from __future__ import annotations

import ast
import subprocess
import sys
from functools import cache

# The sections pip applies to `pip install`, weakest first (the environment wins, as in pip).
SECTIONS = ("global", "install", ":env:")


@cache
def _settings() -> dict[str, str]:
    listed = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], check=True, text=True, capture_output=True
    ).stdout
    found: dict[tuple[int, str], str] = {}
    for line in listed.splitlines():
        key, _, value = line.partition("=")
        section, _, name = key.rpartition(".")
        if section in SECTIONS and value:
            found[(SECTIONS.index(section), name)] = ast.literal_eval(value)
    settings: dict[str, str] = {}
    for (_, name), value in sorted(found.items()):
        settings[name] = value
    return settings


def pip_setting(name: str) -> str:
    """The value pip uses for `name` (e.g. "cert", "find-links"), or ""."""
    return _settings().get(name, "")
