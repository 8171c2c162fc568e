"""Settings of the inference service (env prefix INFERENCE_)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from tuneway.core.settings import GrpcServiceSettings, service_config


class InferenceSettings(GrpcServiceSettings):
    """Engine, serving and adapter settings; defaults run the tiny demo model on a small CPU machine."""

    model_config = service_config("INFERENCE_")

    # A Hugging Face model directory or hub id; empty means the demo model under the data dir.
    model: str = ""
    # The name clients use; empty means the model directory's name (tuneway-tiny for the demo).
    served_model_name: str = ""
    grpc_port: int = 50053
    metrics_port: int = 9103
    dtype: Literal["auto", "half", "float16", "bfloat16", "float", "float32"] = "auto"
    max_model_len: int = 2048
    max_num_seqs: int = 64
    # LoRA capacity: adapters in one batch, adapters kept in CPU memory, and the largest rank served.
    max_loras: int = 8
    max_cpu_loras: int = 32
    # vLLM serves these ranks only; adapters of a lower rank are padded up.
    max_lora_rank: Literal[8, 16, 32, 64, 128, 256, 320, 512] = 64
    # vLLM's CPU backend refuses to start on a small machine without an explicit KV cache size (GiB).
    cpu_kvcache_space_gib: int = 1
    seed: int = 0
    # On CPU, keep vLLM's busy-waiting engine-core process on the model worker's cores so it cannot
    # starve the threads that stream responses (see cpu_affinity.py).
    pin_engine_core: bool = True
    # vLLM's tool call parser for the model's own call format, which reads `tool_choice: auto` replies
    # (`required` and named functions need none). hermes reads `<tool_call>{json}</tool_call>`: the demo
    # model's format, and Qwen 2.5/3's and Hermes'. Empty: `auto` is refused with a 400.
    tool_parser: str = "hermes"
    # The most choices one request may ask for (OpenAI's n): each is a sequence of its own in the engine's
    # batch (max_num_seqs), though they share the prompt through vLLM's prefix cache.
    max_n: int = 8
    # Seconds to let in-flight generations finish on SIGTERM before they are cancelled.
    drain_seconds: float = 10.0

    def model_path(self) -> str:
        """The model to load: INFERENCE_MODEL, or the demo model built by `make model`."""
        return self.model or str(self.data_dir / "models" / "tuneway-tiny")

    def model_name(self) -> str:
        """The base model's public name."""
        return self.served_model_name or Path(self.model_path().rstrip("/")).name
