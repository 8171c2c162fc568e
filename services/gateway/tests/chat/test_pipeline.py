"""The chat pipeline's steps in order, with stand-ins for the services behind the gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import orjson
import pytest

from tuneway.api.events.v1 import events_pb2 as epb
from tuneway.api.inference.v1 import inference_pb2 as ipb
from tuneway.api.prompt.v1 import prompt_pb2 as ppb
from tuneway.api.retriever.v1 import retriever_pb2 as rpb
from tuneway.core.errors import NotFoundError
from tuneway.gateway.analytics.events import AnalyticsEvents
from tuneway.gateway.analytics.outbox import OutgoingEvent
from tuneway.gateway.analytics.recorder import CompletionRecorder
from tuneway.gateway.chat.pipeline import complete
from tuneway.gateway.chat.schemas import ChatCompletionRequest
from tuneway.gateway.knowledge.retrieval import NO_ANSWER
from tuneway.gateway.tenancy.keys import Principal


class Service:
    """A client stand-in: `stub.<Method>` is the method's name, and `call` answers from `answers`."""

    def __init__(self, **answers: Any) -> None:
        self.stub = SimpleNamespace(**{name: name for name in answers})
        self.answers = answers
        self.requests: dict[str, Any] = {}

    async def call(self, method: str, request: Any) -> Any:
        self.requests[method] = request
        return self.answers[method]


class Engine:
    """An inference stand-in that generates "Hello" and records the request."""

    def __init__(self) -> None:
        self.requests: list[ipb.GenerateRequest] = []

    async def generate(self, request: ipb.GenerateRequest) -> AsyncIterator[ipb.GenerateResponse]:
        self.requests.append(request)
        yield ipb.GenerateResponse(text_delta="Hel")
        usage = ipb.Usage(prompt_tokens=5, completion_tokens=2)
        yield ipb.GenerateResponse(text_delta="lo", finish_reason="stop", usage=usage)


class Recorded:
    """The events a request's recorder sends (the publisher's queue, without NATS)."""

    def __init__(self) -> None:
        self.sent: list[OutgoingEvent] = []

    def recorder(self, body: ChatCompletionRequest, completion_id: str) -> CompletionRecorder:
        events = AnalyticsEvents(self.sent.append)
        return CompletionRecorder.for_chat(events, body, Principal("acme", "member", "key_1"), completion_id)

    def event(self) -> epb.CompletionEvent:
        [sent] = self.sent
        assert (sent.subject, sent.msg_id) == (
            "events.completions",
            epb.CompletionEvent.FromString(sent.data).request_id,
        )
        return epb.CompletionEvent.FromString(sent.data)


def _body(model: str, **fields: Any) -> ChatCompletionRequest:
    messages = [{"role": "user", "content": "How many vacation days?"}]
    return ChatCompletionRequest.model_validate({"model": model, "messages": messages, **fields})


def _assistant(name: str, knowledge_base_ids: list[str]) -> Service:
    knowledge = ppb.KnowledgeSettings(knowledge_base_ids=knowledge_base_ids, top_k=2)
    rendered = ppb.RenderPromptResponse(
        messages=[
            ppb.ChatMessage(role="system", content="Be brief."),
            ppb.ChatMessage(role="user", content="q"),
        ],
        parameters=ppb.ModelParameters(temperature=0.2, max_tokens=9),
        model="ft:base:acme:hr:1",
        assistant=name,
        prompt_name="hr",
        version=3,
        variant="default",
    )
    return Service(
        GetAssistant=ppb.GetAssistantResponse(assistant=ppb.Assistant(name=name, knowledge=knowledge)),
        RenderPrompt=rendered,
    )


async def test_a_base_model_goes_straight_to_the_engine() -> None:
    engine, prompts, retriever, recorded = Engine(), Service(), Service(), Recorded()
    body = _body("base", temperature=0.5, user="u1", metadata={"channel": "web"})
    recorder = recorded.recorder(body, "chatcmpl-1")
    response = await complete(body, "acme", "chatcmpl-1", engine, prompts, retriever, recorder)
    body = orjson.loads(response.body)
    assert body["choices"][0]["message"]["content"] == "Hello" and "tuneway" not in body
    assert "x-tuneway-prompt" not in response.headers
    [request] = engine.requests
    assert (request.model, request.tenant_id, request.params.temperature) == ("base", "acme", 0.5)
    assert prompts.requests == {} and retriever.requests == {}
    event = recorded.event()
    assert (event.request_id, event.tenant_id, event.api_key_id, event.endpoint) == (
        "chatcmpl-1",
        "acme",
        "key_1",
        "chat.completions",
    )
    assert (event.kind, event.model, event.base_model, event.adapter) == ("base", "base", "base", "")
    assert (event.status, event.http_status, event.finish_reason) == ("ok", 200, "stop")
    assert (event.prompt_tokens, event.completion_tokens, event.user, event.channel) == (5, 2, "u1", "web")
    assert event.last_user_message == "How many vacation days?" and not event.streamed
    assert 0 < event.time_to_first_token_ms <= event.latency_ms


async def test_an_assistant_retrieves_renders_then_generates() -> None:
    engine, prompts = Engine(), _assistant("hr-1", ["kb_1"])
    hit = rpb.SearchHit(
        document_id="doc_1", knowledge_base_id="kb_1", title="Leave", text="27 days.", score=0.8
    )
    retriever = Service(Search=rpb.SearchResponse(hits=[hit]))
    body = _body("assistant:hr-1", max_tokens=4, variables={"team": "ops"}, metadata={"language": "de"})
    recorded = Recorded()
    response = await complete(
        body, "acme", "chatcmpl-2", engine, prompts, retriever, recorded.recorder(body, "chatcmpl-2")
    )

    search = retriever.requests["Search"]
    assert (list(search.knowledge_base_ids), search.query, search.top_k) == (
        ["kb_1"],
        "How many vacation days?",
        2,
    )
    render = prompts.requests["RenderPrompt"]
    assert render.assistant == "hr-1" and render.language == "de"
    assert dict(render.variables) == {"team": "ops", "context": "[1] Leave\n27 days."}
    [request] = engine.requests
    assert request.model == "ft:base:acme:hr:1" and [m.content for m in request.messages] == [
        "Be brief.",
        "q",
    ]
    # The client's max_tokens wins over the prompt's; the prompt fills in the temperature.
    assert request.params.max_tokens == 4 and abs(request.params.temperature - 0.2) < 1e-6

    served = orjson.loads(response.body)["tuneway"]
    assert (served["assistant"], served["prompt_version"], served["model"]) == (
        "hr-1",
        3,
        "ft:base:acme:hr:1",
    )
    assert [s["document_id"] for s in served["sources"]] == ["doc_1"]
    assert response.headers["x-tuneway-prompt-version"] == "3"
    event = recorded.event()
    assert (event.kind, event.model, event.assistant, event.prompt_name, event.prompt_version) == (
        "assistant",
        "assistant:hr-1",
        "hr-1",
        "hr",
        3,
    )
    # The rendered model is an adapter of `base`; metadata.language wins over detection.
    assert (event.adapter, event.base_model, event.variant) == ("ft:base:acme:hr:1", "base", "default")
    assert (event.language, event.language_detected) == ("de", False)
    assert (event.knowledge_sources, round(event.knowledge_top_score, 4), event.knowledge_no_answer) == (
        1,
        0.8,
        False,
    )


async def test_an_assistant_whose_knowledge_has_nothing_says_so_without_the_engine() -> None:
    engine, prompts, retriever = Engine(), _assistant("hr-2", ["kb_1"]), Service(Search=rpb.SearchResponse())
    body, recorded = _body("assistant:hr-2"), Recorded()
    recorder = recorded.recorder(body, "chatcmpl-3")
    response = await complete(body, "acme", "chatcmpl-3", engine, prompts, retriever, recorder)
    body = orjson.loads(response.body)
    assert body["choices"][0]["message"]["content"] == NO_ANSWER and body["tuneway"]["sources"] == []
    assert engine.requests == []
    event = recorded.event()
    assert event.knowledge_no_answer and event.knowledge_sources == 0 and event.status == "ok"
    assert event.time_to_first_token_ms == 0  # nothing was generated


async def test_a_stream_is_server_sent_events_with_the_assistant_headers() -> None:
    engine, prompts, retriever = Engine(), _assistant("hr-3", []), Service()
    body = _body("assistant:hr-3", stream=True, stream_options={"include_usage": True})
    recorded = Recorded()
    response = await complete(
        body, "acme", "chatcmpl-4", engine, prompts, retriever, recorded.recorder(body, "chatcmpl-4")
    )
    assert recorded.sent == []  # a stream is recorded when it ends
    assert response.media_type == "text/event-stream" and response.headers["x-tuneway-prompt"] == "hr"
    assert response.headers["cache-control"] == "no-cache"
    events = [event async for event in response.body_iterator]
    assert events[-1] == b"data: [DONE]\n\n"
    first = orjson.loads(events[0].removeprefix(b"data: "))
    assert first["tuneway"]["assistant"] == "hr-3" and "Search" not in retriever.requests
    event = recorded.event()
    assert (event.streamed, event.status, event.completion_tokens, event.finish_reason) == (
        True,
        "ok",
        2,
        "stop",
    )


class FailingEngine:
    """An inference stand-in that refuses the model, as the engine does for an unknown one."""

    async def generate(self, request: ipb.GenerateRequest) -> AsyncIterator[ipb.GenerateResponse]:
        raise NotFoundError(
            f"The model `{request.model}` does not exist.", param="model", code="model_not_found"
        )
        yield ipb.GenerateResponse()  # pragma: no cover - makes this an async generator


async def test_a_failure_is_recorded_with_its_code_and_status() -> None:
    body, recorded = _body("nope"), Recorded()
    with pytest.raises(NotFoundError):
        await complete(
            body,
            "acme",
            "chatcmpl-5",
            FailingEngine(),
            Service(),
            Service(),
            recorded.recorder(body, "chatcmpl-5"),
        )
    event = recorded.event()
    assert (event.status, event.error_code, event.http_status, event.kind) == (
        "error",
        "model_not_found",
        404,
        "base",
    )


async def test_a_stream_the_client_leaves_is_recorded_as_closed() -> None:
    engine, prompts, retriever, recorded = Engine(), _assistant("hr-4", []), Service(), Recorded()
    body = _body("assistant:hr-4", stream=True)
    response = await complete(
        body, "acme", "chatcmpl-6", engine, prompts, retriever, recorded.recorder(body, "chatcmpl-6")
    )
    events = response.body_iterator
    await anext(events)  # the role chunk, then the client goes away
    await events.aclose()  # type: ignore[attr-defined]
    event = recorded.event()
    assert (event.status, event.error_code, event.http_status) == ("error", "client_closed_request", 499)
