"""Chat's n, logprobs, top_logprobs and logit_bias: OpenAI's limits as 400s naming the field, what the
inference request carries, and the choices and log probabilities in the reply and the stream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from tuneway.api.inference.v1 import inference_pb2 as pb
from tuneway.gateway.chat.generation import fixed_answer, generate_request
from tuneway.gateway.chat.responses import ChunkWriter, collect_completion, stream_completion
from tuneway.gateway.chat.schemas import ChatCompletionRequest

Gateway = Any  # the gateway fixture's value (services/gateway/tests/conftest.py)
MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"n": 0}, "n"),
        ({"n": 129}, "n"),
        ({"top_logprobs": 2}, "top_logprobs"),  # without logprobs, as OpenAI refuses it
        ({"logprobs": False, "top_logprobs": 2}, "top_logprobs"),
        ({"logprobs": True, "top_logprobs": 21}, "top_logprobs"),
        ({"logprobs": True, "top_logprobs": -1}, "top_logprobs"),
        ({"logprobs": "maybe"}, "logprobs"),
        ({"logit_bias": {"the": 1}}, "logit_bias"),
        ({"logit_bias": {"-5": 1}}, "logit_bias"),
        ({"logit_bias": {"2147483648": 1}}, "logit_bias"),
        ({"logit_bias": {"5": 101}}, "logit_bias"),
        ({"logit_bias": {"5": "high"}}, "logit_bias"),
        ({"logit_bias": {"5": True}}, "logit_bias"),
        ({"logit_bias": {str(i): 1 for i in range(301)}}, "logit_bias"),
        ({"logit_bias": [5]}, "logit_bias"),
    ],
)
async def test_out_of_bounds_is_a_400_naming_the_field(
    gateway: Gateway, fields: dict[str, object], param: str
) -> None:
    response = await gateway.app_client.post(
        "/v1/chat/completions",
        headers=gateway.auth(gateway.acme_key),
        json={"model": "tuneway-tiny", "messages": MESSAGES, **fields},
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["type"], error["param"]) == ("invalid_request_error", param)


def _body(**fields: object) -> ChatCompletionRequest:
    return ChatCompletionRequest.model_validate({"model": "m", "messages": MESSAGES, **fields})


def test_the_inference_request_carries_n_logprobs_and_biases() -> None:
    params = generate_request(
        _body(n=3, logprobs=True, top_logprobs=4, logit_bias={"7": -100, "12": 2.5}), "acme", "id"
    ).params
    assert (params.n, params.logprobs, dict(params.logit_bias)) == (3, 4, {7: -100.0, 12: 2.5})
    # logprobs without top_logprobs: each token's own log probability, no alternatives.
    assert generate_request(_body(logprobs=True), "acme", "id").params.logprobs == 0
    plain = generate_request(_body(logprobs=False, logit_bias={}), "acme", "id").params
    assert (plain.n, plain.HasField("logprobs"), dict(plain.logit_bias)) == (1, False, {})


def _token(text: str, logprob: float, *top: tuple[str, float]) -> pb.TokenLogprob:
    return pb.TokenLogprob(
        token=text, logprob=logprob, top=[pb.TopLogprob(token=t, logprob=lp) for t, lp in top]
    )


async def _rest(*items: pb.GenerateResponse) -> AsyncIterator[pb.GenerateResponse]:
    for item in items:
        yield item


# Two choices interleaved as the engine sends them; the last response carries the usage of both.
FIRST = pb.GenerateResponse(
    text_delta="Hé", index=0, logprobs=[_token("Hé", -0.5, ("Hé", -0.5), ("Ho", -1.5))]
)
REST = (
    pb.GenerateResponse(text_delta="Yo", index=1, logprobs=[_token("Yo", -0.25, ("Yo", -0.25), ("Hé", -2))]),
    pb.GenerateResponse(
        text_delta="!", index=0, finish_reason="stop", logprobs=[_token("!", -1, ("!", -1), (".", -2))]
    ),
    pb.GenerateResponse(
        index=1, finish_reason="length", usage=pb.Usage(prompt_tokens=5, completion_tokens=3)
    ),
)


async def test_a_reply_has_each_choice_with_its_logprobs_and_the_usage_of_all() -> None:
    body = orjson.loads(await collect_completion(FIRST, _rest(*REST), "c1", "m", logprobs=True))
    assert [(c["index"], c["message"]["content"], c["finish_reason"]) for c in body["choices"]] == [
        (0, "Hé!", "stop"),
        (1, "Yo", "length"),
    ]
    first = body["choices"][0]["logprobs"]
    assert first["refusal"] is None
    assert first["content"][0] == {
        "token": "Hé",
        "logprob": -0.5,
        "bytes": [72, 195, 169],
        "top_logprobs": [
            {"token": "Hé", "logprob": -0.5, "bytes": [72, 195, 169]},
            {"token": "Ho", "logprob": -1.5, "bytes": [72, 111]},
        ],
    }
    assert [t["token"] for t in first["content"]] == ["Hé", "!"]
    assert body["usage"] == {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
    without = orjson.loads(await collect_completion(FIRST, _rest(*REST), "c1", "m"))
    assert [c["logprobs"] for c in without["choices"]] == [None, None]


async def test_a_stream_tags_each_choices_chunks_with_its_index() -> None:
    writer = ChunkWriter("c1", "m", True, n=2, logprobs=True)
    events = [e async for e in stream_completion(FIRST, _rest(*REST), writer, True)]
    assert events[-1] == b"data: [DONE]\n\n"
    chunks = [orjson.loads(e.removeprefix(b"data: ")) for e in events[:-1]]
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 3
    content: dict[int, str] = {}
    tokens: dict[int, list[str]] = {}
    finished: dict[int, str] = {}
    for chunk in chunks[:-1]:
        [choice] = chunk["choices"]
        index = choice["index"]
        content[index] = content.get(index, "") + (choice["delta"].get("content") or "")
        if choice["logprobs"]:
            tokens.setdefault(index, []).extend(t["token"] for t in choice["logprobs"]["content"])
        if choice["finish_reason"]:
            finished[index] = choice["finish_reason"]
    # Each choice's first chunk is its role.
    assert [c["choices"][0]["delta"].get("role") for c in chunks[:2]] == ["assistant", "assistant"]
    assert [c["choices"][0]["index"] for c in chunks[:2]] == [0, 1]
    assert content == {0: "Hé!", 1: "Yo"} and finished == {0: "stop", 1: "length"}
    assert tokens == {0: ["Hé", "!"], 1: ["Yo"]}


async def test_a_fixed_answer_is_every_choices_answer() -> None:
    answers = fixed_answer("I don't know.", 3)
    first = await anext(answers)
    body = orjson.loads(await collect_completion(first, answers, "c1", "m", logprobs=True))
    assert [c["message"]["content"] for c in body["choices"]] == ["I don't know."] * 3
    assert [c["logprobs"] for c in body["choices"]] == [{"content": [], "refusal": None}] * 3
    assert body["usage"]["completion_tokens"] == 0
