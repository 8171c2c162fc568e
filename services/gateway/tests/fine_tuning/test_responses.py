"""Trainer messages -> OpenAI objects that the OpenAI SDK's own models validate; request bodies -> proto."""

from __future__ import annotations

import pytest
from openai.types.fine_tuning import FineTuningJob, FineTuningJobEvent
from openai.types.fine_tuning.jobs import FineTuningJobCheckpoint
from pydantic import ValidationError

from tuneway.api.trainer.v1 import trainer_pb2 as pb
from tuneway.core.errors import InvalidArgumentError
from tuneway.gateway.fine_tuning.responses import checkpoint_object, event_object, job_object
from tuneway.gateway.fine_tuning.schemas import CreateJob, CreateSchedule


def _job(**fields: object) -> pb.Job:
    base: dict[str, object] = {
        "id": "ftjob-" + "a" * 24,
        "tenant_id": "acme",
        "model": "tuneway-tiny",
        "status": "queued",
        "training_file": "file-" + "b" * 24,
        "created_at": 1700000000,
        "seed": 7,
        "method": "supervised",
    }
    return pb.Job(**{**base, **fields})  # type: ignore[arg-type]


def test_a_queued_job_is_openais_job_with_auto_hyperparameters() -> None:
    body = job_object(_job(suffix="support", estimated_finish=1700000100))
    parsed = FineTuningJob.model_validate(body)
    assert parsed.hyperparameters.n_epochs == "auto" and parsed.organization_id == "acme"
    assert body["fine_tuned_model"] is None and body["finished_at"] is None and body["error"] is None
    assert body["trained_tokens"] is None and body["validation_file"] is None
    assert body["estimated_finish"] == 1700000100
    assert body["method"] == {
        "type": "supervised",
        "supervised": {
            "hyperparameters": {"batch_size": "auto", "learning_rate_multiplier": "auto", "n_epochs": "auto"}
        },
    }
    assert body["user_provided_suffix"] == "support" and body["validation_report"] is None


def test_finished_jobs_carry_resolved_numbers_errors_and_reports() -> None:
    succeeded = _job(
        status="succeeded",
        fine_tuned_model="ft:tuneway-tiny:acme:support:ftjob-" + "a" * 24,
        finished_at=1700000200,
        trained_tokens=12345,
        hyperparameters=pb.Hyperparameters(n_epochs=3, batch_size=4, learning_rate_multiplier=2.0),
        lora=pb.LoraConfig(rank=8, alpha=16, target_modules=["q_proj"], dropout=0.0),
        validation_report=pb.ValidationReport(format="chat", ok=True, examples=40),
        attempts=1,
    )
    parsed = FineTuningJob.model_validate(job_object(succeeded))
    assert (parsed.hyperparameters.n_epochs, parsed.hyperparameters.batch_size) == (3, 4)
    assert parsed.trained_tokens == 12345 and parsed.finished_at == 1700000200
    body = job_object(succeeded)
    assert body["lora"] == {"rank": 8, "alpha": 16, "target_modules": ["q_proj"], "dropout": 0.0}
    assert body["validation_report"]["examples"] == 40 and body["attempts"] == 1

    failed = _job(
        status="failed",
        finished_at=1700000200,
        error=pb.JobError(
            code="invalid_training_file", message="line 3: no assistant message", param="training_file"
        ),
    )
    parsed = FineTuningJob.model_validate(job_object(failed))
    assert parsed.error is not None and parsed.error.param == "training_file"
    assert job_object(failed)["fine_tuned_model"] is None


def test_events_and_checkpoints_validate_as_the_sdks_models() -> None:
    metrics = pb.JobEvent(
        id="ftevent-1",
        job_id="ftjob-x",
        created_at=1,
        level="info",
        message="Step 10/40: training loss=1.20",
        type="metrics",
        data_json='{"step": 10, "total_steps": 40, "train_loss": 1.2, "learning_rate": 0.001}',
        seq=3,
    )
    event = FineTuningJobEvent.model_validate(event_object(metrics))
    assert event.type == "metrics" and event.data == {
        "step": 10,
        "total_steps": 40,
        "train_loss": 1.2,
        "learning_rate": 0.001,
    }
    plain = FineTuningJobEvent.model_validate(event_object(pb.JobEvent(id="ftevent-2", message="queued")))
    assert plain.level == "info" and plain.type == "message" and plain.data is None

    checkpoint = pb.Checkpoint(
        id="ftckpt-1",
        job_id="ftjob-x",
        created_at=2,
        step_number=20,
        metrics={"train_loss": 0.5},
        fine_tuned_model_checkpoint="ft:tuneway-tiny:acme:support:ftjob-x:ckpt-step-20",
    )
    parsed = FineTuningJobCheckpoint.model_validate(checkpoint_object(checkpoint))
    assert parsed.step_number == 20 and parsed.metrics.train_loss == 0.5 and parsed.metrics.step == 20
    assert parsed.fine_tuning_job_id == "ftjob-x"


def test_create_job_body_maps_to_the_trainer_request() -> None:
    body = CreateJob.model_validate(
        {
            "model": "tuneway-tiny",
            "training_file": "file-1",
            "suffix": "support",
            "seed": 3,
            "method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 4}}},
            "lora": {"rank": 8, "target_modules": ["q_proj", "v_proj"]},
            "cleaning": {"scrub_pii": True, "validation_split": 0.1},
        }
    )
    request = body.to_proto("acme")
    assert request.tenant_id == "acme" and request.seed == 3 and request.method == "supervised"
    assert request.hyperparameters.n_epochs == 4
    assert not request.hyperparameters.HasField("batch_size")
    assert request.lora.rank == 8 and not request.lora.HasField("alpha")
    assert request.cleaning.scrub_pii and request.cleaning.validation_split == pytest.approx(0.1)
    # The deprecated top-level hyperparameters still work.
    legacy = CreateJob.model_validate(
        {"model": "m", "training_file": "f", "hyperparameters": {"batch_size": 2, "n_epochs": "auto"}}
    ).to_proto("acme")
    assert legacy.hyperparameters.batch_size == 2 and not legacy.HasField("seed")


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"suffix": "Bad Suffix"}, "suffix"),
        ({"suffix": "x" * 41}, "suffix"),
        ({"hyperparameters": {"n_epochs": 0}}, "n_epochs"),
        ({"hyperparameters": {"n_epochs": "many"}}, "n_epochs"),
        ({"hyperparameters": {"n_epochs": 1.5}}, "n_epochs"),
        ({"lora": {"rank": 0}}, "rank"),
        ({"lora": {"ranks": 8}}, "ranks"),
        ({"cleaning": {"validation_split": 0.9}}, "validation_split"),
    ],
)
def test_bad_job_options_are_refused_naming_the_field(fields: dict[str, object], param: str) -> None:
    with pytest.raises(ValidationError) as caught:
        CreateJob.model_validate({"model": "m", "training_file": "f", **fields})
    assert caught.value.errors()[0]["loc"][-1] == param


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"method": {"type": "dpo"}}, "method.type"),
        (
            {
                "hyperparameters": {"n_epochs": 2},
                "method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3}}},
            },
            "hyperparameters",
        ),
        ({"integrations": [{"type": "wandb", "wandb": {"project": "p"}}]}, "integrations"),
    ],
)
def test_unsupported_openai_options_are_refused(fields: dict[str, object], param: str) -> None:
    body = CreateJob.model_validate({"model": "m", "training_file": "f", **fields})
    with pytest.raises(InvalidArgumentError) as caught:
        body.to_proto("acme")
    assert caught.value.param == param


def test_schedules_need_exactly_one_training_source() -> None:
    schedule = CreateSchedule.model_validate(
        {"cron": "0 3 * * 1", "model": "m", "training_filename": "s.jsonl"}
    )
    assert schedule.to_proto("acme").training_filename == "s.jsonl"
    for sources in ({}, {"training_file": "f", "training_filename": "s.jsonl"}):
        with pytest.raises(InvalidArgumentError):
            CreateSchedule.model_validate({"cron": "0 3 * * 1", "model": "m", **sources}).to_proto("acme")
