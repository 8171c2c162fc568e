"""The analytics replica end to end: events over real NATS, classification by a real retriever, the
store on SQLite and PostgreSQL, and every RPC of AnalyticsService."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from nats.js import JetStreamContext

from tuneway.analytics.consumer import DURABLE
from tuneway.api.analytics.v1 import analytics_pb2 as pb
from tuneway.api.analytics.v1 import analytics_pb2_grpc
from tuneway.api.events.v1 import events_pb2
from tuneway.core.errors import DomainError
from tuneway.core.nats import EVENTS_STREAM

Stub = analytics_pb2_grpc.AnalyticsServiceStub
MakeCompletion = Callable[..., events_pb2.CompletionEvent]
MakeFeedback = Callable[..., events_pb2.FeedbackEvent]
RpcError = Callable[[Awaitable[Any]], Awaitable[DomainError]]
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
EPOCH_MS = 1_767_225_600_000
FROM, TO = EPOCH_MS - DAY_MS, EPOCH_MS + 7 * DAY_MS


async def publish(
    js: JetStreamContext, *messages: events_pb2.CompletionEvent | events_pb2.FeedbackEvent
) -> None:
    for message in messages:
        if isinstance(message, events_pb2.CompletionEvent):
            await js.publish(
                "events.completions", message.SerializeToString(), headers={"Nats-Msg-Id": message.request_id}
            )
        else:
            await js.publish(
                "events.feedback", message.SerializeToString(), headers={"Nats-Msg-Id": message.feedback_id}
            )


async def publish_batch(
    js: JetStreamContext, msg_id: str, *messages: events_pb2.CompletionEvent | events_pb2.FeedbackEvent
) -> None:
    """The events in one EventBatch on events.batch, as the gateway sends them."""
    batch = events_pb2.EventBatch()
    for message in messages:
        if isinstance(message, events_pb2.CompletionEvent):
            batch.events.add(
                subject="events.completions", msg_id=message.request_id, data=message.SerializeToString()
            )
        else:
            batch.events.add(
                subject="events.feedback", msg_id=message.feedback_id, data=message.SerializeToString()
            )
    await js.publish("events.batch", batch.SerializeToString(), headers={"Nats-Msg-Id": msg_id})


async def summary(stub: Stub, tenant: str, **kwargs: Any) -> pb.GetSummaryResponse:
    return await stub.GetSummary(pb.GetSummaryRequest(tenant_id=tenant, from_ms=FROM, to_ms=TO, **kwargs))


async def until(check: Callable[[], Awaitable[bool]], seconds: float = 30.0) -> None:
    for _ in range(int(seconds / 0.1)):
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the condition never held")


async def requests_reach(stub: Stub, tenant: str, count: int, feedback_count: int = 0) -> None:
    async def check() -> bool:
        total = (await summary(stub, tenant)).total
        assert total.requests <= count, "counted more than was published"
        return total.requests == count and total.feedback_count >= feedback_count

    await until(check)


async def test_published_events_are_classified_and_summarised_once(
    stub: Stub, js: JetStreamContext, tenant: str, completion: MakeCompletion, feedback: MakeFeedback
) -> None:
    refund = completion(tenant, last_user_message="I want my money back for this order, please refund it")
    human = completion(tenant, last_user_message="Let me talk to a real person, not a bot")
    other_day = completion(tenant, EPOCH_MS + DAY_MS + 5, channel="app")
    await publish(js, refund, human, other_day, feedback(refund, rating=1))
    await publish(js, refund, feedback(refund, rating=1))  # re-published: counted once
    await requests_reach(stub, tenant, 3, feedback_count=1)
    total = (await summary(stub, tenant)).total
    assert (total.requests, total.feedback_count, total.positive_count) == (3, 1, 1)
    assert total.human_request_count == 1
    by_type = await summary(stub, tenant, group_by=["query_type"])
    types = {row.group["query_type"]: row.measures.requests for row in by_type.rows}
    assert types.get("asks for a human") == 1, types
    by_channel = await summary(stub, tenant, group_by=["channel"], filters={"channel": "app"})
    assert [(r.group["channel"], r.measures.requests) for r in by_channel.rows] == [("app", 1)]
    series = await stub.GetTimeseries(
        pb.GetTimeseriesRequest(tenant_id=tenant, from_ms=FROM, to_ms=TO, interval="day")
    )
    assert [(p.bucket_start_ms, p.measures.requests) for p in series.points] == [
        (EPOCH_MS, 2),
        (EPOCH_MS + DAY_MS, 1),
    ]


async def test_a_restarted_replica_counts_redelivered_messages_once(
    replica: Any, js: JetStreamContext, tenant: str, completion: MakeCompletion
) -> None:
    events = [completion(tenant, EPOCH_MS + i) for i in range(300)]
    await publish(js, *events[:150])
    await replica.stop()  # mid-stream: whatever was fetched and not acked comes back
    await publish(js, *events[150:], *events[:10])
    stub = await replica.start()
    await requests_reach(stub, tenant, 300)
    await asyncio.sleep(0.5)
    assert (await summary(stub, tenant)).total.requests == 300


async def test_a_replica_brings_the_durable_consumer_to_its_ack_wait(
    replica: Any, js: JetStreamContext
) -> None:
    # The consumer outlives every replica: a changed ANALYTICS_ACK_WAIT_SECONDS must reach it at the next
    # start, not be ignored because an earlier replica created it.
    async def ack_wait() -> float:
        return float((await js.consumer_info(EVENTS_STREAM.name or "", DURABLE)).config.ack_wait or 0)

    assert await ack_wait() == replica.settings.ack_wait_seconds
    await replica.stop()
    replica.settings = replica.settings.model_copy(update={"ack_wait_seconds": 7.0})
    await replica.start()
    assert await ack_wait() == 7.0


async def test_undecodable_messages_do_not_block_the_stream(
    stub: Stub, js: JetStreamContext, tenant: str, completion: MakeCompletion
) -> None:
    await js.publish("events.completions", b"\xff\xff not a protobuf")
    await js.publish("events.completions", events_pb2.CompletionEvent(tenant_id=tenant).SerializeToString())
    await publish(js, completion(tenant))
    await requests_reach(stub, tenant, 1)


async def test_the_same_event_in_two_batches_counts_once(
    stub: Stub, js: JetStreamContext, tenant: str, completion: MakeCompletion, feedback: MakeFeedback
) -> None:
    a, b, c, d = (completion(tenant, EPOCH_MS + i) for i in range(4))
    liked = feedback(a, rating=1)
    # A publisher's retry that grouped the events differently: other batch ids, the same events.
    await publish_batch(js, f"batch-1-{tenant}", a, b, liked)
    await publish_batch(js, f"batch-2-{tenant}", b, c, liked, b)
    await requests_reach(stub, tenant, 3, feedback_count=1)
    # Again once those are stored (another fetch): the store skips what it has.
    await publish_batch(js, f"batch-3-{tenant}", a, c, liked, d)
    await requests_reach(stub, tenant, 4, feedback_count=1)
    await asyncio.sleep(0.5)
    total = (await summary(stub, tenant)).total
    assert (total.requests, total.feedback_count, total.positive_count) == (4, 1, 1)


async def test_a_bad_event_in_a_batch_leaves_the_rest(
    stub: Stub, js: JetStreamContext, tenant: str, completion: MakeCompletion
) -> None:
    good = completion(tenant)
    batch = events_pb2.EventBatch()
    batch.events.add(subject="events.completions", msg_id="junk", data=b"\xff\xff not a protobuf")
    batch.events.add(subject="events.elsewhere", msg_id="odd", data=good.SerializeToString())
    batch.events.add(subject="events.completions", msg_id=good.request_id, data=good.SerializeToString())
    await js.publish("events.batch", b"\xff\xff not a batch")
    await js.publish("events.batch", batch.SerializeToString())
    await requests_reach(stub, tenant, 1)


async def test_drill_down_pages_newest_first_with_feedback(
    stub: Stub, js: JetStreamContext, tenant: str, completion: MakeCompletion, feedback: MakeFeedback
) -> None:
    events = [completion(tenant, EPOCH_MS + i * 1000, user=f"u{i}") for i in range(7)]
    await publish(js, *events, feedback(events[6], rating=-1, comment="wrong"))
    await requests_reach(stub, tenant, 7, feedback_count=1)
    seen: list[str] = []
    cursor = ""
    while True:
        page = await stub.ListEvents(
            pb.ListEventsRequest(tenant_id=tenant, from_ms=FROM, to_ms=TO, limit=3, cursor=cursor)
        )
        seen.extend(e.event.request_id for e in page.events)
        if not page.has_more:
            break
        cursor = page.next_cursor
    assert seen == [e.request_id for e in reversed(events)]
    first = await stub.ListEvents(pb.ListEventsRequest(tenant_id=tenant, from_ms=FROM, to_ms=TO, limit=1))
    assert [(f.rating, f.comment) for f in first.events[0].feedback] == [(-1, "wrong")]
    # Message text is not kept unless the tenant asks.
    assert first.events[0].event.last_user_message == ""
    assert first.events[0].query_type


async def test_kept_message_text_is_scrubbed(
    stub: Stub, js: JetStreamContext, tenant: str, completion: MakeCompletion
) -> None:
    updated = await stub.UpdateSettings(
        pb.UpdateSettingsRequest(tenant_id=tenant, settings=pb.AnalyticsSettings(keep_message_text=True))
    )
    assert updated.settings.keep_message_text
    assert (await stub.GetSettings(pb.GetSettingsRequest(tenant_id=tenant))).settings.keep_message_text
    other = tenant + "-other"  # keeps no text: in the same batch, its text must not be stored
    await publish_batch(
        js,
        f"kept-{tenant}",
        completion(other, last_user_message="mail me at bob@example.com about order 99"),
        completion(tenant, last_user_message="mail me at ann@example.com about order 1234"),
        completion(other, last_user_message="where is order 77?"),
    )
    await requests_reach(stub, tenant, 1)
    page = await stub.ListEvents(pb.ListEventsRequest(tenant_id=tenant, from_ms=FROM, to_ms=TO))
    assert page.events[0].event.last_user_message == "mail me at [email] about order 1234"
    await requests_reach(stub, other, 2)
    page = await stub.ListEvents(pb.ListEventsRequest(tenant_id=other, from_ms=FROM, to_ms=TO))
    assert [e.event.last_user_message for e in page.events] == ["", ""]


async def test_experiment_results(
    stub: Stub, js: JetStreamContext, tenant: str, completion: MakeCompletion, feedback: MakeFeedback
) -> None:
    events = []
    for i in range(40):
        arm = "a" if i % 2 == 0 else "b"
        events.append(
            completion(tenant, EPOCH_MS + i, experiment_id="exp1", experiment_arm=arm, user=f"user{i % 10}")
        )
    judged = [
        feedback(e, rating=1 if e.experiment_arm == "b" or i % 4 == 0 else -1) for i, e in enumerate(events)
    ]
    await publish(js, *events, *judged)
    await requests_reach(stub, tenant, 40, feedback_count=40)
    results = await stub.GetExperimentResults(
        pb.GetExperimentResultsRequest(
            tenant_id=tenant,
            experiment_id="exp1",
            arms=[
                pb.ExperimentArm(name="a", weight=1),
                pb.ExperimentArm(name="b", weight=1),
                pb.ExperimentArm(name="c", weight=0),
            ],
            min_sample=5,
        )
    )
    arms = {arm.name: arm for arm in results.arms}
    assert results.control == "a" and results.min_sample == 5
    # users 0,2,4,6,8 saw arm a; 1,3,5,7,9 arm b
    assert (arms["a"].exposures, arms["a"].requests, arms["a"].feedback_count) == (5, 20, 20)
    assert (arms["b"].exposures, arms["b"].positive_count) == (5, 20)
    assert arms["a"].positive_count == 10
    assert arms["c"].requests == 0 and not arms["c"].enough_data
    assert {c.arm for c in results.comparisons} == {"b", "c"}
    assert results.sample_ratio.observed[:2] == [5, 5]
    other = await stub.GetExperimentResults(
        pb.GetExperimentResultsRequest(
            tenant_id=tenant + "x", experiment_id="exp1", arms=[pb.ExperimentArm(name="a")]
        )
    )
    assert other.arms[0].requests == 0


async def test_query_types(stub: Stub, tenant: str, rpc_error: RpcError) -> None:
    listed = await stub.ListQueryTypes(pb.ListQueryTypesRequest(tenant_id=tenant))
    builtin = [t.name for t in listed.query_types if t.builtin]
    assert "asks for a human" in builtin and listed.threshold > 0
    await stub.PutQueryType(
        pb.PutQueryTypeRequest(
            tenant_id=tenant,
            name="garden gnomes",
            examples=["do you sell garden gnomes", "gnome for my lawn"],
        )
    )
    classified = await stub.ClassifyQueries(
        pb.ClassifyQueriesRequest(tenant_id=tenant, texts=["I'd like a garden gnome for my lawn", ""])
    )
    assert classified.classifications[0].query_type == "garden gnomes"
    assert classified.classifications[1].query_type == ""
    # Another tenant has no such type.
    others = await stub.ListQueryTypes(pb.ListQueryTypesRequest(tenant_id=tenant + "x"))
    assert "garden gnomes" not in [t.name for t in others.query_types]
    await stub.DeleteQueryType(pb.DeleteQueryTypeRequest(tenant_id=tenant, name="garden gnomes"))
    error = await rpc_error(
        stub.DeleteQueryType(pb.DeleteQueryTypeRequest(tenant_id=tenant, name=builtin[0]))
    )
    assert error.param == "name" and builtin[0] in error.message
    error = await rpc_error(
        stub.PutQueryType(pb.PutQueryTypeRequest(tenant_id=tenant, name="Bad Name!", examples=["x"]))
    )
    assert error.param == "name"


@pytest.mark.parametrize(
    ("request_", "param"),
    [
        (pb.GetSummaryRequest(from_ms=FROM, to_ms=TO, group_by=["colour"]), "group_by"),
        (pb.GetSummaryRequest(from_ms=FROM, to_ms=TO, filters={"shape": "x"}), "filters"),
        (pb.GetSummaryRequest(from_ms=TO, to_ms=FROM), "from_ms"),
        (pb.GetTimeseriesRequest(from_ms=FROM, to_ms=TO, interval="week"), "interval"),
        (pb.ListEventsRequest(from_ms=FROM, to_ms=TO, cursor="not-a-cursor"), "cursor"),
        (pb.ListEventsRequest(from_ms=FROM, to_ms=TO, limit=1001), "limit"),
        (
            pb.GetExperimentResultsRequest(experiment_id="e", arms=[pb.ExperimentArm(name="a")], control="z"),
            "control",
        ),
    ],
)
async def test_bad_requests_name_the_field(
    stub: Stub, tenant: str, rpc_error: RpcError, request_: Any, param: str
) -> None:
    request_.tenant_id = tenant
    method = {
        "GetSummaryRequest": stub.GetSummary,
        "GetTimeseriesRequest": stub.GetTimeseries,
        "ListEventsRequest": stub.ListEvents,
        "GetExperimentResultsRequest": stub.GetExperimentResults,
    }[type(request_).__name__]
    error = await rpc_error(method(request_))
    assert type(error).__name__ == "InvalidArgumentError" and error.param == param


async def test_tenants_never_see_each_other(
    stub: Stub, js: JetStreamContext, tenant: str, completion: MakeCompletion, feedback: MakeFeedback
) -> None:
    other = tenant + "-other"
    mine = completion(tenant, experiment_id="shared", experiment_arm="a")
    await publish(js, mine, completion(other, experiment_id="shared", experiment_arm="a"))
    await requests_reach(stub, tenant, 1)
    await requests_reach(stub, other, 1)
    page = await stub.ListEvents(pb.ListEventsRequest(tenant_id=other, from_ms=FROM, to_ms=TO))
    assert [e.event.tenant_id for e in page.events] == [other]
    await stub.UpdateSettings(
        pb.UpdateSettingsRequest(tenant_id=tenant, settings=pb.AnalyticsSettings(keep_message_text=True))
    )
    assert not (await stub.GetSettings(pb.GetSettingsRequest(tenant_id=other))).settings.keep_message_text
    assert (await summary(stub, other + "-nobody")).total.requests == 0
