"""The tiny demo model: a random-weight Llama with a locally trained tokenizer and a chat template.

Development and CI machines reach no model hub, so tuneway builds its default model from nothing:
a byte-level BPE tokenizer trained on the shipped `tokenizer_corpus.txt`, and a two-layer Llama
initialised from a fixed seed. Every build produces byte-identical files.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

DEMO_MODEL_NAME = "tuneway-tiny"

SEED = 20240531
VOCAB_SIZE = 2048  # the shipped corpus supports about 2200 tokens at most, so 2048 is always reached
PAD, END = "<|pad|>", "<|end|>"
SYSTEM, USER, ASSISTANT = "<|system|>", "<|user|>", "<|assistant|>"
# The order fixes the ids: <|pad|>=0, <|end|>=1, <|system|>=2, <|user|>=3, <|assistant|>=4.
SPECIAL_TOKENS = [PAD, END, SYSTEM, USER, ASSISTANT]

# `{% generation %}` marks what the model must learn to produce (the assistant's content, its tool calls and
# its end token), so TRL's `assistant_only_loss` trains on exactly those tokens. Roles map to their own
# special token; the newline after the end token is outside the mask because the model never emits it.
#
# Tool calling, in the Hermes format (so vLLM's `hermes` parser reads it, INFERENCE_TOOL_PARSER's default):
# with `tools`, the system turn (one is added when the conversation has none) ends with
#
#     # Tools
#
#     You may call one or more functions ... described in <tools></tools>:
#     <tools>
#     {"type": "function", "function": {"name": ..., "description": ..., "parameters": ...}}
#     </tools>
#
#     To call a function, answer with its name and arguments in <tool_call></tool_call> tags:
#     <tool_call>{"name": <function-name>, "arguments": <args-json-object>}</tool_call>
#
# an assistant turn that called functions is its content followed by one
# `<tool_call>{"name": "f", "arguments": {...}}</tool_call>` per call, and a function's result is a
# `<|tool|>` turn. Without tools every conversation renders exactly as before tools existed.
TOOLS_PREAMBLE = (
    "# Tools\n\nYou may call one or more functions to assist with the user query. "
    "The functions are described in <tools></tools>:\n<tools>"
)
TOOLS_INSTRUCTIONS = (
    "\n</tools>\n\nTo call a function, answer with its name and arguments in <tool_call></tool_call> tags:"
    '\n<tool_call>{"name": <function-name>, "arguments": <args-json-object>}</tool_call>'
)
CHAT_TEMPLATE = (
    "{%- if tools -%}"
    "{%- set ns = namespace(text='" + TOOLS_PREAMBLE + "') -%}"
    "{%- for tool in tools -%}{%- set ns.text = ns.text + '\\n' + (tool | tojson) -%}{%- endfor -%}"
    "{%- set ns.text = ns.text + '" + TOOLS_INSTRUCTIONS.replace("'", "\\'") + "' -%}"
    "{%- if messages[0]['role'] != 'system' -%}{{- '<|system|>\\n' + ns.text + '<|end|>\\n' -}}{%- endif -%}"
    "{%- endif -%}"
    "{%- for message in messages -%}"
    "{{- '<|' + message['role'] + '|>\\n' -}}"
    "{%- if message['role'] == 'assistant' -%}"
    "{% generation %}{{- message['content'] or '' -}}"
    "{%- if message['tool_calls'] is defined and message['tool_calls'] -%}"
    "{%- for call in message['tool_calls'] -%}"
    "{%- set function = call['function'] if call['function'] is defined else call -%}"
    "{%- set arguments = function['arguments'] -%}"
    "{{- '<tool_call>{\"name\": ' + (function['name'] | tojson) + ', \"arguments\": ' -}}"
    "{{- (arguments if arguments is string else arguments | tojson) + '}</tool_call>' -}}"
    "{%- endfor -%}"
    "{%- endif -%}"
    "{{- '<|end|>' -}}{% endgeneration %}"
    "{%- elif tools and loop.first and message['role'] == 'system' -%}"
    "{{- message['content'] + '\\n\\n' + ns.text + '<|end|>' -}}"
    "{%- else -%}"
    "{{- (message['content'] or '') + '<|end|>' -}}"
    "{%- endif -%}"
    "{{- '\\n' -}}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|assistant|>\\n' -}}{%- endif -%}"
)

MODEL_CONFIG: dict[str, Any] = {
    "hidden_size": 128,
    "intermediate_size": 512,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "num_key_value_heads": 2,
    "head_dim": 64,
    "max_position_embeddings": 2048,
    "tie_word_embeddings": False,
}
DTYPE = "bfloat16"  # vLLM's CPU backend prefers bf16; it also runs on CPUs without avx512_bf16
# Written last into a build: the fingerprint of what made it. `make model` and the test fixtures keep an
# existing build only while it matches, so a changed template (or config) reaches every machine's
# var/models instead of waiting for someone to delete it. Same seed, same weights: adapters stay valid.
STAMP_FILE = "tuneway-build.json"


def _corpus() -> str:
    """The shipped tokenizer training text."""
    return resources.files("tuneway.devstack").joinpath("tokenizer_corpus.txt").read_text(encoding="utf-8")


def build_tokenizer() -> PreTrainedTokenizerFast:
    """Trains the byte-level BPE tokenizer on the shipped corpus and wraps it for transformers."""
    # Imported here, not at module level: `python -m tuneway.devstack run` must not pay for them.
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    # No normalizer and a byte-level pre-tokenizer without prefix space: every string maps to bytes
    # and back unchanged, so decode(encode(s)) == s for any text (case, whitespace, emoji).
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        min_frequency=1,
        show_progress=False,
        # Exact, unstripped special tokens: stripping would eat the whitespace around them.
        special_tokens=[AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS],
        # All 256 bytes are in the vocabulary, so text the corpus never showed still encodes.
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(_corpus().splitlines(keepends=True), trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        eos_token=END,
        pad_token=PAD,
        additional_special_tokens=[SYSTEM, USER, ASSISTANT],
        clean_up_tokenization_spaces=False,
        model_max_length=MODEL_CONFIG["max_position_embeddings"],
        padding_side="right",
        chat_template=CHAT_TEMPLATE,
    )


def build_fingerprint() -> str:
    """A hash of every input of the build."""
    inputs = [CHAT_TEMPLATE, MODEL_CONFIG, SPECIAL_TOKENS, VOCAB_SIZE, SEED, DTYPE, _corpus()]
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def is_current(directory: Path) -> bool:
    """Whether `directory` holds a finished build of today's inputs."""
    try:
        stamp = json.loads((directory / STAMP_FILE).read_text())
    except (OSError, ValueError):
        return False
    return (directory / "config.json").exists() and stamp.get("fingerprint") == build_fingerprint()


def _build_into(directory: Path) -> None:
    """The demo model into `directory`, its build stamp last."""
    write_model(directory)
    (directory / STAMP_FILE).write_text(json.dumps({"fingerprint": build_fingerprint()}) + "\n")


def write_model(directory: Path, model_config: Mapping[str, Any] = MODEL_CONFIG) -> None:
    """Writes the tokenizer, config, generation config and weights into `directory`: the demo model, or
    with `model_config` a larger one of the same tokenizer and template (bench/wide_model.py)."""
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    tokenizer = build_tokenizer()
    vocab = tokenizer.get_vocab()
    end_id, pad_id = vocab[END], vocab[PAD]
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        bos_token_id=None,
        eos_token_id=end_id,
        pad_token_id=pad_id,
        dtype=DTYPE,
        **model_config,
    )
    # Initialise on a private generator state so the weights depend on the seed alone.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(SEED)
        model = LlamaForCausalLM(config)
    model = model.to(getattr(torch, DTYPE)).eval()
    model.generation_config = GenerationConfig(bos_token_id=None, eos_token_id=end_id, pad_token_id=pad_id)
    model.save_pretrained(directory, safe_serialization=True)
    tokenizer.save_pretrained(directory)


def build_demo_model(out_dir: Path, *, force: bool = False) -> Path:
    """Builds the demo model into `out_dir` (atomically) unless a build of the same inputs is already
    there; returns it."""
    out_dir = Path(out_dir)
    if is_current(out_dir) and not force:
        return out_dir
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    # Build in a sibling and rename it into place, so a reader never sees half a model.
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.build-", dir=out_dir.parent))
    try:
        _build_into(staging)
        # mkdtemp makes the directory 0700 and safetensors writes 0600; the model is not secret and
        # other users (a container's service user) must read it.
        os.chmod(staging, 0o755)
        for file in staging.iterdir():
            os.chmod(file, 0o644)
        _swap_into_place(staging, out_dir, force=force)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return out_dir


def _swap_into_place(staging: Path, out_dir: Path, *, force: bool) -> None:
    """Renames `staging` to `out_dir`, replacing an old, stale or incomplete one, keeping a current one."""
    try:
        os.rename(staging, out_dir)  # succeeds when out_dir is missing or an empty directory
        return
    except OSError:
        pass  # out_dir exists with files in it
    if is_current(out_dir) and not force:
        return  # a concurrent build finished first; its files are identical to ours
    # out_dir is stale (older inputs, forced rebuild) or holds a broken build: move it aside, then swap.
    trash = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
    try:
        os.rename(out_dir, trash / "model")
    except FileNotFoundError:
        pass  # someone else moved it away meanwhile
    try:
        os.rename(staging, out_dir)
    except OSError:
        if not (out_dir / "config.json").exists():
            raise
    finally:
        shutil.rmtree(trash, ignore_errors=True)


def default_out_dir() -> Path:
    """`$TUNEWAY_DATA_DIR/models/tuneway-tiny`, with the data dir defaulting to ./var."""
    return Path(os.environ.get("TUNEWAY_DATA_DIR") or "var") / "models" / DEMO_MODEL_NAME


def main(argv: list[str] | None = None) -> int:
    """CLI: builds the demo model and prints its directory."""
    parser = argparse.ArgumentParser(
        prog="python -m tuneway.devstack model", description="Builds the tiny demo model."
    )
    parser.add_argument(
        "--out", type=Path, help="model directory (default: $TUNEWAY_DATA_DIR/models/tuneway-tiny)"
    )
    parser.add_argument("--force", action="store_true", help="rebuild even if the model exists")
    args = parser.parse_args(argv)
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a one-shard progress bar is noise in `make model`
    out = build_demo_model(args.out or default_out_dir(), force=args.force)
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
