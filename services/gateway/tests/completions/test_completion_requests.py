"""The legacy completions API without a network: OpenAI's limits as 400s naming the field, the inference
requests of the prompts, and the text_completion object and chunks with their logprobs."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import orjson
import pytest

from tuneway.api.inference.v1 import inference_pb2 as pb
from tuneway.core.errors import UnavailableError
from tuneway.gateway.completions.generation import generate_requests, merged
from tuneway.gateway.completions.responses import ChunkWriter, collect_completion, stream_completion
from tuneway.gateway.completions.schemas import CompletionRequest

Gateway = Any  # the gateway fixture's value (services/gateway/tests/conftest.py)


@pytest.mark.parametrize(
    ("fields", "param", "code"),
    [
        ({"prompt": []}, "prompt", "invalid_value"),
        ({"prompt": [[]]}, "prompt", "invalid_value"),
        ({"prompt": [1, "a"]}, "prompt", "invalid_value"),
        ({"prompt": [-1]}, "prompt", "invalid_value"),
        ({"prompt": [True]}, "prompt", "invalid_value"),
        ({"prompt": {"text": "hi"}}, "prompt", "invalid_value"),
        ({"prompt": ["a"] * 65}, "prompt", "invalid_value"),
        ({"suffix": "and then"}, "suffix", "unsupported_parameter"),
        ({"best_of": 2}, "best_of", "unsupported_parameter"),
        ({"logprobs": 6}, "logprobs", "invalid_value"),
        ({"n": 0}, "n", "invalid_value"),
        ({"max_tokens": 0}, "max_tokens", "invalid_value"),
        ({"stop": [""]}, "stop", "invalid_value"),
        ({"logit_bias": {"x": 1}}, "logit_bias", "invalid_value"),
        ({"model": "assistant:support"}, "model", None),
    ],
)
async def test_bad_fields_are_400s_naming_them(
    gateway: Gateway, fields: dict[str, object], param: str, code: str | None
) -> None:
    response = await gateway.app_client.post(
        "/v1/completions",
        headers=gateway.auth(gateway.acme_key),
        json={"model": "tuneway-tiny", "prompt": "Once upon a time", **fields},
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", param, code)


@pytest.mark.parametrize("fields", [{"suffix": ""}, {"suffix": None}, {"best_of": 1}, {"best_of": None}])
def test_the_values_that_ask_for_nothing_stay_accepted(fields: dict[str, object]) -> None:
    CompletionRequest.model_validate({"model": "m", "prompt": "hi", **fields})


def test_each_prompt_is_an_inference_request_without_a_template() -> None:
    body = CompletionRequest.model_validate(
        {"model": "m", "prompt": [[5, 6], [7]], "n": 2, "logprobs": 3, "echo": True, "logit_bias": {"9": 5}}
    )
    first, second = generate_requests(body, "acme", "cmpl-1")
    assert (list(first.raw_prompt.token_ids), list(second.raw_prompt.token_ids)) == ([5, 6], [7])
    assert first.request_id != second.request_id and not first.messages
    p = first.params
    assert (p.n, p.logprobs, p.prompt_logprobs, p.max_tokens, dict(p.logit_bias)) == (2, 3, 3, 16, {9: 5.0})
    assert first.raw_prompt.echo
    [text] = generate_requests(CompletionRequest.model_validate({"model": "m", "prompt": "hi"}), "a", "c")
    assert (text.raw_prompt.text, text.request_id, text.params.HasField("logprobs")) == ("hi", "c", False)
    # Logprobs without echo: the completion's tokens only.
    body = CompletionRequest.model_validate({"model": "m", "prompt": "hi", "logprobs": 0})
    assert not generate_requests(body, "a", "c")[0].params.HasField("prompt_logprobs")


def _token(text: str, logprob: float | None, *top: tuple[str, float]) -> pb.TokenLogprob:
    return pb.TokenLogprob(
        token=text, logprob=logprob, top=[pb.TopLogprob(token=t, logprob=lp) for t, lp in top]
    )


async def _generation(
    *responses: pb.GenerateResponse, fail: bool = False
) -> AsyncGenerator[pb.GenerateResponse, None]:
    for response in responses:
        yield response
    if fail:
        raise UnavailableError("engine went away", code="service_unavailable")


def _prompt_generation(
    prompt: str, completion: str, tokens: int
) -> AsyncGenerator[pb.GenerateResponse, None]:
    """One prompt's generation with two choices, echo and logprobs, as the inference service sends it."""
    echo = pb.PromptEcho(
        text=prompt, tokens=[_token(prompt[:2], None), _token(prompt[2:], -1.0, ("x", -0.5))]
    )
    return _generation(
        pb.GenerateResponse(
            index=0, prompt=echo, text_delta=completion, logprobs=[_token(completion, -0.5, ("y", -0.25))]
        ),
        pb.GenerateResponse(
            index=1, text_delta=completion.upper(), logprobs=[_token(completion.upper(), -2.0)]
        ),
        pb.GenerateResponse(index=0, finish_reason="length"),
        pb.GenerateResponse(
            index=1, finish_reason="stop", usage=pb.Usage(prompt_tokens=2, completion_tokens=tokens)
        ),
    )


async def test_prompts_choices_are_numbered_prompt_major_with_echo_logprobs_and_all_usage() -> None:
    responses = merged([_prompt_generation("Hi!", "yo", 3), _prompt_generation("Bye", "ok", 4)], 2)
    first = await anext(responses)
    body = orjson.loads(await collect_completion(first, responses, "cmpl-1", "m", n=2, logprobs=True))
    assert body["object"] == "text_completion"
    assert [(c["index"], c["text"], c["finish_reason"]) for c in body["choices"]] == [
        (0, "Hi!yo", "length"),
        (1, "Hi!YO", "stop"),
        (2, "Byeok", "length"),
        (3, "ByeOK", "stop"),
    ]
    assert body["choices"][0]["logprobs"] == {
        "tokens": ["Hi", "!", "yo"],
        "token_logprobs": [None, -1.0, -0.5],
        "top_logprobs": [None, {"x": -0.5, "!": -1.0}, {"y": -0.25, "yo": -0.5}],
        "text_offset": [0, 2, 3],
    }
    assert body["usage"] == {"prompt_tokens": 4, "completion_tokens": 7, "total_tokens": 11}


async def test_a_prompt_that_fails_first_fails_the_request_and_closes_the_others() -> None:
    closed = []

    async def healthy() -> AsyncGenerator[pb.GenerateResponse, None]:
        try:
            yield pb.GenerateResponse(text_delta="a")
            yield pb.GenerateResponse(finish_reason="stop", usage=pb.Usage())
        finally:
            closed.append(True)

    with pytest.raises(UnavailableError):
        await anext(merged([healthy(), _generation(fail=True)], 1))
    assert closed == [True]


async def test_the_stream_echoes_each_choice_then_its_deltas_and_ends_with_usage() -> None:
    writer = ChunkWriter("cmpl-1", "m", n=2, logprobs=True, include_usage=True)
    responses = _prompt_generation("Hi!", "yo", 3)
    first = await anext(responses)
    events = [e async for e in stream_completion(first, responses, writer, True)]
    assert events[-1] == b"data: [DONE]\n\n"
    chunks = [orjson.loads(e.removeprefix(b"data: ")) for e in events[:-1]]
    assert {c["object"] for c in chunks} == {"text_completion"}
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] == 5
    texts: dict[int, str] = {}
    offsets: dict[int, list[int]] = {}
    for chunk in chunks[:-1]:
        [choice] = chunk["choices"]
        texts[choice["index"]] = texts.get(choice["index"], "") + choice["text"]
        offsets.setdefault(choice["index"], []).extend(choice["logprobs"]["text_offset"])
    assert texts == {0: "Hi!yo", 1: "Hi!YO"}
    assert offsets == {0: [0, 2, 3], 1: [0, 2, 3]}


async def test_a_stream_that_fails_midway_ends_with_an_error_event() -> None:
    writer = ChunkWriter("cmpl-1", "m", n=1, logprobs=False, include_usage=False)
    responses = _generation(pb.GenerateResponse(text_delta="b"), fail=True)
    events = [
        e async for e in stream_completion(pb.GenerateResponse(text_delta="a"), responses, writer, False)
    ]
    assert orjson.loads(events[-1].removeprefix(b"data: "))["error"]["code"] == "service_unavailable"
