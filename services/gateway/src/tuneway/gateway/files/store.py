"""Uploaded files' bytes in the artifact store, written as they stream in with their sha256 and size."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path

from tuneway.gateway.errors import PayloadTooLargeError


class PartialFile:
    """A file being written: hashes and counts each chunk, refuses bytes past `limit`."""

    def __init__(self, final: Path, limit: int) -> None:
        self.final = final
        # Written beside its final name and renamed once complete, so a half-written upload never
        # looks like a stored file.
        self.partial = final.with_name(final.name + ".partial")
        self.limit = limit
        self.size = 0
        self._digest = hashlib.sha256()
        self._handle: int | None = None

    async def write(self, data: bytes) -> None:
        """Appends `data`; PayloadTooLargeError once the file would pass the limit."""
        if not data:
            return
        self.size += len(data)
        if self.size > self.limit:
            raise PayloadTooLargeError(
                f"File too large: the limit is {self.limit} bytes.", param="file", code="file_too_large"
            )
        self._digest.update(data)
        # Disk writes run in a thread so a slow disk does not stall every other request.
        await asyncio.to_thread(self._write, data)

    def _open(self) -> int:
        if self._handle is None:
            self.partial.parent.mkdir(parents=True, exist_ok=True)
            self._handle = os.open(self.partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        return self._handle

    def _write(self, data: bytes) -> None:
        handle = self._open()
        view = memoryview(data)
        while view:
            view = view[os.write(handle, view) :]

    @property
    def sha256(self) -> str:
        """Hex digest of the bytes written so far."""
        return self._digest.hexdigest()

    async def commit(self) -> None:
        """Flushes the bytes to disk and gives the file its final name."""
        await asyncio.to_thread(self._commit)

    def _commit(self) -> None:
        handle = self._open()  # an empty upload still becomes a (zero-byte) file
        os.fsync(handle)
        os.close(handle)
        self._handle = None
        os.replace(self.partial, self.final)

    def discard(self) -> None:
        """Removes whatever was written (the upload failed or was refused)."""
        if self._handle is not None:
            os.close(self._handle)
            self._handle = None
        self.partial.unlink(missing_ok=True)


class FileStore:
    """Local artifact store of uploaded files: <root>/<tenant>/<file id>."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, tenant_id: str, file_id: str) -> Path:
        """Where a file's bytes live."""
        return self.root / tenant_id / file_id

    @staticmethod
    def uri(path: Path) -> str:
        """The artifact URI other services read the bytes by (absolute file://)."""
        return f"file://{path.resolve()}"

    def writer(self, tenant_id: str, file_id: str, limit: int) -> PartialFile:
        """A writer for a new file's bytes."""
        return PartialFile(self.path(tenant_id, file_id), limit)

    async def remove(self, path: Path) -> None:
        """Deletes a stored file (missing is fine)."""
        await asyncio.to_thread(path.unlink, True)
