"""POST /v1/completions through the stack with the OpenAI SDK (issue 12 §3): a raw prompt without the
chat template, echo with the prompt's log probabilities, lists of prompts (choice prompt_i * n + j),
token-id prompts, streaming, an adapter, and the 400s."""

from __future__ import annotations

import asyncio
from pathlib import Path

import openai
import pytest

from tests.conftest import RunningStack, Tenant
from tests.test_adapters_e2e import _put, _registration, _wait_listed
from tuneway.core.testing.lora import write_random_lora

pytestmark = pytest.mark.e2e
BASE = "tuneway-tiny"
PROMPT = "Where is my parcel"
GREEDY = {"temperature": 0, "max_tokens": 5, "extra_body": {"ignore_eos": True}}


def test_echo_with_logprobs_covers_prompt_and_completion(stack: RunningStack, acme: Tenant) -> None:
    client = stack.client(acme.key)
    completion = client.completions.create(model=BASE, prompt=PROMPT, echo=True, logprobs=2, **GREEDY)
    assert completion.object == "text_completion" and completion.id.startswith("cmpl-")
    [choice] = completion.choices
    plain = client.completions.create(model=BASE, prompt=PROMPT, **GREEDY)
    assert choice.text == PROMPT + plain.choices[0].text and choice.finish_reason == "length"
    logprobs = choice.logprobs
    assert logprobs is not None and logprobs.tokens and logprobs.token_logprobs and logprobs.top_logprobs
    # The prompt's tokens, then the completion's five; the raw prompt has no template around it.
    prompt_tokens = len(logprobs.tokens) - 5
    assert completion.usage is not None and completion.usage.prompt_tokens == prompt_tokens
    # A token holding only part of a character's UTF-8 bytes has no text of its own; the decoded text
    # shows the broken character as U+FFFD.
    assert "".join(logprobs.tokens).replace("\ufffd", "") == choice.text.replace("\ufffd", "")
    assert logprobs.token_logprobs[0] is None and logprobs.top_logprobs[0] is None
    assert all(lp is not None and lp <= 0 for lp in logprobs.token_logprobs[1:])
    offsets = logprobs.text_offset or []
    assert offsets == [sum(len(t) for t in logprobs.tokens[:i]) for i in range(len(logprobs.tokens))]
    for token, top in zip(
        logprobs.tokens[prompt_tokens:], logprobs.top_logprobs[prompt_tokens:], strict=True
    ):
        # The two most likely tokens, the chosen one among them: greedy took the most likely.
        assert top is not None and token in top and len(top) == 2 and top[token] == max(top.values())


def test_a_list_of_prompts_gives_n_choices_each_in_openais_order(
    stack: RunningStack, acme: Tenant, demo_model: Path
) -> None:
    client = stack.client(acme.key)
    prompts = [PROMPT, "Can I return a gift"]
    completion = client.completions.create(model=BASE, prompt=prompts, n=2, **GREEDY)
    assert [c.index for c in completion.choices] == [0, 1, 2, 3]
    alone = [client.completions.create(model=BASE, prompt=p, **GREEDY) for p in prompts]
    # Choice i * n + j is prompt i's j-th (greedy: both of a prompt's choices alike).
    assert [c.text for c in completion.choices] == [alone[0].choices[0].text] * 2 + [
        alone[1].choices[0].text
    ] * 2
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == sum(a.usage.prompt_tokens for a in alone if a.usage)
    assert completion.usage.completion_tokens == 4 * 5
    # The same prompt as token ids (the model's own tokenizer's): the same continuation.
    from transformers import AutoTokenizer

    ids = list(AutoTokenizer.from_pretrained(demo_model).encode(prompts[0]))
    by_ids = client.completions.create(model=BASE, prompt=[ids], **GREEDY)
    assert by_ids.choices[0].text == alone[0].choices[0].text


def test_a_stream_reassembles_the_completion_and_ends_with_usage(stack: RunningStack, acme: Tenant) -> None:
    client = stack.client(acme.key)
    whole = client.completions.create(model=BASE, prompt=[PROMPT, "Hello"], **GREEDY)
    texts: dict[int, str] = {}
    usage = None
    for chunk in client.completions.create(
        model=BASE, prompt=[PROMPT, "Hello"], stream=True, stream_options={"include_usage": True}, **GREEDY
    ):
        assert chunk.object == "text_completion"
        usage = chunk.usage or usage
        for choice in chunk.choices:
            texts[choice.index] = texts.get(choice.index, "") + choice.text
    assert texts == {c.index: c.text for c in whole.choices}
    assert usage is not None and whole.usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens) == (whole.usage.prompt_tokens, 10)


def test_an_adapter_completes_and_bad_fields_are_400s(
    stack: RunningStack, acme: Tenant, demo_model: Path, tmp_path: Path
) -> None:
    model = f"ft:{BASE}:{acme.id}:text:cp001"
    adapter = write_random_lora(demo_model, tmp_path / "adapter", seed=9)
    asyncio.run(_put(stack.nats_url, "ftjob-cp001", _registration(adapter, model, acme.id)))
    client = stack.client(acme.key)
    _wait_listed(client, model, listed=True, timeout=30)
    adapted = client.completions.create(model=model, prompt=PROMPT, **GREEDY)
    base = client.completions.create(model=BASE, prompt=PROMPT, **GREEDY)
    assert adapted.model == model and adapted.choices[0].text != base.choices[0].text
    for fields, param in (
        ({"suffix": " and more"}, "suffix"),
        ({"best_of": 3}, "best_of"),
        ({"model": "assistant:anything"}, "model"),
        ({"logit_bias": {"999999": 1}}, "logit_bias"),
        ({"n": 64}, "n"),
    ):
        with pytest.raises(openai.BadRequestError) as caught:
            client.completions.create(**{"model": BASE, "prompt": PROMPT, "max_tokens": 2, **fields})  # type: ignore[call-overload]
        error = caught.value.body
        assert isinstance(error, dict) and error["param"] == param, error
    with pytest.raises(openai.NotFoundError):
        client.completions.create(model=f"ft:{BASE}:{acme.id}:text:nope", prompt=PROMPT, max_tokens=2)
