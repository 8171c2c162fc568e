"""Completion ids bound to their tenant: `chatcmpl-<random><tag>` (a response of the Responses API:
`resp_<random><tag>`; a legacy text completion: `cmpl-<random><tag>`), the tag a truncated HMAC-SHA256
of (tenant id, random part) under the gateway's secret. Feedback on an id whose tag does not verify for
the caller's tenant is refused without asking any store, so another tenant's completions stay
invisible."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

PREFIX = "chatcmpl-"
# The Responses API's ids: generations the client may give feedback on, as on chat completions.
RESPONSE_PREFIX = "resp_"
# The legacy completions API's ids (`text_completion` objects), as OpenAI's.
TEXT_COMPLETION_PREFIX = "cmpl-"
_PREFIXES = (PREFIX, RESPONSE_PREFIX, TEXT_COMPLETION_PREFIX)
_RANDOM_HEX = 32  # 128 random bits
_TAG_HEX = 16  # 64 bits of HMAC: forging one for another tenant takes ~2^64 tries


class CompletionIds:
    """Makes and verifies tenant-bound completion ids (still `chatcmpl-` + hex, as OpenAI's)."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the completion id secret must have at least 16 bytes")
        self._secret = secret

    def _tag(self, tenant_id: str, random_part: str) -> str:
        message = f"{tenant_id}\x00{random_part}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:_TAG_HEX]

    def new(self, tenant_id: str, prefix: str = PREFIX) -> str:
        """A fresh id of a completion (or, with RESPONSE_PREFIX, a response) for `tenant_id`."""
        random_part = secrets.token_hex(_RANDOM_HEX // 2)
        return prefix + random_part + self._tag(tenant_id, random_part)

    def belongs_to(self, completion_id: str, tenant_id: str) -> bool:
        """Whether `completion_id` was made for `tenant_id` by a gateway holding the same secret."""
        prefix = next((p for p in _PREFIXES if completion_id.startswith(p)), "")
        body = completion_id.removeprefix(prefix)
        if not prefix or len(body) != _RANDOM_HEX + _TAG_HEX:
            return False
        random_part, tag = body[:_RANDOM_HEX], body[_RANDOM_HEX:]
        return hmac.compare_digest(tag, self._tag(tenant_id, random_part))


def load_secret(configured: str, path: Path) -> bytes:
    """The configured secret, else the one in `path`, else a new one written there (0600)."""
    if configured:
        return configured.encode()
    try:
        stored = path.read_text().strip()
    except FileNotFoundError:
        stored = ""
    if stored:
        return stored.encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    generated = secrets.token_hex(32)
    # O_EXCL: of two processes starting together, one writes and the other reads what it wrote.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip().encode()
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, f"{generated}\n".encode())
    finally:
        os.close(fd)
    return generated.encode()
