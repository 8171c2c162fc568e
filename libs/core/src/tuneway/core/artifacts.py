"""Artifact locations and content digests."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tuneway.core.errors import InvalidArgumentError

_CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    """sha256 of one file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def directory_sha256(path: Path) -> str:
    """Digest of a directory: every file's relative path and sha256, in sorted order."""
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(file.relative_to(path).as_posix().encode())
        digest.update(b"\0")
        digest.update(file_sha256(file).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def local_path(uri: str) -> Path:
    """The local path of a `file://` artifact URI (`file://var/x` is relative, `file:///x` absolute)."""
    if uri.startswith("file://"):
        return Path(uri.removeprefix("file://"))
    if "://" not in uri:
        return Path(uri)
    raise InvalidArgumentError(f"artifact URI {uri!r} is not a local file URI", param="artifact_uri")
