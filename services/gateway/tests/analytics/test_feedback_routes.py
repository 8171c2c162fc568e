"""POST /v1/feedback over HTTP: validation names the field, another tenant's completion is a 404, and
accepted feedback leaves as a FeedbackEvent (here into the outbox: no NATS answers)."""

from __future__ import annotations

from typing import Any

import pytest

from tuneway.api.events.v1 import events_pb2 as epb
from tuneway.gateway.analytics.outbox import Outbox

Gateway = Any


def _error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    return error


def _completion_id(gateway: Gateway, tenant: str) -> str:
    ids = gateway.services.completion_ids
    return str(ids.new(tenant))


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"rating": 1, "score": 0.5, "scale": "0-1"}, "rating"),
        ({}, "rating"),
        ({"rating": 2}, "rating"),
        ({"rating": True}, "rating"),
        ({"score": 0.5}, "scale"),
        ({"score": 6, "scale": "1-5"}, "score"),
        ({"score": 0.5, "scale": "1-5"}, "score"),
        ({"score": 1.5, "scale": "0-1"}, "score"),
        ({"score": 3, "scale": "1-10"}, "scale"),
        ({"rating": 1, "scale": "0-1"}, "scale"),
        ({"rating": 1, "label": "x" * 65}, "label"),
        ({"rating": 1, "comment": "x" * 4001}, "comment"),
        ({"rating": 1, "stars": 5}, "stars"),
    ],
)
async def test_invalid_feedback_is_a_400_naming_the_field(
    gateway: Gateway, fields: dict[str, Any], param: str
) -> None:
    body = {"completion_id": _completion_id(gateway, "acme"), **fields}
    response = await gateway.app_client.post(
        "/v1/feedback", json=body, headers=gateway.auth(gateway.acme_key)
    )
    error = _error(response, 400)
    assert error["param"] == param and error["type"] == "invalid_request_error", error


async def test_a_missing_completion_id_is_named(gateway: Gateway) -> None:
    response = await gateway.app_client.post(
        "/v1/feedback", json={"rating": 1}, headers=gateway.auth(gateway.acme_key)
    )
    assert _error(response, 400)["param"] == "completion_id"


async def test_another_tenants_completion_is_not_found(gateway: Gateway) -> None:
    theirs = _completion_id(gateway, "globex")
    for completion_id in (theirs, "chatcmpl-0123", "made-up"):
        response = await gateway.app_client.post(
            "/v1/feedback",
            json={"completion_id": completion_id, "rating": -1},
            headers=gateway.auth(gateway.acme_key),
        )
        error = _error(response, 404)
        assert error["param"] == "completion_id" and completion_id in error["message"]


async def test_accepted_feedback_is_published_even_without_nats(start_gateway: Any) -> None:
    async with start_gateway() as gateway:
        ours = _completion_id(gateway, "acme")
        response = await gateway.app_client.post(
            "/v1/feedback",
            json={"completion_id": ours, "score": 4, "scale": "1-5", "label": "helpful", "user": "u1"},
            headers=gateway.auth(gateway.acme_key),
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["object"] == "feedback" and body["id"].startswith("fb_")
        assert (body["completion_id"], body["score"], body["scale"], body["rating"]) == (ours, 4, "1-5", None)
        outbox_file = gateway.settings.outbox_file()
    # The gateway stopped: what it could not publish waits in the outbox for the next start.
    outbox = Outbox(outbox_file, 100)
    [stored] = await outbox.oldest(10)
    outbox.close()
    assert (stored.event.subject, stored.event.msg_id) == ("events.feedback", body["id"])
    event = epb.FeedbackEvent.FromString(stored.event.data)
    assert (event.tenant_id, event.completion_id, event.score, event.scale, event.user) == (
        "acme",
        ours,
        4.0,
        "1-5",
        "u1",
    )
    assert event.api_key_id and event.label == "helpful"


async def test_with_analytics_off_nothing_is_published(start_gateway: Any) -> None:
    async with start_gateway(analytics_enabled=False) as gateway:
        response = await gateway.app_client.post(
            "/v1/feedback",
            json={"completion_id": _completion_id(gateway, "acme"), "rating": 1},
            headers=gateway.auth(gateway.acme_key),
        )
        assert response.status_code == 201
        outbox_file = gateway.settings.outbox_file()
    assert not outbox_file.exists()
