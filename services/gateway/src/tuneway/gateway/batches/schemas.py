"""The request body of POST /v1/batches, as OpenAI defines it, limited to what tuneway runs."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator

from tuneway.gateway.wire_types import UnicodeModel

# The endpoints a batch's lines may call; OpenAI's others are a 400 naming `endpoint`.
ENDPOINTS = ("/v1/chat/completions", "/v1/embeddings")
MAX_METADATA_PAIRS, MAX_METADATA_KEY, MAX_METADATA_VALUE = 16, 64, 512


class CreateBatchBody(UnicodeModel):
    """OpenAI's batch creation parameters. `output_expires_after` is refused (an unknown field): output
    files are kept until deleted, as every file is."""

    model_config = ConfigDict(extra="forbid")

    # Printable ASCII, as every file id is: a NUL byte must not reach PostgreSQL (it refuses it in text).
    input_file_id: str = Field(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")
    endpoint: Literal["/v1/chat/completions", "/v1/embeddings"]
    completion_window: Literal["24h"]
    metadata: dict[str, str] | None = None

    @field_validator("metadata")
    @classmethod
    def _metadata(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        """OpenAI's limits: 16 pairs, keys up to 64 characters, values up to 512."""
        if value is None:
            return None
        if len(value) > MAX_METADATA_PAIRS:
            raise ValueError(f"at most {MAX_METADATA_PAIRS} key-value pairs")
        for key, item in value.items():
            if len(key) > MAX_METADATA_KEY:
                raise ValueError(f"keys are at most {MAX_METADATA_KEY} characters")
            if len(item) > MAX_METADATA_VALUE:
                raise ValueError(f"values are at most {MAX_METADATA_VALUE} characters")
        return value
