"""Accuracy of the analytics query-type classifier on its held-out labelled set.

Starts a retriever in process (SQLite and local Qdrant in a temporary directory, the default MiniLM
backend) and classifies labelled_queries.jsonl through RetrieverEmbedder + QueryClassifier, the code
path the ingest consumer uses. Prints accuracy, per-type precision/recall, the confusion (errors only)
and, for calibration, accuracy at other thresholds.

    .venv/bin/python bench/query_type_accuracy.py [--threshold 0.45]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from tuneway.analytics.query_types import (
    DEFAULT_QUERY_TYPES,
    DEFAULT_THRESHOLD,
    QueryClassifier,
    RetrieverEmbedder,
)
from tuneway.analytics.query_types.evaluation import evaluate, load_labelled_queries
from tuneway.core.testing.processes import free_port
from tuneway.retriever.main import RetrieverServer
from tuneway.retriever.settings import RetrieverSettings

SWEEP = [round(0.25 + 0.025 * step, 3) for step in range(15)]


async def run(threshold: float) -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        port = free_port()
        settings = RetrieverSettings(
            grpc_port=port, host="127.0.0.1", data_dir=Path(data_dir), metrics_port=0
        )
        server = RetrieverServer(settings)
        await server.start()
        embedder = RetrieverEmbedder(f"127.0.0.1:{port}")
        try:
            labelled = load_labelled_queries()
            expected = [query.query_type for query in labelled]
            texts = [query.text for query in labelled]
            classifier = QueryClassifier(embedder.embed, threshold=threshold)
            results = await classifier.classify("bench", DEFAULT_QUERY_TYPES, texts)
            report(
                threshold, expected, texts, [r.query_type for r in results], [r.similarity for r in results]
            )
            print("\naccuracy by threshold (the embeddings are cached, no further RPCs):")
            for candidate in SWEEP:
                classifier.threshold = candidate
                swept = await classifier.classify("bench", DEFAULT_QUERY_TYPES, texts)
                accuracy = evaluate(expected, [r.query_type for r in swept]).accuracy
                print(f"  {candidate:.3f}  {accuracy:.3f}")
        finally:
            await embedder.close()
            await server.stop()


def report(
    threshold: float, expected: list[str], texts: list[str], predicted: list[str], similarity: list[float]
) -> None:
    evaluation = evaluate(expected, predicted)
    print(f"labelled queries: {len(expected)}, threshold {threshold}")
    print(f"accuracy: {evaluation.accuracy:.3f}\n")
    print(f"{'type':<24}{'precision':>10}{'recall':>8}{'support':>9}")
    for score in evaluation.per_type:
        print(f"{score.query_type:<24}{score.precision:>10.2f}{score.recall:>8.2f}{score.support:>9}")
    print("\nconfusion (expected -> predicted: count), errors only:")
    for (want, got), count in sorted(evaluation.confusion.items()):
        if want != got:
            print(f"  {want} -> {got}: {count}")
    print("\nmisclassified:")
    for text, want, got, sim in zip(texts, expected, predicted, similarity, strict=True):
        if want != got:
            print(f"  [{want} -> {got} {sim:.2f}] {text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    asyncio.run(run(parser.parse_args().threshold))


if __name__ == "__main__":
    main()
