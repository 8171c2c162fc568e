"""QueryClassifier through RetrieverEmbedder against a real retriever (MiniLM) started in process."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from prometheus_client import REGISTRY

from tuneway.analytics.query_types import (
    DEFAULT_QUERY_TYPES,
    OTHER,
    Classification,
    QueryClassifier,
    QueryTypeDefinition,
    RetrieverEmbedder,
    effective_types,
)
from tuneway.analytics.query_types.evaluation import evaluate, load_labelled_queries
from tuneway.core.errors import InvalidArgumentError, UnavailableError
from tuneway.core.testing.processes import free_port

LOYALTY = QueryTypeDefinition(
    "loyalty points",
    (
        "How many loyalty points do I have?",
        "Can I pay with my reward points?",
        "My bonus points from last order are missing",
        "When do my loyalty points expire?",
    ),
)


class EmbedCounters:
    """The retriever's own Prometheus counters: texts embedded and Embed RPCs answered."""

    def texts(self) -> float:
        return REGISTRY.get_sample_value("tuneway_retriever_embedded_texts_total") or 0.0

    def rpcs(self) -> float:
        labels = {"method": "Embed", "code": "OK"}
        return REGISTRY.get_sample_value("tuneway_retriever_grpc_requests_total", labels) or 0.0


@pytest.fixture
def counters() -> EmbedCounters:
    return EmbedCounters()


class RecordingEmbed:
    """Passes every call through to the real RetrieverEmbedder and remembers what each one asked for."""

    def __init__(self, embedder: RetrieverEmbedder) -> None:
        self._embedder = embedder
        self.calls: list[list[str]] = []

    async def __call__(self, tenant_id: str, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return await self._embedder.embed(tenant_id, texts)


@pytest.fixture
def recording_embed(embedder: RetrieverEmbedder) -> RecordingEmbed:
    return RecordingEmbed(embedder)


async def test_accuracy_on_the_labelled_set(embedder: RetrieverEmbedder) -> None:
    labelled = load_labelled_queries()
    classifier = QueryClassifier(embedder.embed)
    results = await classifier.classify("acme", DEFAULT_QUERY_TYPES, [q.text for q in labelled])
    evaluation = evaluate([q.query_type for q in labelled], [r.query_type for r in results])
    print(f"query-type accuracy on {len(labelled)} labelled queries: {evaluation.accuracy:.3f}")
    assert evaluation.accuracy >= 0.85


async def test_a_tenant_type_wins_queries_like_it(embedder: RetrieverEmbedder) -> None:
    classifier = QueryClassifier(embedder.embed)
    queries = ["How many points are on my loyalty card?", "Can I redeem my reward points for a discount?"]
    with_loyalty = await classifier.classify("shop", effective_types([LOYALTY]), queries)
    assert [r.query_type for r in with_loyalty] == ["loyalty points", "loyalty points"]
    without = await classifier.classify("other-shop", DEFAULT_QUERY_TYPES, queries)
    assert all(r.query_type != "loyalty points" for r in without)
    # Other queries still get their default types.
    (parcel,) = await classifier.classify("shop", effective_types([LOYALTY]), ["Where is my parcel?"])
    assert parcel.query_type == "shipping and delivery"


async def test_a_replaced_default_type_changes_classification(embedder: RetrieverEmbedder) -> None:
    classifier = QueryClassifier(embedder.embed)
    query = "Which wine goes best with grilled lamb?"
    (before,) = await classifier.classify("winery", DEFAULT_QUERY_TYPES, [query])
    assert before.query_type != "product question"
    wines = QueryTypeDefinition(
        "product question",
        (
            "Which red wine pairs with steak?",
            "Is this riesling dry or sweet?",
            "What food goes well with this chardonnay?",
            "How long can I cellar this bottle?",
        ),
    )
    (after,) = await classifier.classify("winery", effective_types([wines]), [query])
    assert after.query_type == "product question" and after.similarity > before.similarity


async def test_below_the_threshold_a_query_is_other(embedder: RetrieverEmbedder) -> None:
    classifier = QueryClassifier(embedder.embed)
    trivia, parcel = await classifier.classify(
        "acme", DEFAULT_QUERY_TYPES, ["What is the capital of Australia?", "Where is my parcel?"]
    )
    assert trivia.query_type == OTHER and trivia.similarity < classifier.threshold
    assert parcel.query_type == "shipping and delivery" and parcel.similarity >= classifier.threshold
    strict = QueryClassifier(embedder.embed, threshold=0.99)
    (strict_parcel,) = await strict.classify("acme", DEFAULT_QUERY_TYPES, ["Where is my parcel?"])
    assert strict_parcel == Classification(OTHER, pytest.approx(parcel.similarity, abs=1e-5))


async def test_empty_texts_and_no_types(recording_embed: RecordingEmbed) -> None:
    classifier = QueryClassifier(recording_embed)
    results = await classifier.classify("acme", DEFAULT_QUERY_TYPES, ["", "   ", "Hello"])
    assert results[:2] == [Classification("", 0.0), Classification("", 0.0)]
    assert results[2].query_type == "greeting"
    assert all(text.strip() for call in recording_embed.calls for text in call)
    assert await classifier.classify("bare", [], ["Hello", ""]) == [
        Classification(OTHER, 0.0),
        Classification("", 0.0),
    ]


async def test_the_cache_saves_embed_calls(recording_embed: RecordingEmbed, counters: EmbedCounters) -> None:
    classifier = QueryClassifier(recording_embed)
    texts = ["I was charged twice", "My package is late", "I was charged twice"]
    examples = sum(len(d.examples) for d in DEFAULT_QUERY_TYPES)
    texts_before, rpcs_before = counters.texts(), counters.rpcs()
    first = await classifier.classify("acme", DEFAULT_QUERY_TYPES, texts)
    # One Embed call for the examples and the two distinct queries (in RPCs of at most 64 texts).
    assert len(recording_embed.calls) == 1
    assert counters.texts() - texts_before == examples + 2
    assert counters.rpcs() - rpcs_before == -(-(examples + 2) // 64)
    texts_before, rpcs_before = counters.texts(), counters.rpcs()
    again = await classifier.classify("acme", DEFAULT_QUERY_TYPES, texts)
    assert again == first
    assert len(recording_embed.calls) == 1
    assert (counters.texts(), counters.rpcs()) == (texts_before, rpcs_before)
    # A new tenant with the same types reuses the cached example embeddings too; only the new text is sent.
    await classifier.classify("globex", DEFAULT_QUERY_TYPES, ["I was charged twice", "Hi there"])
    assert recording_embed.calls[1:] == [["Hi there"]]


async def test_the_lru_evicts_the_least_recently_used(recording_embed: RecordingEmbed) -> None:
    classifier = QueryClassifier(recording_embed, cache_size=2)
    await classifier.classify("acme", [], ["one", "two"])
    await classifier.classify("acme", [], ["one"])  # "one" is now the most recent
    await classifier.classify("acme", [], ["three"])  # evicts "two"
    await classifier.classify("acme", [], ["one", "two"])
    assert recording_embed.calls == [["one", "two"], ["three"], ["two"]]


async def test_changed_types_recompute_the_centroids(recording_embed: RecordingEmbed) -> None:
    classifier = QueryClassifier(recording_embed)
    query = ["Where can I check my bonus points?"]
    (before,) = await classifier.classify("shop", DEFAULT_QUERY_TYPES, query)
    (after,) = await classifier.classify("shop", effective_types([LOYALTY]), query)
    assert before.query_type != "loyalty points" and after.query_type == "loyalty points"
    assert recording_embed.calls[1] == list(LOYALTY.examples)  # only the new examples were embedded


async def test_embedder_rows_are_unit_vectors_in_batches(
    embedder: RetrieverEmbedder, counters: EmbedCounters
) -> None:
    texts = [f"question number {i} about my order" for i in range(130)]
    rpcs_before = counters.rpcs()
    vectors = await embedder.embed("acme", texts)
    assert vectors.shape == (130, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert counters.rpcs() - rpcs_before == 3
    single = await embedder.embed("acme", [texts[129]])
    assert np.allclose(single[0], vectors[129], atol=1e-5)


async def test_embedder_errors(embedder: RetrieverEmbedder) -> None:
    with pytest.raises(InvalidArgumentError) as error:
        await embedder.embed("", ["hello"])
    assert error.value.param == "tenant_id"
    with pytest.raises(InvalidArgumentError) as error:
        await embedder.embed("acme", ["hello", ""])
    assert error.value.param == "input"
    nobody = RetrieverEmbedder(f"127.0.0.1:{free_port()}", timeout_seconds=2.0)
    try:
        with pytest.raises(UnavailableError):
            await nobody.embed("acme", ["hello"])
    finally:
        await nobody.close()
