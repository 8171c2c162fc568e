"""Request bodies of the analytics API. Unknown fields are refused (400 naming them): feedback and
settings must never look accepted while a field we do not honour is dropped."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FeedbackBody(_Strict):
    """A judgement of one chat completion: `rating` (+1 or -1) or `score` on `scale`."""

    completion_id: Annotated[str, Field(min_length=1, max_length=128)]
    rating: StrictInt | None = None
    score: Annotated[float, Field(allow_inf_nan=False)] | None = None
    scale: Literal["0-1", "1-5"] | None = None
    label: Annotated[str, Field(max_length=64)] | None = None
    comment: Annotated[str, Field(max_length=4_000)] | None = None
    user: Annotated[str, Field(max_length=256)] | None = None


class SettingsBody(_Strict):
    """The tenant's analytics settings."""

    keep_message_text: StrictBool


class QueryTypeBody(_Strict):
    """A query type's example utterances (their embeddings' mean is its centroid)."""

    examples: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=2_000)]], Field(min_length=1, max_length=100)
    ]
