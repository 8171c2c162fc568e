"""Artifact digests and URIs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tuneway.core.artifacts import directory_sha256, local_path
from tuneway.core.errors import InvalidArgumentError


def _tree(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def test_directory_digest_follows_names_and_contents(tmp_path: Path) -> None:
    a = directory_sha256(_tree(tmp_path / "a", {"w.bin": b"1", "sub/c.json": b"{}"}))
    assert a == directory_sha256(_tree(tmp_path / "b", {"sub/c.json": b"{}", "w.bin": b"1"}))
    assert a != directory_sha256(_tree(tmp_path / "c", {"w.bin": b"2", "sub/c.json": b"{}"}))
    assert a != directory_sha256(_tree(tmp_path / "d", {"x.bin": b"1", "sub/c.json": b"{}"}))
    assert len(a) == 64


def test_local_paths() -> None:
    assert local_path("file:///srv/a") == Path("/srv/a")
    assert local_path("file://var/artifacts/x") == Path("var/artifacts/x")
    with pytest.raises(InvalidArgumentError):
        local_path("s3://bucket/x")
