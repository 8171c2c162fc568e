"""Real PEFT LoRA adapters with random weights, for tests that need an adapter without training."""

from __future__ import annotations

from pathlib import Path


def write_random_lora(base_model: Path, out: Path, seed: int, rank: int = 8) -> Path:
    """Saves a PEFT LoRA adapter of `base_model` whose A and B are random, so it changes outputs."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(base_model, dtype=torch.float32)
    config = LoraConfig(
        r=rank,
        lora_alpha=8 * rank,
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        init_lora_weights=False,  # random B instead of zeros, which would leave the model unchanged
        task_type="CAUSAL_LM",
    )
    get_peft_model(model, config).save_pretrained(str(out))
    return out
