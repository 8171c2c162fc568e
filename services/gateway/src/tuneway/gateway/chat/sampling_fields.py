"""Sampling fields the chat and the legacy completions bodies share, with OpenAI's names and limits, and
the part of the inference request they make."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, Field, field_validator

from tuneway.api.inference.v1 import inference_pb2 as pb
from tuneway.gateway.wire_types import INT32_MAX, Int64, Probability, UnicodeModel

# OpenAI's bounds on n; the inference service caps it lower (INFERENCE_MAX_N) with a 400 naming `n`.
Choices = Annotated[int, Field(ge=1, le=128)]
# OpenAI's limit on chat's top_logprobs.
TopLogprobs = Annotated[int, Field(ge=0, le=20)]
MAX_BIASED_TOKENS = 300


def _token_biases(value: dict[str, Any]) -> dict[str, Any]:
    # Checked whole, so that every fault names `logit_bias` itself, as OpenAI's errors do.
    if len(value) > MAX_BIASED_TOKENS:
        raise ValueError(f"at most {MAX_BIASED_TOKENS} tokens may be biased")
    for key, bias in value.items():
        if not key.isascii() or not key.isdigit() or int(key) > INT32_MAX:
            raise ValueError(f"keys must be token ids (non-negative integers as strings), not {key!r}")
        if isinstance(bias, bool) or not isinstance(bias, (int, float)) or not -100 <= bias <= 100:
            raise ValueError(f"the bias of token {key} must be a number from -100 to 100")
    return value


# Token id (as a string, JSON's only key type) -> bias from -100 (never) to 100 (always); the inference
# service refuses ids beyond the model's vocabulary (400 naming `logit_bias`).
LogitBias = Annotated[dict[str, Any], AfterValidator(_token_biases)]


def logit_bias_map(value: dict[str, Any] | None) -> dict[int, float]:
    """The bias of each token id, as the inference request carries it."""
    return {int(key): float(bias) for key, bias in (value or {}).items()}


class SamplingFields(UnicodeModel):
    """The fields both bodies take the same way; each request class adds its own."""

    # Clients (LangChain, LlamaIndex, the SDK's extra_body) send fields we do not use; OpenAI-compatible
    # servers ignore them.
    model_config = ConfigDict(extra="ignore")

    temperature: Annotated[float, Field(ge=0, le=2)] | None = None
    top_p: Probability | None = None
    # Choices generated from one prompt: one engine request, its choices sharing the prompt.
    n: Choices = 1
    stop: str | Annotated[list[str], Field(max_length=4)] | None = None
    seed: Int64 | None = None
    presence_penalty: Annotated[float, Field(ge=-2, le=2)] | None = None
    frequency_penalty: Annotated[float, Field(ge=-2, le=2)] | None = None
    logit_bias: LogitBias | None = None
    # vLLM extension, accepted for parity with vLLM's server: generate past the end-of-sequence token.
    ignore_eos: bool = False

    @field_validator("stop")
    @classmethod
    def _stop_list(cls, value: str | list[str] | None) -> list[str] | None:
        if value is None:
            return None
        stops = [value] if isinstance(value, str) else value
        # vLLM refuses an empty stop string (it would end every generation at once).
        if not all(stops):
            raise ValueError("stop sequences must not be empty")
        return stops

    def sampling_params(self, max_tokens: int | None) -> pb.SamplingParams:
        """The inference request's sampling parameters from these fields; unset ones stay unset, so the
        engine's defaults apply."""
        params = pb.SamplingParams(stop=self.stop or (), ignore_eos=self.ignore_eos, n=self.n)
        for name in ("temperature", "top_p", "seed", "presence_penalty", "frequency_penalty"):
            value = getattr(self, name)
            if value is not None:
                setattr(params, name, value)
        if max_tokens is not None:
            params.max_tokens = max_tokens
        params.logit_bias.update(logit_bias_map(self.logit_bias))
        return params
