"""The models a tenant may call: the listing survives a prompt-service outage, and the callable check
names the first parameter whose model the tenant cannot use."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from tuneway.api.inference.v1 import inference_pb2 as pb
from tuneway.api.prompt.v1 import prompt_pb2 as ppb
from tuneway.core.errors import InvalidArgumentError, UnavailableError
from tuneway.gateway.models.catalog import all_models, require_callable


class Service:
    """A client stand-in: `stub.<Method>` is the method's name; `call` answers, or raises, from `answers`."""

    def __init__(self, **answers: Any) -> None:
        self.stub = SimpleNamespace(**{name: name for name in answers})
        self.answers = answers
        self.calls: list[str] = []

    async def call(self, method: str, request: Any) -> Any:
        self.calls.append(method)
        answer = self.answers[method]
        if isinstance(answer, Exception):
            raise answer
        return answer


def _engine(*ids: str) -> Service:
    return Service(ListModels=pb.ListModelsResponse(models=[pb.ModelInfo(id=i) for i in ids]))


async def test_models_then_assistants_and_only_models_without_the_prompt_service() -> None:
    assistants = Service(ListAssistants=ppb.ListAssistantsResponse(assistants=[ppb.Assistant(name="hr")]))
    models, found = await all_models(_engine("base"), assistants, "acme")
    assert [m.id for m in models] == ["base"] and [a.name for a in found] == ["hr"]
    down = Service(ListAssistants=UnavailableError("down"))
    models, found = await all_models(_engine("base"), down, "acme")
    assert [m.id for m in models] == ["base"] and found == []


async def test_require_callable_names_the_first_unknown_model_and_asks_only_when_needed() -> None:
    engine = _engine("base", "ft:base:acme:a:1")
    await require_callable(engine, "acme", {"base_model": None, "adapter": None})
    assert engine.calls == []
    await require_callable(engine, "acme", {"base_model": "base", "adapter": "ft:base:acme:a:1"})
    with pytest.raises(InvalidArgumentError) as caught:
        await require_callable(
            engine, "acme", {"variants[0].model": None, "variants[1].model": "gpt-9", "x": "y"}
        )
    assert (caught.value.param, caught.value.code) == ("variants[1].model", "model_not_found")
    assert caught.value.message == "The model `gpt-9` does not exist or you do not have access to it."
    # An empty name is a name: it is checked (and refused), unlike a parameter that was not given.
    with pytest.raises(InvalidArgumentError):
        await require_callable(engine, "acme", {"base_model": ""})
