"""Experiments over gRPC: sticky weighted assignment on every replica, lifecycle and promotion."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import pytest

from tuneway.api.prompt.v1 import prompt_pb2 as pb
from tuneway.core.errors import FailedPreconditionError, InvalidArgumentError, NotFoundError

pytestmark = pytest.mark.integration
USERS = [f"user-{i}" for i in range(400)]


def _version(text: str) -> pb.PromptSpec:
    return pb.PromptSpec(messages=[pb.MessageTemplate(role="system", content=text)])


async def _setup(stub: Any, tenant: str, weights: tuple[float, float] = (1, 1)) -> pb.Experiment:
    await stub.CreatePrompt(
        pb.CreatePromptRequest(tenant_id=tenant, name="greeter", spec=_version("Version A"))
    )
    await stub.CreatePromptVersion(
        pb.CreatePromptVersionRequest(tenant_id=tenant, prompt="greeter", spec=_version("Version B"))
    )
    await stub.CreateAssistant(
        pb.CreateAssistantRequest(
            tenant_id=tenant,
            assistant=pb.Assistant(name="greeter", base_model="tuneway-tiny", prompt="greeter"),
        )
    )
    created = await stub.CreateExperiment(
        pb.CreateExperimentRequest(
            tenant_id=tenant,
            name="shorter greeting",
            prompt="greeter",
            variants=[
                pb.ExperimentVariant(name="control", version=1, weight=weights[0]),
                pb.ExperimentVariant(
                    name="candidate", version=2, weight=weights[1], model="ft:tuneway-tiny:x:y:1"
                ),
            ],
        )
    )
    return created.experiment


def _render(tenant: str, user: str = "", conversation: str = "") -> pb.RenderPromptRequest:
    return pb.RenderPromptRequest(
        tenant_id=tenant,
        assistant="greeter",
        user=user,
        conversation_id=conversation,
        messages=[pb.ChatMessage(role="user", content="hi")],
    )


def _bounds(n: int, p: float, z: float = 3.29) -> tuple[float, float]:
    """The 99.9% normal-approximation interval of a binomial count."""
    sd = math.sqrt(n * p * (1 - p))
    return n * p - z * sd, n * p + z * sd


async def test_users_split_within_binomial_bounds_and_stick_on_every_replica(
    start_replica: Any, tenant: str
) -> None:
    one, two = await start_replica(), await start_replica()
    experiment = await _setup(one, tenant)
    assert (experiment.status, experiment.label) == ("draft", "production")
    # A draft experiment does not split traffic.
    assert (await one.RenderPrompt(_render(tenant, "user-0"))).experiment_id == ""

    started = await one.SetExperimentStatus(
        pb.SetExperimentStatusRequest(tenant_id=tenant, id=experiment.id, status="running")
    )
    assert started.experiment.status == "running" and started.experiment.started_at > 0

    first = {}
    for user in USERS:
        result = await one.RenderPrompt(_render(tenant, user))
        assert result.experiment_id == experiment.id
        first[user] = (result.experiment_variant, result.version, result.model)
    counts = Counter(variant for variant, _, _ in first.values())
    low, high = _bounds(len(USERS), 0.5)
    assert low <= counts["control"] <= high, counts
    assert {v: (n, m) for v, n, m in first.values()} == {
        "control": (1, "tuneway-tiny"),
        "candidate": (2, "ft:tuneway-tiny:x:y:1"),
    }
    # Sticky: the same user gets the same variant again, from the other replica too.
    for user in USERS[:100]:
        assert (await one.RenderPrompt(_render(tenant, user))).experiment_variant == first[user][0]
        assert (await two.RenderPrompt(_render(tenant, user))).experiment_variant == first[user][0]
    # Without a user, the conversation id is the unit.
    by_conversation = {
        (await two.RenderPrompt(_render(tenant, conversation="c-42"))).experiment_variant for _ in range(5)
    }
    assert len(by_conversation) == 1


async def test_weights_shape_the_split(stub: Any, tenant: str) -> None:
    experiment = await _setup(stub, tenant, weights=(9, 1))
    await stub.SetExperimentStatus(
        pb.SetExperimentStatusRequest(tenant_id=tenant, id=experiment.id, status="running")
    )
    counts = Counter([(await stub.RenderPrompt(_render(tenant, user))).experiment_variant for user in USERS])
    low, high = _bounds(len(USERS), 0.1)
    assert low <= counts["candidate"] <= high, counts


async def test_lifecycle_and_promotion(stub: Any, tenant: str, rpc_error: Any) -> None:
    experiment = await _setup(stub, tenant)

    async def status(value: str) -> Any:
        return stub.SetExperimentStatus(
            pb.SetExperimentStatusRequest(tenant_id=tenant, id=experiment.id, status=value)
        )

    error = await rpc_error(await status("paused"))
    assert isinstance(error, FailedPreconditionError) and error.code == "invalid_status_transition"
    error = await rpc_error(await status("archived"))
    assert isinstance(error, InvalidArgumentError) and error.param == "status"
    error = await rpc_error(
        stub.PromoteExperimentVariant(
            pb.PromoteExperimentVariantRequest(tenant_id=tenant, id=experiment.id, variant="candidate")
        )
    )
    assert isinstance(error, FailedPreconditionError)

    await (await status("running"))
    # A second experiment on the same label cannot run at the same time.
    rival = await stub.CreateExperiment(
        pb.CreateExperimentRequest(
            tenant_id=tenant,
            name="rival",
            prompt="greeter",
            variants=[pb.ExperimentVariant(name="a", version=1), pb.ExperimentVariant(name="b", version=2)],
        )
    )
    assert rival.experiment.variants[0].weight == 1.0
    error = await rpc_error(
        stub.SetExperimentStatus(
            pb.SetExperimentStatusRequest(tenant_id=tenant, id=rival.experiment.id, status="running")
        )
    )
    assert isinstance(error, FailedPreconditionError) and error.code == "experiment_conflict"
    error = await rpc_error(
        stub.DeleteExperiment(pb.DeleteExperimentRequest(tenant_id=tenant, id=experiment.id))
    )
    assert error.code == "experiment_running"

    # Paused: traffic goes back to the label.
    await (await status("paused"))
    paused = await stub.RenderPrompt(_render(tenant, "user-1"))
    assert (paused.experiment_id, paused.version) == ("", 1)
    await (await status("running"))

    promoted = await stub.PromoteExperimentVariant(
        pb.PromoteExperimentVariantRequest(tenant_id=tenant, id=experiment.id, variant="candidate")
    )
    assert (promoted.experiment.status, promoted.experiment.winner) == ("completed", "candidate")
    assert promoted.experiment.ended_at > 0
    assert promoted.prompt.labels["production"] == 2
    served = await stub.RenderPrompt(_render(tenant, "user-1"))
    assert (served.experiment_id, served.version) == ("", 2)
    error = await rpc_error(await status("running"))
    assert isinstance(error, FailedPreconditionError)

    listed = await stub.ListExperiments(pb.ListExperimentsRequest(tenant_id=tenant, status="completed"))
    assert [e.id for e in listed.experiments] == [experiment.id]
    assert listed.experiments[0].prompt_name == "greeter"
    await stub.DeleteExperiment(pb.DeleteExperimentRequest(tenant_id=tenant, id=experiment.id))
    error = await rpc_error(stub.GetExperiment(pb.GetExperimentRequest(tenant_id=tenant, id=experiment.id)))
    assert isinstance(error, NotFoundError)


async def test_invalid_experiments_and_isolation(stub: Any, tenant: str, rpc_error: Any) -> None:
    experiment = await _setup(stub, tenant)

    def create(*variants: pb.ExperimentVariant) -> Any:
        return stub.CreateExperiment(
            pb.CreateExperimentRequest(tenant_id=tenant, name="x", prompt="greeter", variants=list(variants))
        )

    error = await rpc_error(create(pb.ExperimentVariant(name="only", version=1)))
    assert error.param == "variants"
    error = await rpc_error(
        create(pb.ExperimentVariant(name="a", version=1), pb.ExperimentVariant(name="b", version=9))
    )
    assert isinstance(error, NotFoundError) and error.param == "variants[1].version"
    error = await rpc_error(
        create(
            pb.ExperimentVariant(name="a", version=1), pb.ExperimentVariant(name="b", version=2, weight=-1)
        )
    )
    assert error.param == "variants[1].weight"
    error = await rpc_error(
        create(pb.ExperimentVariant(name="a", version=1), pb.ExperimentVariant(name="a", version=2))
    )
    assert error.param == "variants[1].name"

    other = tenant + "-other"
    error = await rpc_error(stub.GetExperiment(pb.GetExperimentRequest(tenant_id=other, id=experiment.id)))
    assert isinstance(error, NotFoundError)
    error = await rpc_error(
        stub.SetExperimentStatus(
            pb.SetExperimentStatusRequest(tenant_id=other, id=experiment.id, status="running")
        )
    )
    assert isinstance(error, NotFoundError)
    assert not (await stub.ListExperiments(pb.ListExperimentsRequest(tenant_id=other))).experiments
