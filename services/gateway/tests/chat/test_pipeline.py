"""The chat pipeline's steps in order, with stand-ins for the services behind the gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import orjson

from tuneway.api.inference.v1 import inference_pb2 as ipb
from tuneway.api.prompt.v1 import prompt_pb2 as ppb
from tuneway.api.retriever.v1 import retriever_pb2 as rpb
from tuneway.gateway.chat.pipeline import complete
from tuneway.gateway.chat.schemas import ChatCompletionRequest
from tuneway.gateway.knowledge.retrieval import NO_ANSWER


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
    engine, prompts, retriever = Engine(), Service(), Service()
    response = await complete(
        _body("base", temperature=0.5), "acme", "chatcmpl-1", engine, prompts, retriever
    )
    body = orjson.loads(response.body)
    assert body["choices"][0]["message"]["content"] == "Hello" and "tuneway" not in body
    assert "x-tuneway-prompt" not in response.headers
    [request] = engine.requests
    assert (request.model, request.tenant_id, request.params.temperature) == ("base", "acme", 0.5)
    assert prompts.requests == {} and retriever.requests == {}


async def test_an_assistant_retrieves_renders_then_generates() -> None:
    engine, prompts = Engine(), _assistant("hr-1", ["kb_1"])
    hit = rpb.SearchHit(
        document_id="doc_1", knowledge_base_id="kb_1", title="Leave", text="27 days.", score=0.8
    )
    retriever = Service(Search=rpb.SearchResponse(hits=[hit]))
    body = _body("assistant:hr-1", max_tokens=4, variables={"team": "ops"}, metadata={"language": "de"})
    response = await complete(body, "acme", "chatcmpl-2", engine, prompts, retriever)

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


async def test_an_assistant_whose_knowledge_has_nothing_says_so_without_the_engine() -> None:
    engine, prompts, retriever = Engine(), _assistant("hr-2", ["kb_1"]), Service(Search=rpb.SearchResponse())
    response = await complete(_body("assistant:hr-2"), "acme", "chatcmpl-3", engine, prompts, retriever)
    body = orjson.loads(response.body)
    assert body["choices"][0]["message"]["content"] == NO_ANSWER and body["tuneway"]["sources"] == []
    assert engine.requests == []


async def test_a_stream_is_server_sent_events_with_the_assistant_headers() -> None:
    engine, prompts, retriever = Engine(), _assistant("hr-3", []), Service()
    body = _body("assistant:hr-3", stream=True, stream_options={"include_usage": True})
    response = await complete(body, "acme", "chatcmpl-4", engine, prompts, retriever)
    assert response.media_type == "text/event-stream" and response.headers["x-tuneway-prompt"] == "hr"
    assert response.headers["cache-control"] == "no-cache"
    events = [event async for event in response.body_iterator]
    assert events[-1] == b"data: [DONE]\n\n"
    first = orjson.loads(events[0].removeprefix(b"data: "))
    assert first["tuneway"]["assistant"] == "hr-3" and "Search" not in retriever.requests
