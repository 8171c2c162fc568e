"""Log probabilities in OpenAI's chat shape: `choices[i].logprobs.content`, one entry per content token
with its UTF-8 bytes and the most likely alternatives at its position."""

from __future__ import annotations

from collections.abc import Iterable

from typing_extensions import TypedDict

from tuneway.api.inference.v1 import inference_pb2 as pb


class TopLogprob(TypedDict):
    token: str
    logprob: float
    bytes: list[int] | None


class TokenLogprob(TypedDict):
    """A content token, its log probability, its UTF-8 bytes and the `top_logprobs` most likely tokens."""

    token: str
    logprob: float
    bytes: list[int] | None
    top_logprobs: list[TopLogprob]


class ChoiceLogprobs(TypedDict):
    """The log probabilities of a choice's content tokens (with `logprobs: true`)."""

    content: list[TokenLogprob] | None
    refusal: list[TokenLogprob] | None


def _bytes(token: str) -> list[int]:
    return list(token.encode("utf-8", errors="replace"))


def content_logprobs(tokens: Iterable[pb.TokenLogprob]) -> list[TokenLogprob]:
    """Each token of the inference service's list in OpenAI's shape."""
    return [
        {
            "token": t.token,
            "logprob": t.logprob,
            "bytes": _bytes(t.token),
            "top_logprobs": [
                {"token": a.token, "logprob": a.logprob, "bytes": _bytes(a.token)} for a in t.top
            ],
        }
        for t in tokens
    ]


def choice_logprobs(tokens: Iterable[pb.TokenLogprob]) -> ChoiceLogprobs:
    """A choice's `logprobs` object."""
    return {"content": content_logprobs(tokens), "refusal": None}
