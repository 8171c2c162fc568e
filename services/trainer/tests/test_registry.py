"""The adapter registry over gRPC after real training: versions, aliases, rollback, retirement, tenants.

Two jobs of one family are trained by a real worker process; every alias move is checked in the real
ADAPTERS bucket, since that key (not the database row) is what inference replicas serve.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import grpc
import pytest

from tuneway.api.trainer.v1 import trainer_pb2 as pb
from tuneway.core.artifacts import directory_sha256, local_path

pytestmark = pytest.mark.integration
FAMILY = "shop"


async def assert_serves(adapter_registration: Any, key: str, model: str, version: pb.AdapterVersion) -> None:
    """The KV key makes replicas serve `version`'s artifact under the name `model`."""
    registration = await adapter_registration(key)
    assert registration is not None, f"{key} is not in ADAPTERS"
    assert (
        registration.model,
        registration.tenant_id,
        registration.base_model,
        registration.artifact_uri,
        registration.sha256,
        registration.job_id,
    ) == (
        model,
        version.tenant_id,
        version.base_model,
        version.artifact_uri,
        version.sha256,
        version.job_id,
    )


async def test_versions_aliases_rollback_retirement_and_tenants(
    trainer: Any, tenant: str, chat_lines: Callable[..., bytes], adapter_registration: Any, rpc_error: Any
) -> None:
    stub = trainer.stub
    # Twelve short examples and large batches: a few optimizer steps per job, so two jobs train quickly.
    dataset = (await trainer.register(tenant, chat_lines(12), "support.jsonl")).dataset
    file_id, dataset_sha = dataset.file_id, dataset.sha256
    trainer.start_worker()
    created = []
    for seed, batch_size, multiplier in ((11, 4, 1.0), (12, 6, 2.0)):
        request = pb.CreateJobRequest(
            tenant_id=tenant,
            training_file=file_id,
            suffix=FAMILY,
            seed=seed,
            hyperparameters=pb.Hyperparameters(
                n_epochs=1, batch_size=batch_size, learning_rate_multiplier=multiplier
            ),
        )
        created.append((await stub.CreateJob(request)).job)
    jobs = {}
    for job in created:
        done = await trainer.wait_job(tenant, job.id, ("succeeded", "failed", "cancelled"))
        assert done.status == "succeeded", done.error
        jobs[done.id] = done

    # ------------------------------------------------------------ each version records its lineage
    listed = (
        await stub.ListAdapterVersions(pb.ListAdapterVersionsRequest(tenant_id=tenant, name=FAMILY))
    ).versions
    assert [v.version for v in listed] == [1, 2]  # numbered within the family, by the order they finished
    assert {v.job_id for v in listed} == set(jobs)
    for version in listed:
        job = jobs[version.job_id]
        got = (
            await stub.GetAdapterVersion(pb.GetAdapterVersionRequest(tenant_id=tenant, model=version.model))
        ).version
        assert got == version
        assert version.model == job.fine_tuned_model == f"ft:tuneway-tiny:{tenant}:{FAMILY}:{job.id}"
        assert (version.tenant_id, version.name, version.base_model, version.status) == (
            tenant,
            FAMILY,
            "tuneway-tiny",
            "active",
        )
        assert version.dataset_sha256 == dataset_sha
        settings = json.loads(version.hyperparameters_json)
        assert settings["n_epochs"] == 1 and settings["seed"] == job.seed
        assert settings["learning_rate_multiplier"] == job.hyperparameters.learning_rate_multiplier
        # The batch size the run used (4 or 6), not one re-derived from a dummy dataset size.
        assert settings["batch_size"] == job.hyperparameters.batch_size in (4, 6)
        assert settings["lora"]["rank"] == 64
        assert version.metrics["trained_tokens"] == job.trained_tokens > 0
        assert version.metrics["steps"] == job.validation_report.estimated_steps
        assert version.metrics["train_loss"] > 0
        assert version.artifact_uri.startswith("file://")
        assert version.sha256 == directory_sha256(local_path(version.artifact_uri))
        await assert_serves(adapter_registration, f"{tenant}.{job.id}", version.model, version)
    v1, v2 = listed
    # Per-job settings, not one shared record: the second job asked for twice the learning rate.
    rates = {
        json.loads(v.hyperparameters_json)["batch_size"]: json.loads(v.hyperparameters_json)["learning_rate"]
        for v in (v1, v2)
    }
    assert rates[6] == pytest.approx(2 * rates[4])
    assert v1.sha256 != v2.sha256 and v1.artifact_uri != v2.artifact_uri
    assert not (
        await stub.ListAdapterVersions(pb.ListAdapterVersionsRequest(tenant_id=tenant, name="other"))
    ).versions

    # ------------------------------------------------------------ aliases move, remember, roll back
    alias_model = f"ft:tuneway-tiny:{tenant}:support"
    alias_key = f"{tenant}.alias.support"
    bad = await rpc_error(
        stub.SetAdapterAlias(pb.SetAdapterAliasRequest(tenant_id=tenant, alias="Not OK", target=v1.model))
    )
    assert (bad.grpc_code, bad.param) == (grpc.StatusCode.INVALID_ARGUMENT, "alias")
    missing = await rpc_error(
        stub.SetAdapterAlias(
            pb.SetAdapterAliasRequest(tenant_id=tenant, alias="support", target=v1.model + "x")
        )
    )
    assert missing.grpc_code == grpc.StatusCode.NOT_FOUND
    assert await adapter_registration(alias_key) is None

    alias = (
        await stub.SetAdapterAlias(
            pb.SetAdapterAliasRequest(tenant_id=tenant, alias="support", target=v1.model)
        )
    ).alias
    assert (alias.model, alias.target, list(alias.history)) == (alias_model, v1.model, [])
    await assert_serves(adapter_registration, alias_key, alias_model, v1)
    alias = (
        await stub.SetAdapterAlias(
            pb.SetAdapterAliasRequest(tenant_id=tenant, alias="support", target=v2.model)
        )
    ).alias
    assert (alias.target, list(alias.history)) == (v2.model, [v1.model])
    await assert_serves(adapter_registration, alias_key, alias_model, v2)

    # A version an alias serves cannot be retired: the alias would silently serve nothing.
    refused = await rpc_error(
        stub.RetireAdapterVersion(pb.RetireAdapterVersionRequest(tenant_id=tenant, model=v2.model))
    )
    assert (refused.grpc_code, refused.param) == (grpc.StatusCode.FAILED_PRECONDITION, "model")
    assert "support" in refused.message
    await assert_serves(adapter_registration, f"{tenant}.{v2.job_id}", v2.model, v2)
    still = (
        await stub.GetAdapterVersion(pb.GetAdapterVersionRequest(tenant_id=tenant, model=v2.model))
    ).version
    assert still.status == "active"

    alias = (
        await stub.RollbackAdapterAlias(pb.RollbackAdapterAliasRequest(tenant_id=tenant, alias="support"))
    ).alias
    assert (alias.model, alias.target, list(alias.history)) == (alias_model, v1.model, [])
    await assert_serves(adapter_registration, alias_key, alias_model, v1)
    empty = await rpc_error(
        stub.RollbackAdapterAlias(pb.RollbackAdapterAliasRequest(tenant_id=tenant, alias="support"))
    )
    assert (empty.grpc_code, empty.param) == (grpc.StatusCode.FAILED_PRECONDITION, "alias")
    await assert_serves(adapter_registration, alias_key, alias_model, v1)

    # `canary` pointed at v2 before v1: v2 is only in its history, which does not block retirement.
    for target in (v2.model, v1.model):
        await stub.SetAdapterAlias(pb.SetAdapterAliasRequest(tenant_id=tenant, alias="canary", target=target))
    aliases = (await stub.ListAdapterAliases(pb.ListAdapterAliasesRequest(tenant_id=tenant))).aliases
    assert [(a.alias, a.target, list(a.history)) for a in aliases] == [
        ("canary", v1.model, [v2.model]),
        ("support", v1.model, []),
    ]
    assert all(a.tenant_id == tenant and a.updated_at > 0 for a in aliases)

    # ------------------------------------------------------------ retirement unloads the version
    retired = (
        await stub.RetireAdapterVersion(pb.RetireAdapterVersionRequest(tenant_id=tenant, model=v2.model))
    ).version
    assert (retired.model, retired.status) == (v2.model, "retired")
    assert await adapter_registration(f"{tenant}.{v2.job_id}") is None
    await assert_serves(adapter_registration, f"{tenant}.{v1.job_id}", v1.model, v1)
    again = (
        await stub.RetireAdapterVersion(pb.RetireAdapterVersionRequest(tenant_id=tenant, model=v2.model))
    ).version
    assert again.status == "retired"  # idempotent
    active = (await stub.ListAdapterVersions(pb.ListAdapterVersionsRequest(tenant_id=tenant))).versions
    assert [v.model for v in active] == [v1.model]
    everything = (
        await stub.ListAdapterVersions(pb.ListAdapterVersionsRequest(tenant_id=tenant, include_retired=True))
    ).versions
    assert [(v.model, v.status) for v in everything] == [(v1.model, "active"), (v2.model, "retired")]

    # A retired version is never served again, neither by a new alias target nor by a rollback.
    error = await rpc_error(
        stub.SetAdapterAlias(pb.SetAdapterAliasRequest(tenant_id=tenant, alias="support", target=v2.model))
    )
    assert (error.grpc_code, error.param) == (grpc.StatusCode.FAILED_PRECONDITION, "target")
    error = await rpc_error(
        stub.RollbackAdapterAlias(pb.RollbackAdapterAliasRequest(tenant_id=tenant, alias="canary"))
    )
    assert (error.grpc_code, error.param) == (grpc.StatusCode.FAILED_PRECONDITION, "alias")
    assert "retired" in error.message
    await assert_serves(adapter_registration, alias_key, alias_model, v1)
    await assert_serves(
        adapter_registration, f"{tenant}.alias.canary", f"ft:tuneway-tiny:{tenant}:canary", v1
    )
    aliases = (await stub.ListAdapterAliases(pb.ListAdapterAliasesRequest(tenant_id=tenant))).aliases
    assert [(a.alias, a.target, list(a.history)) for a in aliases] == [
        ("canary", v1.model, [v2.model]),
        ("support", v1.model, []),
    ]

    # ------------------------------------------------------------ another tenant sees and moves nothing
    other = f"o-{uuid.uuid4().hex[:10]}"
    assert not (
        await stub.ListAdapterVersions(pb.ListAdapterVersionsRequest(tenant_id=other, include_retired=True))
    ).versions
    assert not (await stub.ListAdapterAliases(pb.ListAdapterAliasesRequest(tenant_id=other))).aliases
    for call in (
        stub.GetAdapterVersion(pb.GetAdapterVersionRequest(tenant_id=other, model=v1.model)),
        stub.RetireAdapterVersion(pb.RetireAdapterVersionRequest(tenant_id=other, model=v1.model)),
        stub.SetAdapterAlias(pb.SetAdapterAliasRequest(tenant_id=other, alias="support", target=v1.model)),
        stub.RollbackAdapterAlias(pb.RollbackAdapterAliasRequest(tenant_id=other, alias="support")),
        stub.DeleteAdapterAlias(pb.DeleteAdapterAliasRequest(tenant_id=other, alias="support")),
    ):
        assert (await rpc_error(call)).grpc_code == grpc.StatusCode.NOT_FOUND
    assert await adapter_registration(f"{other}.alias.support") is None
    await assert_serves(adapter_registration, f"{tenant}.{v1.job_id}", v1.model, v1)
    await assert_serves(adapter_registration, alias_key, alias_model, v1)
    kept = (
        await stub.GetAdapterVersion(pb.GetAdapterVersionRequest(tenant_id=tenant, model=v1.model))
    ).version
    assert kept.status == "active"

    # ------------------------------------------------------------ deleting an alias keeps its versions
    await stub.DeleteAdapterAlias(pb.DeleteAdapterAliasRequest(tenant_id=tenant, alias="support"))
    assert await adapter_registration(alias_key) is None
    await assert_serves(adapter_registration, f"{tenant}.{v1.job_id}", v1.model, v1)
    aliases = (await stub.ListAdapterAliases(pb.ListAdapterAliasesRequest(tenant_id=tenant))).aliases
    assert [a.alias for a in aliases] == ["canary"]
    gone = await rpc_error(
        stub.DeleteAdapterAlias(pb.DeleteAdapterAliasRequest(tenant_id=tenant, alias="support"))
    )
    assert (gone.grpc_code, gone.param) == (grpc.StatusCode.NOT_FOUND, "alias")
    # The freed name can be set again, and starts without history.
    alias = (
        await stub.SetAdapterAlias(
            pb.SetAdapterAliasRequest(tenant_id=tenant, alias="support", target=v1.model)
        )
    ).alias
    assert list(alias.history) == []
    await assert_serves(adapter_registration, alias_key, alias_model, v1)
