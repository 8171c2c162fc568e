"""Chat's logprobs, top_logprobs, logit_bias and n through the stack with the OpenAI SDK (issue 12 §2):
the log probabilities are the engine's, a bias of +100 forces a token and -100 forbids it, and n choices
come from one request with the usage of all of them, streamed or not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunningStack, Tenant

pytestmark = pytest.mark.e2e
BASE = "tuneway-tiny"
ASK = [{"role": "user", "content": "Can I change my delivery address?"}]
SPECIALS = {"<|pad|>", "<|end|>", "<|system|>", "<|user|>", "<|assistant|>"}


@pytest.fixture(scope="module")
def token_ids(demo_model: Path) -> dict[str, int]:
    """Each token's text (decoded alone) -> its id, from the demo model's own tokenizer."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(demo_model)
    return {tokenizer.decode([i]): i for i in range(len(tokenizer))}


def test_logprobs_are_the_engines_and_spell_the_content(stack: RunningStack, acme: Tenant) -> None:
    completion = stack.client(acme.key).chat.completions.create(
        model=BASE,
        messages=ASK,
        temperature=0,
        max_tokens=8,
        logprobs=True,
        top_logprobs=3,
    )
    [choice] = completion.choices
    assert choice.logprobs is not None and choice.logprobs.content
    tokens = choice.logprobs.content
    assert "".join(t.token for t in tokens) == choice.message.content
    for token in tokens:
        assert token.logprob <= 0 and token.bytes == list(token.token.encode())
        assert len(token.top_logprobs) == 3
        assert [a.logprob for a in token.top_logprobs] == sorted(
            (a.logprob for a in token.top_logprobs), reverse=True
        )
        # Greedy decoding takes the most likely token.
        assert (token.token, token.logprob) == (token.top_logprobs[0].token, token.top_logprobs[0].logprob)
    # Without logprobs the choice has none, and the same greedy content.
    plain = stack.client(acme.key).chat.completions.create(
        model=BASE, messages=ASK, temperature=0, max_tokens=8
    )
    assert plain.choices[0].logprobs is None and plain.choices[0].message.content == choice.message.content


def test_logit_bias_forces_and_forbids_tokens(
    stack: RunningStack, acme: Tenant, token_ids: dict[str, int]
) -> None:
    client = stack.client(acme.key)
    forced_text = next(text for text, i in token_ids.items() if i == 300)
    forced = client.chat.completions.create(
        model=BASE,
        messages=ASK,
        max_tokens=4,
        logprobs=True,
        logit_bias={"300": 100},
        seed=1,
        extra_body={"ignore_eos": True},
    )
    content = forced.choices[0].logprobs.content
    assert [t.token for t in content] == [forced_text] * 4
    greedy = client.chat.completions.create(
        model=BASE, messages=ASK, temperature=0, max_tokens=1, logprobs=True
    )
    [first] = greedy.choices[0].logprobs.content
    assert first.token not in SPECIALS
    banned = client.chat.completions.create(
        model=BASE,
        messages=ASK,
        temperature=0,
        max_tokens=1,
        logprobs=True,
        logit_bias={str(token_ids[first.token]): -100},
    )
    [other] = banned.choices[0].logprobs.content
    assert other.token != first.token
    # The banned token is still the model's favourite: the log probabilities are the model's own.
    assert other.top_logprobs == [] and other.logprob < first.logprob


def _streamed(stack: RunningStack, acme: Tenant, **body: Any) -> tuple[dict[int, str], dict[int, str], Any]:
    texts: dict[int, str] = {}
    finished: dict[int, str] = {}
    usage = None
    for chunk in stack.client(acme.key).chat.completions.create(
        model=BASE, messages=ASK, stream=True, **body
    ):
        usage = chunk.usage or usage
        for choice in chunk.choices:
            texts[choice.index] = texts.get(choice.index, "") + (choice.delta.content or "")
            if choice.finish_reason:
                finished[choice.index] = choice.finish_reason
    return texts, finished, usage


def test_n_choices_count_every_token_streamed_or_not(stack: RunningStack, acme: Tenant) -> None:
    sampling = {"max_tokens": 4, "temperature": 1.0, "seed": 7, "extra_body": {"ignore_eos": True}}
    completion = stack.client(acme.key).chat.completions.create(model=BASE, messages=ASK, n=3, **sampling)
    assert [c.index for c in completion.choices] == [0, 1, 2]
    assert {c.finish_reason for c in completion.choices} == {"length"}
    assert completion.usage.completion_tokens == 3 * 4
    assert len({c.message.content for c in completion.choices}) > 1, "the choices were sampled alike"
    # The same seed streamed: each choice reassembles from the chunks with its index.
    texts, finished, usage = _streamed(stack, acme, n=3, stream_options={"include_usage": True}, **sampling)
    assert texts == {c.index: c.message.content for c in completion.choices}
    assert finished == {0: "length", 1: "length", 2: "length"}
    assert (usage.prompt_tokens, usage.completion_tokens) == (completion.usage.prompt_tokens, 12)


def test_streamed_logprobs_spell_each_choice(stack: RunningStack, acme: Tenant) -> None:
    tokens: dict[int, str] = {}
    texts: dict[int, str] = {}
    stream = stack.client(acme.key).chat.completions.create(
        model=BASE,
        messages=ASK,
        n=2,
        max_tokens=5,
        seed=3,
        logprobs=True,
        top_logprobs=1,
        stream=True,
    )
    for chunk in stream:
        for choice in chunk.choices:
            texts[choice.index] = texts.get(choice.index, "") + (choice.delta.content or "")
            for token in (choice.logprobs.content or []) if choice.logprobs else []:
                assert token.logprob <= 0 and len(token.top_logprobs) == 1
                tokens[choice.index] = tokens.get(choice.index, "") + token.token
    assert sorted(texts) == [0, 1] and tokens == texts
