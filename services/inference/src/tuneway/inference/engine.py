"""Builds the vLLM AsyncLLM engine from settings; the only module that knows vLLM's engine arguments."""

from __future__ import annotations

import os
from typing import Any

from tuneway.inference.engine_signals import start_shielded_engine
from tuneway.inference.settings import InferenceSettings


def engine_arguments(settings: InferenceSettings) -> dict[str, Any]:
    """The AsyncEngineArgs fields we set (the benchmark gives vLLM's own server the same)."""
    from vllm.config import StructuredOutputsConfig
    from vllm.platforms import current_platform

    return {
        "model": settings.model_path(),
        "served_model_name": [settings.model_name()],
        "dtype": settings.dtype,
        "max_model_len": settings.max_model_len,
        "max_num_seqs": settings.max_num_seqs,
        "seed": settings.seed,
        "enable_lora": True,
        "max_loras": settings.max_loras,
        "max_cpu_loras": settings.max_cpu_loras,
        "max_lora_rank": settings.max_lora_rank,
        "disable_log_stats": True,
        # Requests carry a priority (GenerateRequest.priority): batches' lines wait behind interactive ones.
        "scheduling_policy": "priority",
        # Structured output as compact JSON: a grammar that allows free whitespace lets a weak model
        # pad with blanks until max_tokens and never close the object.
        "structured_outputs_config": StructuredOutputsConfig(backend="xgrammar", disable_any_whitespace=True),
        # vLLM 0.32 rewinds a seeded request's generator after each partial (chunked) prefill step, which
        # only CUDA's generators allow: on CPU it raises "CPU Generator does not use offset" and the engine
        # dies. Whole prefills never rewind; vLLM then raises its token budget to max_model_len itself.
        "enable_chunked_prefill": not current_platform.is_cpu(),
    }


def build_engine(settings: InferenceSettings) -> Any:
    """Starts an AsyncLLM with LoRA enabled (spawns the engine-core process; takes seconds). Its
    processes ignore stop signals not sent by this process: the service drains, then stops them."""
    # Read by vLLM's CPU platform at import/start; harmless on GPUs.
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", str(settings.cpu_kvcache_space_gib))
    from vllm.engine.arg_utils import AsyncEngineArgs
    from vllm.v1.engine.async_llm import AsyncLLM

    arguments = AsyncEngineArgs(**engine_arguments(settings))
    return start_shielded_engine(lambda: AsyncLLM.from_engine_args(arguments))


# vLLM 0.32's CPU attention kernel dies with SIGILL (taking the engine with it) when the first prefill
# it ever runs with bfloat16 on an AMX machine is a prompt of 4 tokens or fewer; once a longer prompt
# has run, prompts of any length are fine. Chat prompts always had a template around them; a raw
# completions prompt ("Hi") would have been the first one.
WARM_UP_TOKENS = 16


async def warm_up(engine: Any) -> None:
    """Runs one short generation of a WARM_UP_TOKENS-token prompt before the engine serves."""
    from vllm.sampling_params import RequestOutputKind, SamplingParams

    params = SamplingParams(max_tokens=1, output_kind=RequestOutputKind.FINAL_ONLY)
    prompt = {"prompt_token_ids": list(range(WARM_UP_TOKENS))}
    async for _ in engine.generate(prompt, params, "tuneway-warm-up"):
        pass
