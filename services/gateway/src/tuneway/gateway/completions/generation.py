"""The generate step of a text completion: one inference request per prompt (each with the request's n
choices), and their responses merged into one generation whose choices are numbered as OpenAI numbers
them (prompt i's choice j is choice i * n + j), with the usage of all of them at its end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Sequence

from tuneway.api.inference.v1 import inference_pb2 as pb
from tuneway.gateway.completions.schemas import CompletionRequest


def generate_requests(
    body: CompletionRequest, tenant_id: str, completion_id: str
) -> list[pb.GenerateRequest]:
    """The inference request of each prompt of a validated body."""
    params = body.sampling_params(max_tokens=body.max_tokens or 16)
    if body.logprobs is not None:
        params.logprobs = body.logprobs
        if body.echo:
            params.prompt_logprobs = body.logprobs
    prompts = body.prompts()
    requests = []
    for i, prompt in enumerate(prompts):
        raw = pb.RawPrompt(echo=body.echo)
        if isinstance(prompt, str):
            raw.text = prompt
        else:
            raw.token_ids.extend(prompt)
        requests.append(
            pb.GenerateRequest(
                tenant_id=tenant_id,
                # Each engine request needs an id of its own.
                request_id=completion_id if len(prompts) == 1 else f"{completion_id}-{i}",
                model=body.model,
                params=params,
                raw_prompt=raw,
                stream=body.stream,
            )
        )
    return requests


_DONE = None


async def merged(
    generations: Sequence[AsyncGenerator[pb.GenerateResponse, None]], n: int
) -> AsyncGenerator[pb.GenerateResponse, None]:
    """The generations as one: each response's index renumbered (generation i's choice j is i * n + j),
    the usage taken off their last responses and summed on the last one of all. Every generation's first
    response is awaited before anything is yielded, so a prompt the engine refuses fails the request
    before its status is chosen. Closing this closes (and so aborts) every generation."""
    if len(generations) == 1:  # nothing to renumber or sum
        async for response in generations[0]:
            yield response
        return
    queue: asyncio.Queue[tuple[int, pb.GenerateResponse | BaseException | None]] = asyncio.Queue()

    async def pump(i: int, generation: AsyncGenerator[pb.GenerateResponse, None]) -> None:
        try:
            async for response in generation:
                queue.put_nowait((i, response))
        except Exception as error:
            queue.put_nowait((i, error))
        finally:
            await generation.aclose()
            queue.put_nowait((i, _DONE))

    firsts = await asyncio.gather(*(anext(g) for g in generations), return_exceptions=True)
    failure = next((f for f in firsts if isinstance(f, BaseException)), None)
    if failure is not None:
        await asyncio.gather(*(g.aclose() for g in generations), return_exceptions=True)
        raise failure
    for i, first in enumerate(firsts):
        queue.put_nowait((i, first))  # type: ignore[arg-type]
    tasks = [asyncio.create_task(pump(i, g)) for i, g in enumerate(generations)]
    prompt_tokens = completion_tokens = 0
    ended: set[int] = set()
    try:
        while len(ended) < len(generations):
            i, item = await queue.get()
            if item is _DONE:
                if i not in ended:
                    raise RuntimeError("a generation ended without its usage")
                continue
            if isinstance(item, BaseException):
                raise item
            response = pb.GenerateResponse()
            response.CopyFrom(item)
            response.index += i * n
            if response.HasField("usage"):
                ended.add(i)
                prompt_tokens += response.usage.prompt_tokens
                completion_tokens += response.usage.completion_tokens
                response.ClearField("usage")
                if len(ended) == len(generations):  # the last of all: it carries everyone's usage
                    response.usage.prompt_tokens = prompt_tokens
                    response.usage.completion_tokens = completion_tokens
            yield response
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
