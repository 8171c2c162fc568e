"""gRPC InferenceService: converts between protobuf and the domain service; no logic here."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing

import grpc

from tuneway.api.inference.v1 import inference_pb2 as pb
from tuneway.api.inference.v1 import inference_pb2_grpc
from tuneway.inference.adapters import AdapterSet
from tuneway.inference.logprobs import TokenLogprob
from tuneway.inference.multiplex import GenerationMultiplexer
from tuneway.inference.service import (
    ChatTurn,
    GenerationChunk,
    GenerationRequest,
    InferenceService,
    RawPrompt,
    Sampling,
)
from tuneway.inference.tools import FunctionTool, ToolCall, ToolChoice, Tools


def _turn(m: pb.ChatMessage) -> ChatTurn:
    return ChatTurn(
        m.role,
        m.content,
        m.name,
        tool_calls=tuple(ToolCall(c.id, c.name, c.arguments) for c in m.tool_calls),
        tool_call_id=m.tool_call_id,
    )


def _tools(message: pb.GenerateRequest) -> Tools:
    return Tools(
        functions=tuple(FunctionTool(t.name, t.description, t.parameters, t.strict) for t in message.tools),
        choice=ToolChoice(message.tool_choice.mode, message.tool_choice.function_name),
        parallel=message.parallel_tool_calls if message.HasField("parallel_tool_calls") else True,
    )


def _request_from_proto(message: pb.GenerateRequest) -> GenerationRequest:
    p = message.params
    return GenerationRequest(
        tenant_id=message.tenant_id,
        model=message.model,
        messages=tuple(_turn(m) for m in message.messages),
        sampling=Sampling(
            temperature=p.temperature if p.HasField("temperature") else None,
            top_p=p.top_p if p.HasField("top_p") else None,
            max_tokens=p.max_tokens if p.HasField("max_tokens") else None,
            stop=tuple(p.stop),
            seed=p.seed if p.HasField("seed") else None,
            ignore_eos=p.ignore_eos,
            presence_penalty=p.presence_penalty if p.HasField("presence_penalty") else None,
            frequency_penalty=p.frequency_penalty if p.HasField("frequency_penalty") else None,
            n=p.n or 1,
            logprobs=p.logprobs if p.HasField("logprobs") else None,
            prompt_logprobs=p.prompt_logprobs if p.HasField("prompt_logprobs") else None,
            logit_bias=tuple(sorted(p.logit_bias.items())),
        ),
        request_id=message.request_id,
        response_format=message.response_format.type or "text",
        json_schema=message.response_format.json_schema,
        tools=_tools(message),
        stream=message.stream,
        priority=message.priority,
        raw_prompt=_raw_prompt(message),
    )


def _raw_prompt(message: pb.GenerateRequest) -> RawPrompt | None:
    if not message.HasField("raw_prompt"):
        return None
    raw = message.raw_prompt
    return RawPrompt(text=raw.text, token_ids=tuple(raw.token_ids), echo=raw.echo)


def _logprobs(tokens: tuple[TokenLogprob, ...]) -> list[pb.TokenLogprob]:
    return [
        pb.TokenLogprob(
            token=t.token,
            logprob=t.logprob,
            top=[pb.TopLogprob(token=token, logprob=logprob) for token, logprob in t.top],
        )
        for t in tokens
    ]


def _response(chunk: GenerationChunk) -> pb.GenerateResponse:
    calls = [
        pb.ToolCallDelta(index=c.index, id=c.id, name=c.name, arguments=c.arguments) for c in chunk.tool_calls
    ]
    response = pb.GenerateResponse(
        text_delta=chunk.text,
        finish_reason=chunk.finish_reason or "",
        tool_calls=calls,
        index=chunk.index,
        logprobs=_logprobs(chunk.logprobs),
    )
    if chunk.prompt is not None:
        response.prompt.text = chunk.prompt.text
        response.prompt.tokens.extend(_logprobs(chunk.prompt.tokens))
    if chunk.last:
        response.usage.prompt_tokens = chunk.prompt_tokens
        response.usage.completion_tokens = chunk.completion_tokens
    return response


class InferenceServicer(inference_pb2_grpc.InferenceServiceServicer):
    """Serves Generate, StreamGenerations, ListModels and ListAdapters."""

    def __init__(self, service: InferenceService, adapters: AdapterSet) -> None:
        self._service = service
        self._adapters = adapters
        self._streams: set[GenerationMultiplexer] = set()
        self._draining = False

    def drain(self) -> None:
        """Ends every StreamGenerations stream once its calls have ended; new streams end at once."""
        self._draining = True
        for stream in self._streams:
            stream.drain()

    async def Generate(
        self, request: pb.GenerateRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.GenerateResponse]:
        # aclosing: when the call is cancelled the service's stream is closed now, which aborts the
        # engine request, rather than whenever the garbage collector finds the suspended generator.
        async with aclosing(self._generate(request)) as responses:
            async for response in responses:
                yield response

    async def StreamGenerations(
        self,
        request_iterator: AsyncIterator[pb.StreamGenerationsRequest],
        context: grpc.aio.ServicerContext,
    ) -> None:
        stream = GenerationMultiplexer(self._generate)
        if self._draining:
            stream.drain()
        self._streams.add(stream)
        try:
            await stream.serve(request_iterator, context.write)
        finally:
            self._streams.discard(stream)

    async def _generate(self, request: pb.GenerateRequest) -> AsyncGenerator[pb.GenerateResponse, None]:
        async with aclosing(self._service.generate(_request_from_proto(request))) as chunks:
            async for chunk in chunks:
                yield _response(chunk)

    async def ListModels(
        self, request: pb.ListModelsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListModelsResponse:
        return pb.ListModelsResponse(
            models=[
                pb.ModelInfo(
                    id=m.id,
                    kind=m.kind,
                    base_model=m.base_model,
                    tenant_id=m.tenant_id,
                    created_at=m.created_at,
                )
                for m in self._service.list_models(request.tenant_id)
            ]
        )

    async def ListAdapters(
        self, request: pb.ListAdaptersRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListAdaptersResponse:
        return pb.ListAdaptersResponse(
            adapters=[
                pb.LoadedAdapter(
                    key=a.key,
                    model=a.model,
                    tenant_id=a.tenant_id,
                    base_model=a.base_model,
                    sha256=a.sha256,
                    loaded_at=a.loaded_at,
                )
                for a in self._adapters.all()
            ]
        )
