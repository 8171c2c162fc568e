"""The inference service as a process: gRPC generation on the real engine, adapters from the KV bucket."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import grpc
import httpx
import psutil
import pytest

from tuneway.api.events.v1.events_pb2 import AdapterRegistration
from tuneway.api.inference.v1 import inference_pb2 as pb
from tuneway.api.inference.v1 import inference_pb2_grpc
from tuneway.core import nats as tnats
from tuneway.core.artifacts import directory_sha256
from tuneway.core.errors import InvalidArgumentError, NotFoundError, from_rpc_error
from tuneway.core.grpc_client import create_channel
from tuneway.core.testing.lora import write_random_lora
from tuneway.core.testing.probes import grpc_serving
from tuneway.core.testing.processes import free_port, start_nats_server, stop_process

pytestmark = pytest.mark.integration
BASE = "tuneway-tiny"
PRE_KEY = "inference-test-preregistered"
PRE_MODEL = f"ft:{BASE}:tenant-a:pre:001"


async def _put(nats_url: str, key: str, value: bytes) -> None:
    nc = await tnats.connect(nats_url, "inference-test")
    kv = await tnats.ensure_kv(nc.jetstream(), tnats.ADAPTERS_BUCKET)
    await kv.put(key, value)
    await nc.close()


class RunningInference(NamedTuple):
    target: str
    metrics_url: str
    pid: int


@pytest.fixture(scope="module")
def inference(demo_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningInference]:
    """`python -m tuneway.inference`, started before its NATS exists (it must wait, not die), with one
    adapter registered as soon as NATS is up."""
    root = tmp_path_factory.mktemp("inference")
    adapter = write_random_lora(demo_model, root / "adapter", seed=7)
    registration = AdapterRegistration(
        model=PRE_MODEL,
        tenant_id="tenant-a",
        base_model=BASE,
        artifact_uri=f"file://{adapter}",
        sha256=directory_sha256(adapter),
        created_at=1,
    )
    port, metrics_port, nats_port = free_port(), free_port(), free_port()
    nats_url = f"nats://127.0.0.1:{nats_port}"
    env = {
        **os.environ,
        "TUNEWAY_NATS_URL": nats_url,
        "TUNEWAY_DATA_DIR": str(root),
        "INFERENCE_MODEL": str(demo_model),
        "INFERENCE_GRPC_PORT": str(port),
        "INFERENCE_METRICS_PORT": str(metrics_port),
    }
    log = (root / "inference.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "tuneway.inference"], env=env, stdout=log, stderr=log, start_new_session=True
    )
    nats: subprocess.Popen[bytes] | None = None
    try:
        deadline = time.monotonic() + 180
        while b"waiting for NATS" not in (root / "inference.log").read_bytes():
            assert process.poll() is None, "inference died instead of waiting for NATS"
            assert time.monotonic() < deadline, "inference never tried to reach NATS"
            time.sleep(0.2)
        nats = start_nats_server(nats_port, root / "nats", root / "nats.log")
        asyncio.run(_put(nats_url, PRE_KEY, registration.SerializeToString()))
        target = f"127.0.0.1:{port}"
        deadline = time.monotonic() + 240
        while not asyncio.run(grpc_serving(target)):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = (root / "inference.log").read_text()[-4000:]
                pytest.fail(f"inference did not become ready:\n{tail}")
            time.sleep(0.5)
    except BaseException:
        # Its whole session: vLLM's engine core would outlive a service killed alone.
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        if nats is not None:
            stop_process(nats)
        raise
    yield RunningInference(target, f"http://127.0.0.1:{metrics_port}/metrics", process.pid)
    process.terminate()
    code = process.wait(60)
    stop_process(nats)
    assert code == 0, "inference did not drain and exit cleanly on SIGTERM"


@pytest.fixture
async def stub(inference: RunningInference) -> AsyncIterator[inference_pb2_grpc.InferenceServiceStub]:
    async with create_channel(inference.target) as channel:
        yield inference_pb2_grpc.InferenceServiceStub(channel)


def _request(model: str = BASE, tenant: str = "tenant-a", **params: object) -> pb.GenerateRequest:
    return pb.GenerateRequest(
        tenant_id=tenant,
        model=model,
        request_id=f"t-{time.monotonic_ns()}",
        messages=[pb.ChatMessage(role="user", content="Can I change my delivery address?")],
        params=pb.SamplingParams(**params),  # type: ignore[arg-type]
    )


async def _text(
    stub: inference_pb2_grpc.InferenceServiceStub, request: pb.GenerateRequest
) -> tuple[str, pb.GenerateResponse]:
    parts, last = [], pb.GenerateResponse()
    async for response in stub.Generate(request):
        parts.append(response.text_delta)
        last = response
    return "".join(parts), last


async def test_a_first_prompt_of_few_tokens_is_served(stub: inference_pb2_grpc.InferenceServiceStub) -> None:
    # First in this module on purpose: vLLM's CPU attention died (SIGILL) when the first prompt an engine
    # ever prefilled had 4 tokens or fewer, unless the service had warmed it up (engine.warm_up).
    request = pb.GenerateRequest(
        tenant_id="tenant-a",
        model=BASE,
        raw_prompt=pb.RawPrompt(token_ids=[100, 200]),
        params=pb.SamplingParams(max_tokens=2, ignore_eos=True),
    )
    _, last = await _text(stub, request)
    assert (last.usage.prompt_tokens, last.usage.completion_tokens) == (2, 2)


async def test_generate_streams_and_ends_with_usage(stub: inference_pb2_grpc.InferenceServiceStub) -> None:
    text, last = await _text(stub, _request(temperature=0, max_tokens=6, ignore_eos=True))
    assert last.finish_reason == "length"
    assert last.usage.completion_tokens == 6 and last.usage.prompt_tokens > 5
    assert text == (await _text(stub, _request(temperature=0, max_tokens=6, ignore_eos=True)))[0]


async def test_seed_makes_sampling_repeatable(stub: inference_pb2_grpc.InferenceServiceStub) -> None:
    a = await _text(stub, _request(temperature=1.0, seed=11, max_tokens=12, ignore_eos=True))
    b = await _text(stub, _request(temperature=1.0, seed=11, max_tokens=12, ignore_eos=True))
    assert a[0] == b[0]


async def test_seeded_prompts_longer_than_a_step_together_keep_the_engine(
    stub: inference_pb2_grpc.InferenceServiceStub,
) -> None:
    # Three 1,500-token prompts exceed vLLM's 2,048-token step: with chunked prefill, a seeded one would be
    # prefilled in parts and the CPU engine died rewinding its generator (engine.engine_arguments).
    def seeded(offset: int) -> pb.GenerateRequest:
        return pb.GenerateRequest(
            tenant_id="tenant-a",
            model=BASE,
            raw_prompt=pb.RawPrompt(token_ids=[100 + (offset + i) % 1900 for i in range(1500)]),
            params=pb.SamplingParams(temperature=1.0, seed=offset, max_tokens=4, ignore_eos=True),
        )

    results = await asyncio.gather(*(_text(stub, seeded(n)) for n in range(3)))
    assert [last.usage.completion_tokens for _, last in results] == [4, 4, 4]
    assert (await _text(stub, seeded(0)))[0] == results[0][0]  # the engine lives on, and the seed holds


async def test_adapter_registered_before_start_is_served(
    stub: inference_pb2_grpc.InferenceServiceStub,
) -> None:
    adapters = (await stub.ListAdapters(pb.ListAdaptersRequest())).adapters
    assert PRE_MODEL in [a.model for a in adapters]
    models = (await stub.ListModels(pb.ListModelsRequest(tenant_id="tenant-a"))).models
    assert [m.id for m in models][:1] == [BASE] and PRE_MODEL in [m.id for m in models]
    base, _ = await _text(stub, _request(temperature=0, max_tokens=16, ignore_eos=True))
    adapted, _ = await _text(stub, _request(model=PRE_MODEL, temperature=0, max_tokens=16, ignore_eos=True))
    assert adapted != base


async def test_other_tenants_adapter_is_not_found(stub: inference_pb2_grpc.InferenceServiceStub) -> None:
    models = (await stub.ListModels(pb.ListModelsRequest(tenant_id="tenant-b"))).models
    assert PRE_MODEL not in [m.id for m in models]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _text(stub, _request(model=PRE_MODEL, tenant="tenant-b"))
    error = from_rpc_error(caught.value)
    assert isinstance(error, NotFoundError) and error.code == "model_not_found"


@pytest.mark.parametrize(
    ("params", "param"),
    [
        # The gateway refuses these first (issue 12); other callers of the service reached vLLM's own
        # checks, whose ValueError was an internal error (a 500).
        ({"top_p": 1e-46}, "top_p"),  # a float32 rounds it to 0.0
        ({"stop": [""]}, None),
        ({"max_tokens": 2**31 - 1}, "max_tokens"),  # more than the whole context: OpenAI's param
    ],
)
async def test_values_vllm_refuses_are_invalid_argument(
    stub: inference_pb2_grpc.InferenceServiceStub, params: dict[str, object], param: str | None
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _text(stub, _request(**params))
    error = from_rpc_error(caught.value)
    assert isinstance(error, InvalidArgumentError), caught.value
    assert error.param == param


def _outcomes(inference: RunningInference) -> dict[str, float]:
    text = httpx.get(inference.metrics_url).text
    counts = {"cancelled": 0.0, "finished": 0.0}
    for outcome, value in re.findall(
        r'tuneway_inference_requests_total\{[^}]*outcome="(\w+)"[^}]*\} (\S+)', text
    ):
        counts[outcome] = counts.get(outcome, 0.0) + float(value)
    return counts


async def _assert_aborts(
    inference: RunningInference, start_and_cancel: Callable[[], Awaitable[None]]
) -> None:
    """`start_and_cancel` starts a long generation, waits for its first tokens and cancels it: the engine
    request must end as cancelled (other requests it runs may finish)."""
    # The longest generation the model allows lasts only seconds; on a loaded machine the first chunk
    # can reach us after the engine is already done, and then there is nothing left to abort. Such a
    # try proves nothing either way, so try again: only an aborted request ends as "cancelled".
    for _ in range(5):
        before = _outcomes(inference)
        await start_and_cancel()
        deadline = time.monotonic() + 30
        while (now := _outcomes(inference))["cancelled"] + now["finished"] == before["cancelled"] + before[
            "finished"
        ]:
            assert time.monotonic() < deadline, "the generation neither finished nor was aborted"
            await asyncio.sleep(0.05)
        if now["cancelled"] > before["cancelled"]:
            return
    pytest.fail("cancelled calls ran to the end: the engine request was not aborted")


LONG = {"max_tokens": 1900, "ignore_eos": True}


async def test_cancelling_the_call_aborts_the_engine_request(
    stub: inference_pb2_grpc.InferenceServiceStub, inference: RunningInference
) -> None:
    async def start_and_cancel() -> None:
        call = stub.Generate(_request(**LONG))
        await call.read()
        call.cancel()

    await _assert_aborts(inference, start_and_cancel)


def _starts(*requests: tuple[int, pb.GenerateRequest]) -> pb.StreamGenerationsRequest:
    return pb.StreamGenerationsRequest(starts=[pb.GenerationStart(call_id=i, request=r) for i, r in requests])


async def test_many_generations_share_one_stream(stub: inference_pb2_grpc.InferenceServiceStub) -> None:
    requests = {i: _request(temperature=0, max_tokens=3 + i, ignore_eos=True) for i in range(1, 7)}
    requests[7] = _request(temperature=1.0, seed=5, max_tokens=10, ignore_eos=True)
    call = stub.StreamGenerations()
    await call.write(_starts(*list(requests.items())[:4]))
    # One unknown model among them, and a call id used twice in one message.
    await call.write(
        _starts(
            *list(requests.items())[4:],
            (8, _request(model="no-such-model")),
            (9, requests[1]),
            (9, requests[1]),
        )
    )
    await call.done_writing()
    messages = [message async for message in call]  # ends once every call has ended
    events: dict[int, list[pb.GenerationEvent]] = {}
    for message in messages:
        for event in message.events:
            events.setdefault(event.call_id, []).append(event)

    for i, request in requests.items():
        alone, last_alone = await _text(stub, request)
        responses = [event.response for event in events[i]]
        assert "".join(r.text_delta for r in responses) == alone, f"call {i} got another call's text"
        assert [r.finish_reason for r in responses][-1] == "length" and not any(
            r.finish_reason for r in responses[:-1]
        )
        assert responses[-1].usage == last_alone.usage
    [unknown] = events[8]
    assert unknown.error.status_code == grpc.StatusCode.NOT_FOUND.value[0]
    assert (unknown.error.code, unknown.error.param) == ("model_not_found", "model")
    duplicate = [event.error for event in events[9] if event.HasField("error")]
    assert [(e.status_code, e.param) for e in duplicate] == [
        (grpc.StatusCode.INVALID_ARGUMENT.value[0], "call_id")
    ]
    assert "".join(e.response.text_delta for e in events[9]) == "".join(
        e.response.text_delta for e in events[1]
    )
    # Events that are ready together travel together: vLLM finishes a step for the whole batch.
    assert max(len({event.call_id for event in m.events}) for m in messages) > 1


async def test_cancelling_one_call_of_a_stream_aborts_it_alone(
    stub: inference_pb2_grpc.InferenceServiceStub, inference: RunningInference
) -> None:
    async def start_and_cancel() -> None:
        call = stub.StreamGenerations()
        short = _request(temperature=0, max_tokens=40, ignore_eos=True)
        await call.write(_starts((1, _request(**LONG)), (2, short)))
        while not any(event.call_id == 1 for event in (await call.read()).events):
            pass
        await call.write(pb.StreamGenerationsRequest(cancels=[1]))
        await call.done_writing()
        rest = []
        while (message := await call.read()) is not grpc.aio.EOF:
            rest += [event for event in message.events if event.call_id == 2]
        assert rest[-1].response.finish_reason == "length", "the other call did not finish"

    await _assert_aborts(inference, start_and_cancel)


async def test_closing_the_stream_aborts_its_generations(
    stub: inference_pb2_grpc.InferenceServiceStub, inference: RunningInference
) -> None:
    async def start_and_cancel() -> None:
        call = stub.StreamGenerations()
        await call.write(_starts((1, _request(**LONG))))
        await call.read()
        call.cancel()

    await _assert_aborts(inference, start_and_cancel)


async def test_tokens_stream_as_they_are_generated(stub: inference_pb2_grpc.InferenceServiceStub) -> None:
    # A regression guard: with vLLM's busy-waiting engine core on a serving core, the gRPC threads
    # starved and whole generations arrived in one burst at the end (cpu_affinity.py). 600 tokens take
    # seconds here, far longer than the first token.
    for _ in range(3):
        started = time.monotonic()
        arrivals = [time.monotonic() async for _ in stub.Generate(_request(max_tokens=600, ignore_eos=True))]
        total = arrivals[-1] - started
        assert arrivals[0] - started < total / 4, "the first tokens came only near the end"
        assert arrivals[len(arrivals) // 2] - started < total * 3 / 4, "tokens arrived in a burst"


def test_engine_core_shares_its_workers_cores(inference: RunningInference) -> None:
    service = psutil.Process(inference.pid)
    # vLLM's engine core is the child with worker processes of its own.
    engine_cores = [child for child in service.children() if child.children()]
    assert engine_cores, "vLLM's engine core process is missing"
    for engine_core in engine_cores:
        workers = engine_core.children(recursive=True)
        worker_cores = set().union(*(w.cpu_affinity() for w in workers))
        if worker_cores == set(service.cpu_affinity()):
            pytest.skip("vLLM did not bind its workers to a subset of cores here")
        for thread in engine_core.threads():
            assert set(psutil.Process(thread.id).cpu_affinity()) == worker_cores


def _by_choice(responses: list[pb.GenerateResponse]) -> dict[int, list[pb.GenerateResponse]]:
    choices: dict[int, list[pb.GenerateResponse]] = {}
    for response in responses:
        choices.setdefault(response.index, []).append(response)
    return choices


async def test_n_choices_share_one_request_and_count_all_tokens(
    stub: inference_pb2_grpc.InferenceServiceStub,
) -> None:
    responses = [
        r async for r in stub.Generate(_request(temperature=1.0, seed=3, max_tokens=5, ignore_eos=True, n=3))
    ]
    choices = _by_choice(responses)
    assert sorted(choices) == [0, 1, 2]
    for parts in choices.values():
        assert [r.finish_reason for r in parts if r.finish_reason] == ["length"]
    # Only the generation's last message has usage: the prompt once, the completions of every choice.
    assert [r.HasField("usage") for r in responses] == [False] * (len(responses) - 1) + [True]
    _, last_single = await _text(stub, _request(temperature=1.0, seed=3, max_tokens=5, ignore_eos=True))
    assert responses[-1].usage.completion_tokens == 15
    assert responses[-1].usage.prompt_tokens == last_single.usage.prompt_tokens
    texts = {"".join(r.text_delta for r in parts) for parts in choices.values()}
    assert len(texts) > 1, "the choices were sampled alike"


async def test_greedy_choices_are_alike_and_each_counted(
    stub: inference_pb2_grpc.InferenceServiceStub,
) -> None:
    # vLLM refuses n > 1 with greedy sampling; OpenAI answers it with n identical choices.
    request = _request(temperature=0, max_tokens=4, ignore_eos=True, n=2)
    choices = _by_choice([r async for r in stub.Generate(request)])
    alone, last_alone = await _text(stub, _request(temperature=0, max_tokens=4, ignore_eos=True))
    assert {i: "".join(r.text_delta for r in parts) for i, parts in choices.items()} == {0: alone, 1: alone}
    assert choices[1][-1].usage.completion_tokens == 2 * last_alone.usage.completion_tokens == 8


# The demo model's special tokens (<|pad|>, <|end|>, <|system|>, <|user|>, <|assistant|>): banned where a
# test compares the tokens' texts with the content, which never shows them.
NO_SPECIALS = {token: -100.0 for token in range(5)}


async def test_logprobs_are_those_of_the_generated_tokens(
    stub: inference_pb2_grpc.InferenceServiceStub,
) -> None:
    request = _request(temperature=0, max_tokens=8, ignore_eos=True, logprobs=3, logit_bias=NO_SPECIALS)
    responses = [r async for r in stub.Generate(request)]
    tokens = [t for r in responses for t in r.logprobs]
    assert len(tokens) == 8 == responses[-1].usage.completion_tokens
    assert "".join(t.token for t in tokens) == "".join(r.text_delta for r in responses)
    for token in tokens:
        assert token.HasField("logprob") and token.logprob <= 0
        assert len(token.top) == 3
        assert [t.logprob for t in token.top] == sorted((t.logprob for t in token.top), reverse=True)
    # Greedy decoding picks the most likely token, unless the bias banned it (the log probabilities are
    # the model's own, before the bias).
    greedy = [
        t
        for t in tokens
        if t.top[0].token not in ("<|pad|>", "<|end|>", "<|system|>", "<|user|>", "<|assistant|>")
    ]
    assert greedy and all(t.token == t.top[0].token and t.logprob == t.top[0].logprob for t in greedy)


@pytest.fixture(scope="module")
def token_ids(demo_model: Path) -> dict[str, int]:
    """Each token's text (decoded alone) -> its id, from the model's own tokenizer."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(demo_model)
    return {tokenizer.decode([i]): i for i in range(len(tokenizer))}


async def _tokens(
    stub: inference_pb2_grpc.InferenceServiceStub, request: pb.GenerateRequest
) -> list[pb.TokenLogprob]:
    return [t async for r in stub.Generate(request) for t in r.logprobs]


async def test_logit_bias_forces_and_forbids_tokens(
    stub: inference_pb2_grpc.InferenceServiceStub, token_ids: dict[str, int]
) -> None:
    forced = _request(
        temperature=1.0, seed=1, max_tokens=6, ignore_eos=True, logprobs=0, logit_bias={42: 100}
    )
    tokens = await _tokens(stub, forced)
    assert [t.token for t in tokens] == [next(text for text, i in token_ids.items() if i == 42)] * 6
    greedy = _request(temperature=0, max_tokens=1, ignore_eos=True, logprobs=0, logit_bias=NO_SPECIALS)
    [first] = await _tokens(stub, greedy)
    banned = {**NO_SPECIALS, token_ids[first.token]: -100.0}
    [other] = await _tokens(
        stub, _request(temperature=0, max_tokens=1, ignore_eos=True, logprobs=0, logit_bias=banned)
    )
    assert other.token != first.token


@pytest.mark.parametrize(
    ("params", "param"),
    [({"logit_bias": {5000: 1.0}}, "logit_bias"), ({"logit_bias": {-1: 1.0}}, "logit_bias"), ({"n": 9}, "n")],
)
async def test_choices_and_biases_beyond_the_server_are_invalid_argument(
    stub: inference_pb2_grpc.InferenceServiceStub, params: dict[str, object], param: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _text(stub, _request(**params))
    error = from_rpc_error(caught.value)
    assert isinstance(error, InvalidArgumentError) and error.param == param, caught.value


def _raw(prompt: pb.RawPrompt, **params: object) -> pb.GenerateRequest:
    return pb.GenerateRequest(
        tenant_id="tenant-a",
        model=BASE,
        request_id=f"t-{time.monotonic_ns()}",
        raw_prompt=prompt,
        params=pb.SamplingParams(**params),  # type: ignore[arg-type]
    )


async def test_a_raw_prompt_skips_the_chat_template_and_echoes(
    stub: inference_pb2_grpc.InferenceServiceStub, token_ids: dict[str, int]
) -> None:
    text = "Where is my order"
    responses = [
        r
        async for r in stub.Generate(
            _raw(pb.RawPrompt(text=text, echo=True), max_tokens=4, prompt_logprobs=2)
        )
    ]
    echo = responses[0].prompt
    assert echo.text == text
    assert "".join(t.token for t in echo.tokens) == text
    assert responses[-1].usage.prompt_tokens == len(echo.tokens)  # no template around it
    assert not echo.tokens[0].HasField("logprob") and all(t.logprob <= 0 for t in echo.tokens[1:])
    assert all(len(t.top) == 2 for t in echo.tokens[1:])
    assert not any(r.HasField("prompt") for r in responses[1:])
    # The same prompt as token ids generates the same (greedy) text, and echoes its decoded text.
    ids = [token_ids[t.token] for t in echo.tokens]
    greedy = {"temperature": 0, "max_tokens": 5, "ignore_eos": True}
    by_text = [r async for r in stub.Generate(_raw(pb.RawPrompt(text=text), **greedy))]
    by_ids = [r async for r in stub.Generate(_raw(pb.RawPrompt(token_ids=ids, echo=True), **greedy))]
    assert by_ids[0].prompt.text == text and not by_text[0].HasField("prompt")
    assert "".join(r.text_delta for r in by_ids) == "".join(r.text_delta for r in by_text)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _text(stub, _raw(pb.RawPrompt(token_ids=[1, 99999])))
    assert from_rpc_error(caught.value).param == "prompt"
