"""Retriever benchmark: embedder backends, ingestion chunks/s and search latency at 10,000 chunks, recall.

1. Embeds the same chunk texts with every backend that loads offline (torch, onnx, onnx-int8,
   openvino) in interleaved rounds; reports texts/s (wall and per CPU-second), the speed-up over
   plain torch, the lowest cosine to torch's vectors, and recall@1/@5 on the example question set.
2. Starts a retriever replica (SQLite, Qdrant local mode, the default backend) in a temporary data
   dir, ingests the example knowledge base plus synthetic policy documents up to --chunks chunks
   over gRPC, and reports ingestion chunks/s, then search p50/p99 over the whole store.
3. Measures whether hybrid retrieval (dense + BM25 keyword scores, fused by reciprocal rank) raises
   recall on the example set over dense alone.

Writes everything to bench/results/retriever_bench.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
import re
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from tuneway.api.retriever.v1 import retriever_pb2 as pb
from tuneway.api.retriever.v1 import retriever_pb2_grpc
from tuneway.core.grpc_client import create_channel
from tuneway.core.testing.processes import free_port
from tuneway.retriever.chunking import chunk_sections
from tuneway.retriever.embedder import Embedder, load_embedder
from tuneway.retriever.extract import parse_file
from tuneway.retriever.main import RetrieverServer
from tuneway.retriever.settings import RetrieverSettings

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "knowledge"
RESULTS = ROOT / "bench" / "results" / "retriever_bench.json"
BACKENDS = ("torch", "onnx", "onnx-int8", "openvino")
TENANT = "bench"

_SUBJECTS = (
    "Employees|Contractors|Team leads|New joiners|Managers|Support agents|Engineers|Interns|Sales staff"
).split("|")
_VERBS = (
    "must submit|may request|should review|are required to approve|can book|need to report|"
    "are allowed to share|will receive"
).split("|")
_OBJECTS = (
    "travel requests|training budgets|equipment orders|overtime hours|security incidents|customer complaints|"
    "access rights|conference tickets|parking permits|mobile phone plans|relocation costs|language courses|"
    "bonus payments|shift swaps|visa applications|health checks|desk bookings|software licences"
).split("|")
_WHEN = (
    "within ten working days|before the end of the quarter|through the HR portal|with written approval|"
    "after the probation period|at least one week in advance|via the service desk|once per calendar year|"
    "unless the department head objects|in line with local law"
).split("|")


def synthetic_documents(chunks_wanted: int, tokens_per_chunk: int, seed: int = 7) -> list[str]:
    """Markdown policy documents of random but grammatical sentences, about `chunks_wanted` chunks in all."""
    rng = random.Random(seed)
    # One sentence is about 12 tokens; overlap makes each chunk add about 80% new tokens.
    sentences_needed = int(chunks_wanted * tokens_per_chunk * 0.8 / 12)
    documents: list[str] = []
    made = 0
    while made < sentences_needed:
        topic = rng.choice(_OBJECTS)
        parts = [f"# Policy {len(documents) + 1}: {topic}"]
        for section in range(8):
            parts.append(f"## Section {section + 1}")
            body = [
                f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} {rng.choice(_WHEN)}."
                for _ in range(25)
            ]
            made += len(body)
            parts.append(" ".join(body))
        documents.append("\n\n".join(parts))
    return documents


def example_chunks(embedder: Embedder) -> list[tuple[str, str]]:
    """(source, chunk text) of the example knowledge base, chunked as the service does (200/40)."""
    out = []
    for path in sorted((EXAMPLES / "documents").iterdir()):
        for parsed in parse_file(path.read_bytes(), path.name, ""):
            for chunk in chunk_sections(parsed.sections, embedder.tokenizer, 200, 40):
                out.append((parsed.source or path.name, chunk.text))
    return out


def questions() -> list[dict[str, str]]:
    """The example question set."""
    return [json.loads(line) for line in (EXAMPLES / "questions.jsonl").read_text().splitlines() if line]


def recall(ranked_sources: list[list[str]], expected: list[str]) -> tuple[float, float]:
    """recall@1 and recall@5 of ranked source lists (duplicates of a source count once)."""
    at_1 = at_5 = 0
    for sources, want in zip(ranked_sources, expected, strict=True):
        unique = list(dict.fromkeys(sources))
        at_1 += unique[:1] == [want]
        at_5 += want in unique[:5]
    return at_1 / len(expected), at_5 / len(expected)


def dense_rankings(embedder: Embedder, chunks: list[tuple[str, str]], asked: list[str]) -> np.ndarray:
    """Chunk indices by cosine similarity, best first, per question."""
    matrix = embedder.embed([text for _, text in chunks])
    scores = embedder.embed(asked) @ matrix.T
    return np.argsort(-scores, axis=1)


def bm25_rankings(
    chunks: list[tuple[str, str]], asked: list[str], k1: float = 1.2, b: float = 0.75
) -> np.ndarray:
    """Chunk indices by BM25 keyword score, best first, per question (the sparse half of hybrid)."""
    tokenize = lambda text: re.findall(r"[a-z0-9]+", text.lower())  # noqa: E731
    docs = [Counter(tokenize(text)) for _, text in chunks]
    lengths = np.array([sum(d.values()) for d in docs], dtype=float)
    frequency = Counter(term for d in docs for term in d)
    n = len(docs)
    rankings = []
    for question in asked:
        scores = np.zeros(n)
        for term in set(tokenize(question)):
            if term not in frequency:
                continue
            idf = math.log(1 + (n - frequency[term] + 0.5) / (frequency[term] + 0.5))
            tf = np.array([d.get(term, 0) for d in docs], dtype=float)
            scores += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths / lengths.mean()))
        rankings.append(np.argsort(-scores))
    return np.array(rankings)


def fuse(first: np.ndarray, second: np.ndarray, k: int = 60) -> np.ndarray:
    """Reciprocal rank fusion of two rankings per question."""
    fused = []
    for a, b in zip(first, second, strict=True):
        score: dict[int, float] = {}
        for ranking in (a, b):
            for rank, index in enumerate(ranking[:50]):
                score[int(index)] = score.get(int(index), 0.0) + 1.0 / (k + rank + 1)
        fused.append(sorted(score, key=lambda i: -score[i]))
    return np.array(fused)


def bench_backends(texts: list[str], rounds: int, cache: Path) -> dict[str, Any]:
    """Throughput of each backend on the same texts, interleaved, plus its agreement with torch."""
    embedders: dict[str, Embedder] = {}
    skipped: dict[str, str] = {}
    for backend in BACKENDS:
        try:
            embedders[backend] = load_embedder(backend, 32, cache)
            embedders[backend].embed(texts[:64])  # warm-up: thread pools, kernels, allocations
        except Exception as error:  # a backend whose runtime is not installed is reported, not fatal
            skipped[backend] = f"{type(error).__name__}: {error}"
    wall: dict[str, list[float]] = {b: [] for b in embedders}
    cpu: dict[str, list[float]] = {b: [] for b in embedders}
    order = list(embedders)
    for round_number in range(rounds):
        for backend in order if round_number % 2 == 0 else reversed(order):
            started_wall, started_cpu = time.perf_counter(), time.process_time()
            embedders[backend].embed(texts)
            wall[backend].append(time.perf_counter() - started_wall)
            cpu[backend].append(time.process_time() - started_cpu)
    reference = embedders["torch"].embed(texts[:256])
    asked = questions()
    chunks = example_chunks(embedders["torch"])
    report: dict[str, Any] = {"texts": len(texts), "rounds": rounds, "skipped": skipped, "backends": {}}
    for backend, embedder in embedders.items():
        rate = len(texts) / statistics.median(wall[backend])
        cpu_rate = len(texts) / statistics.median(cpu[backend])
        cosine = float((embedder.embed(texts[:256]) * reference).sum(axis=1).min())
        ranked = dense_rankings(embedder, chunks, [q["question"] for q in asked])
        r1, r5 = recall([[chunks[i][0] for i in row] for row in ranked], [q["source"] for q in asked])
        report["backends"][backend] = {
            "texts_per_s": round(rate, 1),
            "texts_per_cpu_s": round(cpu_rate, 1),
            "min_cosine_to_torch": round(cosine, 5),
            "recall@1": round(r1, 3),
            "recall@5": round(r5, 3),
        }
    torch_rate = report["backends"]["torch"]["texts_per_s"]
    for values in report["backends"].values():
        values["speedup_vs_torch"] = round(values["texts_per_s"] / torch_rate, 2)
    return report


def bench_hybrid(embedder: Embedder) -> dict[str, Any]:
    """Recall of dense, BM25 and their fusion on the example set."""
    asked = questions()
    chunks = example_chunks(embedder)
    texts, expected = [q["question"] for q in asked], [q["source"] for q in asked]
    dense = dense_rankings(embedder, chunks, texts)
    sparse = bm25_rankings(chunks, texts)
    report: dict[str, Any] = {}
    for name, ranked in (("dense", dense), ("bm25", sparse), ("hybrid_rrf", fuse(dense, sparse))):
        r1, r5 = recall([[chunks[i][0] for i in row] for row in ranked], expected)
        report[name] = {"recall@1": round(r1, 3), "recall@5": round(r5, 3)}
    report["chunks"] = len(chunks)
    return report


async def bench_service(
    chunks_wanted: int, searches: int, embedder: Embedder, data_dir: Path
) -> dict[str, Any]:
    """Ingestion and search through gRPC on one replica with SQLite and local Qdrant."""
    port = free_port()
    settings = RetrieverSettings(grpc_port=port, host="127.0.0.1", data_dir=data_dir, metrics_port=0)
    server = RetrieverServer(settings, embedder)
    await server.start()
    channel = create_channel(f"127.0.0.1:{port}")
    stub = retriever_pb2_grpc.RetrieverServiceStub(channel)
    try:
        kb = (
            await stub.CreateKnowledgeBase(pb.CreateKnowledgeBaseRequest(tenant_id=TENANT, name="bench"))
        ).knowledge_base
        started = time.perf_counter()
        for path in sorted((EXAMPLES / "documents").iterdir()):
            await stub.AddDocument(
                pb.AddDocumentRequest(
                    tenant_id=TENANT,
                    knowledge_base_id=kb.id,
                    data=path.read_bytes(),
                    filename=path.name,
                    wait=True,
                ),
                timeout=3600,
            )
        total = (
            await stub.GetKnowledgeBase(pb.GetKnowledgeBaseRequest(tenant_id=TENANT, id=kb.id))
        ).knowledge_base.chunk_count
        synthetic = [
            json.dumps({"text": d, "source": "synthetic"})
            for d in synthetic_documents(chunks_wanted - total, kb.chunk_size)
        ]
        # In ten files (about 1,000 chunks each), one call per file, as a business uploads them.
        per_file = max(1, -(-len(synthetic) // 10))
        for n, first in enumerate(range(0, len(synthetic), per_file)):
            await stub.AddDocument(
                pb.AddDocumentRequest(
                    tenant_id=TENANT,
                    knowledge_base_id=kb.id,
                    data="\n".join(synthetic[first : first + per_file]).encode(),
                    filename=f"synthetic-{n}.jsonl",
                    wait=True,
                ),
                timeout=3600,
            )
        ingest_seconds = time.perf_counter() - started
        stored = (
            await stub.GetKnowledgeBase(pb.GetKnowledgeBaseRequest(tenant_id=TENANT, id=kb.id))
        ).knowledge_base
        asked = questions()
        latencies, ranked = [], []
        queries = [q["question"] for q in asked]
        for i in range(searches):
            query = queries[i % len(queries)]
            begun = time.perf_counter()
            hits = (
                await stub.Search(
                    pb.SearchRequest(tenant_id=TENANT, knowledge_base_ids=[kb.id], query=query, top_k=5)
                )
            ).hits
            latencies.append(time.perf_counter() - begun)
            if i < len(queries):
                ranked.append([h.source for h in hits])
        r1, r5 = recall(ranked, [q["source"] for q in asked])
        latencies.sort()
        return {
            "chunks": stored.chunk_count,
            "documents": stored.document_count,
            "ingest_seconds": round(ingest_seconds, 1),
            "ingest_chunks_per_s": round(stored.chunk_count / ingest_seconds, 1),
            "searches": searches,
            "search_p50_ms": round(1000 * latencies[len(latencies) // 2], 2),
            "search_p99_ms": round(1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 2),
            "recall@1_with_distractors": round(r1, 3),
            "recall@5_with_distractors": round(r5, 3),
        }
    finally:
        await channel.close()
        await server.stop()


def main() -> None:
    """Runs the three parts and writes the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=10_000, help="chunks in the store for the service part")
    parser.add_argument("--searches", type=int, default=500)
    parser.add_argument("--texts", type=int, default=512, help="chunk texts per backend round")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--skip-backends", action="store_true")
    parser.add_argument("--only-backends", action="store_true", help="skip the hybrid and service parts")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "load_avg": os.getloadavg()},
    }
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "embedders"
        default = load_embedder(RetrieverSettings().embedder_backend, 32, cache)
        if not args.skip_backends:
            texts: list[str] = []
            for document in synthetic_documents(args.texts, 200, seed=11):
                for parsed in parse_file(document.encode(), "doc.md", ""):
                    texts.extend(c.text for c in chunk_sections(parsed.sections, default.tokenizer, 200, 40))
            results["embedder"] = bench_backends(texts[: args.texts], args.rounds, cache)
            print(json.dumps(results["embedder"], indent=2), flush=True)
        if args.only_backends:
            print(json.dumps(results, indent=2))
            return
        results["hybrid"] = bench_hybrid(default)
        print(json.dumps(results["hybrid"], indent=2), flush=True)
        results["service"] = asyncio.run(
            bench_service(args.chunks, args.searches, default, Path(tmp) / "data")
        )
        results["service"]["backend"] = default.backend
        print(json.dumps(results["service"], indent=2), flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
