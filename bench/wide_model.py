"""A larger model of the demo model's tokenizer and chat template (random weights), for benches that
ask how a cost per request or per token compares with a model whose steps take longer than the
tiny demo model's ~3 ms on CPU.

    .venv/bin/python bench/wide_model.py --out var/bench-models/tuneway-tiny [--hidden 1024 --layers 8]

The directory's name is the model's name as served, so keeping `tuneway-tiny` lets a bench's requests
stay as they are (e.g. `bench/tool_call_bench.py --model var/bench-models/tuneway-tiny`). Hidden 1024
and 8 layers: 132M parameters, ~35 ms a token here.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tuneway.devstack.demo_model import MODEL_CONFIG, write_model

HEAD_DIM = 64


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--hidden", type=int, default=1024, help=f"a multiple of {HEAD_DIM}")
    parser.add_argument("--layers", type=int, default=8)
    args = parser.parse_args()
    if args.hidden % HEAD_DIM:
        parser.error(f"--hidden must be a multiple of {HEAD_DIM}")
    heads = args.hidden // HEAD_DIM
    config = {
        **MODEL_CONFIG,
        "hidden_size": args.hidden,
        "intermediate_size": 4 * args.hidden,
        "num_hidden_layers": args.layers,
        "num_attention_heads": heads,
        "num_key_value_heads": heads,
        "head_dim": HEAD_DIM,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    write_model(args.out, config)
    print(args.out)


if __name__ == "__main__":
    main()
