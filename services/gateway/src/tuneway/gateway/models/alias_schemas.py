"""Request body of the model alias routes."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class SetModelAlias(BaseModel):
    """Body of PUT /v1/model_aliases/{alias}."""

    model_config = ConfigDict(extra="forbid")

    target: Annotated[
        str,
        Field(
            min_length=1,
            max_length=256,
            description="A model the tenant may call: a base model, an adapter, `assistant:<name>` or an "
            "embedder (not another alias).",
        ),
    ]
