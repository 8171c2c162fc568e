"""Exports the packaged embedder to ONNX (once, cached) and runs it on ONNX Runtime or OpenVINO."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def _weights_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with (path / "model.safetensors").open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()[:16]


def export_onnx(path: Path, cache_dir: Path, quantized: bool = False) -> Path:
    """The ONNX file of the model at `path` (pooling and normalisation included), exported if missing."""
    target_dir = cache_dir / f"minilm-{_weights_digest(path)}"
    plain = target_dir / "model.onnx"
    if not plain.exists():
        _export(path, plain)
    if not quantized:
        return plain
    int8 = target_dir / "model-int8.onnx"
    if not int8.exists():
        from onnxruntime.quantization import QuantType, quantize_dynamic

        with tempfile.TemporaryDirectory(dir=target_dir) as tmp:
            partial = Path(tmp) / "model.onnx"
            quantize_dynamic(str(plain), str(partial), weight_type=QuantType.QInt8)
            os.replace(partial, int8)
    return int8


def _export(path: Path, target: Path) -> None:
    """Traces the transformer plus mean pooling and L2 normalisation into one ONNX graph."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    log.info("exporting the embedder to ONNX", extra={"target": str(target)})
    model = AutoModel.from_pretrained(str(path)).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(path))

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    sample = tokenizer(
        ["a short sample", "a somewhat longer sample sentence"], padding=True, return_tensors="pt"
    )
    axes = {name: {0: "batch", 1: "tokens"} for name in INPUTS}
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target and renamed, so a crash mid-export never leaves a half file in the cache.
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        partial = Path(tmp) / "model.onnx"
        # The tracer warns about shape checks it freezes; they are constant for an encoder with a mask,
        # and the tests compare this graph's vectors with sentence-transformers' own.
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Pooled().eval(),
                tuple(sample[name] for name in INPUTS),
                str(partial),
                input_names=list(INPUTS),
                output_names=["sentence_embedding"],
                dynamic_axes={**axes, "sentence_embedding": {0: "batch"}},
                opset_version=17,
                # The TorchScript exporter needs no onnxscript; the graph is a plain BERT encoder.
                dynamo=False,
            )
        os.replace(partial, target)


def onnx_forward(onnx_file: Path) -> Any:
    """A forward function over an ONNX Runtime CPU session."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Left to choose its thread count, ONNX Runtime also pins each pool thread to one core (as OpenVINO
    # does, see openvino_forward); given one, it leaves them to the kernel.
    options.intra_op_num_threads = len(os.sched_getaffinity(0))
    session = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])

    def forward(features: dict[str, np.ndarray]) -> np.ndarray:
        return np.asarray(session.run(None, features)[0], dtype=np.float32)

    return forward


def openvino_forward(onnx_file: Path) -> Any:
    """A forward function over the same graph compiled by OpenVINO for the CPU."""
    import openvino

    core = openvino.Core()
    # By default OpenVINO pins each thread of its pool to one core, and a forward pass waits for all
    # of them: one pinned to a core that inference's engine keeps busy stalled every embedding for
    # minutes under chat load (cpu_threads.py). Unpinned, the kernel runs them where there is time.
    compiled = core.compile_model(
        core.read_model(str(onnx_file)), "CPU", {"ENABLE_CPU_PINNING": False, "ENABLE_CPU_RESERVATION": False}
    )

    def forward(features: dict[str, np.ndarray]) -> np.ndarray:
        return np.asarray(compiled(features)[0], dtype=np.float32)

    return forward
