"""Resolution of "auto" hyperparameters and LoRA defaults, and the step count they imply."""

from __future__ import annotations

import math
from dataclasses import dataclass

from tuneway.core.errors import InvalidArgumentError
from tuneway.trainer.domain import Hyperparameters, LoraSpec

# Projections vLLM can serve LoRA adapters on; anything else makes the engine refuse the adapter.
SERVABLE_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
# The inference engine's max_lora_rank; a larger rank would be refused at registration.
MAX_RANK = 64

# Measured on the tiny demo model and the 42-example shop dataset on 2 CPU cores (rank 64, alpha 128 on
# every projection, 3e-3 held constant then cosine-decayed over the last DECAY_SHARE of steps, batch 4,
# seed 7): greedy answers reproduce 19/42 of the training answers after 220 steps, 40/42 after 330
# and 42/42 after 440, 550 and 660 (about 23 s), so "auto" aims at about 650 steps, with margin for
# other data. Without the decay, 660 steps gave 36/42 and 1,000 gave 34/42 (the rate is too high to
# settle); decaying from the first step, or rank 16, needs about twice as many steps.
DEFAULT_RANK = 64
# Share of the run, at its end, over which the learning rate decays to zero.
DECAY_SHARE = 0.3
DEFAULT_ALPHA = 128
BASE_LEARNING_RATE = 3e-3
# "auto" epochs aim at about this many optimizer steps, with OpenAI's 3 epochs as the floor.
TARGET_STEPS = 650
MIN_AUTO_EPOCHS, MAX_AUTO_EPOCHS = 3, 60
MAX_BATCH_SIZE = 8


@dataclass(frozen=True)
class Resolved:
    """Concrete hyperparameters of one run."""

    n_epochs: int
    batch_size: int
    learning_rate_multiplier: float
    learning_rate: float
    steps_per_epoch: int
    total_steps: int

    def public(self) -> Hyperparameters:
        """The three numbers OpenAI reports."""
        return Hyperparameters(self.n_epochs, self.batch_size, self.learning_rate_multiplier)


def check_hyperparameters(hp: Hyperparameters) -> None:
    """Rejects numbers outside what a run can use."""
    if hp.n_epochs is not None and not 1 <= hp.n_epochs <= 50:
        raise InvalidArgumentError("n_epochs must be between 1 and 50.", param="hyperparameters.n_epochs")
    if hp.batch_size is not None and not 1 <= hp.batch_size <= 256:
        raise InvalidArgumentError(
            "batch_size must be between 1 and 256.", param="hyperparameters.batch_size"
        )
    lrm = hp.learning_rate_multiplier
    if lrm is not None and not 0 < lrm <= 100:
        raise InvalidArgumentError(
            "learning_rate_multiplier must be greater than 0 and at most 100.",
            param="hyperparameters.learning_rate_multiplier",
        )


def resolve(hp: Hyperparameters, train_examples: int) -> Resolved:
    """Fills "auto" from the dataset size: small datasets get more epochs, like OpenAI's defaults."""
    examples = max(train_examples, 1)
    batch_size = hp.batch_size or min(MAX_BATCH_SIZE, max(1, round(examples / 10)))
    batch_size = min(batch_size, examples)
    steps_per_epoch = math.ceil(examples / batch_size)
    n_epochs = hp.n_epochs or min(
        MAX_AUTO_EPOCHS, max(MIN_AUTO_EPOCHS, math.ceil(TARGET_STEPS / steps_per_epoch))
    )
    multiplier = hp.learning_rate_multiplier or 1.0
    return Resolved(
        n_epochs=n_epochs,
        batch_size=batch_size,
        learning_rate_multiplier=multiplier,
        learning_rate=BASE_LEARNING_RATE * multiplier,
        steps_per_epoch=steps_per_epoch,
        total_steps=steps_per_epoch * n_epochs,
    )


def resolve_lora(spec: LoraSpec) -> LoraSpec:
    """The LoRA config with defaults filled in, checked against what the inference engine serves."""
    rank = spec.rank or DEFAULT_RANK
    if not 1 <= rank <= MAX_RANK:
        raise InvalidArgumentError(f"lora.rank must be between 1 and {MAX_RANK}.", param="lora.rank")
    alpha = spec.alpha or (DEFAULT_ALPHA * rank // DEFAULT_RANK)
    if alpha < 1:
        raise InvalidArgumentError("lora.alpha must be at least 1.", param="lora.alpha")
    modules = tuple(spec.target_modules) or SERVABLE_MODULES
    unknown = sorted(set(modules) - set(SERVABLE_MODULES))
    if unknown:
        raise InvalidArgumentError(
            f"lora.target_modules {unknown} cannot be served; choose from {list(SERVABLE_MODULES)}.",
            param="lora.target_modules",
        )
    dropout = 0.0 if spec.dropout is None else spec.dropout
    if not 0 <= dropout < 1:
        raise InvalidArgumentError("lora.dropout must be in [0, 1).", param="lora.dropout")
    return LoraSpec(rank=rank, alpha=alpha, target_modules=modules, dropout=dropout)


def checkpoint_every(total_steps: int, configured: int) -> int:
    """Steps between checkpoints: the setting, or about a quarter of the run."""
    return configured if configured > 0 else max(1, math.ceil(total_steps / 4))
