"""/v1/fine_tuning routes in the whole app without a trainer: request errors name the field, outages 503."""

from __future__ import annotations

from typing import Any

import openai
import pytest

# The `gateway` fixture comes from this directory's conftest.
Gateway = Any
JOB = "/v1/fine_tuning/jobs"


async def test_job_requests_are_checked_before_the_trainer_is_asked(gateway: Gateway) -> None:
    auth = gateway.auth(gateway.acme_key)
    post = gateway.app_client.post
    response = await post(JOB, json={"model": "tuneway-tiny"}, headers=auth)
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "training_file"
    assert response.json()["error"]["code"] == "missing_required_parameter"
    body = {"model": "tuneway-tiny", "training_file": "file-x", "hyperparameters": {"n_epochs": 0}}
    response = await post(JOB, json=body, headers=auth)
    assert response.status_code == 400 and response.json()["error"]["param"] == "hyperparameters.n_epochs"
    response = await post(JOB, json={**body, "hyperparameters": {}, "suffix": "No Spaces"}, headers=auth)
    assert response.status_code == 400 and response.json()["error"]["param"] == "suffix"
    response = await post(JOB, json={**body, "hyperparameters": {}, "lora": {"rnak": 4}}, headers=auth)
    assert response.status_code == 400 and response.json()["error"]["param"] == "lora.rnak"

    # An unknown (or another tenant's) training file: 400 naming the field, like OpenAI.
    with pytest.raises(openai.BadRequestError) as caught:
        await gateway.sdk(gateway.acme_key).fine_tuning.jobs.create(
            model="tuneway-tiny", training_file="file-x"
        )
    assert caught.value.body["param"] == "training_file"  # type: ignore[index]
    # A file uploaded for another purpose cannot be trained on.
    other = await gateway.sdk(gateway.acme_key).files.create(file=("a.jsonl", b"{}"), purpose="assistants")
    with pytest.raises(openai.BadRequestError) as caught:
        await gateway.sdk(gateway.acme_key).fine_tuning.jobs.create(
            model="tuneway-tiny", training_file=other.id
        )
    assert "purpose" in caught.value.message
    response = await gateway.app_client.get(f"/v1/files/{other.id}/validation", headers=auth)
    assert response.status_code == 400 and response.json()["error"]["param"] == "file_id"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", JOB),
        ("GET", f"{JOB}/ftjob-1"),
        ("POST", f"{JOB}/ftjob-1/cancel"),
        ("GET", f"{JOB}/ftjob-1/events"),
        ("GET", f"{JOB}/ftjob-1/events?stream=true"),
        ("GET", f"{JOB}/ftjob-1/checkpoints"),
        ("GET", "/v1/fine_tuning/adapters"),
        # Model names hold ':' and, with hub base models, '/': the routes must still match.
        ("GET", "/v1/fine_tuning/adapters/ft:org/base:acme:support:ftjob-1"),
        ("POST", "/v1/fine_tuning/adapters/ft:org/base:acme:support:ftjob-1/retire"),
        ("GET", "/v1/fine_tuning/aliases"),
        ("POST", "/v1/fine_tuning/aliases/support/rollback"),
        ("DELETE", "/v1/fine_tuning/aliases/support"),
        ("GET", "/v1/fine_tuning/schedules"),
        ("POST", "/v1/fine_tuning/schedules/ftsched-1/pause"),
        ("DELETE", "/v1/fine_tuning/schedules/ftsched-1"),
    ],
)
async def test_a_trainer_outage_is_503_with_retry_after(gateway: Gateway, method: str, path: str) -> None:
    response = await gateway.app_client.request(method, path, headers=gateway.auth(gateway.acme_key))
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "1"
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["code"] == "service_unavailable"
