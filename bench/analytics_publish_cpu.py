"""The publish step alone: the gateway process's CPU per analytics event when every event is its own
JetStream message (how the publisher worked before EventBatch) vs when the events at hand travel as
EventBatch messages (tuneway.gateway.analytics.batches.pack), by how many events are at hand at once.

A private nats-server (JetStream in a temporary dir) and this process only: CPU time, not wall time, so
other work on the machine disturbs it little. Events of 450 bytes, about a CompletionEvent's size.
Under load the publisher finds many events queued while the previous batch awaits its ack; at
concurrency 1 it finds one, and both formats cost the same.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

import nats
from nats.js import JetStreamContext

from tuneway.core.nats import EVENTS_STREAM, ensure_stream
from tuneway.core.testing.processes import NatsServer
from tuneway.gateway.analytics.batches import BATCH_SUBJECT, pack
from tuneway.gateway.analytics.outbox import OutgoingEvent

EVENT_BYTES = 450


async def publish_each(js: JetStreamContext, events: list[OutgoingEvent], _: int) -> None:
    await asyncio.gather(*(js.publish(e.subject, e.data, headers={"Nats-Msg-Id": e.msg_id}) for e in events))


async def publish_batched(js: JetStreamContext, events: list[OutgoingEvent], max_payload: int) -> None:
    await asyncio.gather(
        *(
            js.publish(BATCH_SUBJECT, b.data, headers={"Nats-Msg-Id": b.msg_id})
            for b in pack(events, max_payload)
        )
    )


async def measure(events_per_run: int, bursts: list[int]) -> list[dict[str, float]]:
    with tempfile.TemporaryDirectory(prefix="tw-bench-publish-cpu-") as tmp:
        server = NatsServer(Path(tmp) / "nats")
        server.start()
        nc = await nats.connect(server.url)
        try:
            js = nc.jetstream()
            await ensure_stream(js, EVENTS_STREAM)
            rows = []
            for burst in bursts:
                row: dict[str, float] = {"burst": burst}
                for name, publish in (("each", publish_each), ("batched", publish_batched)):
                    events = [
                        OutgoingEvent(
                            "events.completions", f"chatcmpl-{name}-{burst}-{i:07d}", b"x" * EVENT_BYTES
                        )
                        for i in range(events_per_run)
                    ]
                    started = time.process_time()
                    for i in range(0, len(events), burst):
                        await publish(js, events[i : i + burst], nc.max_payload)
                    row[name] = (time.process_time() - started) / len(events) * 1e6
                rows.append(row)
            return rows
        finally:
            await nc.close()
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=8000, help="events per format and burst size")
    parser.add_argument("--bursts", type=int, nargs="+", default=[1, 4, 16, 32])
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    rows = asyncio.run(measure(args.events, args.bursts))
    print("events at hand | CPU per event, one message each | as EventBatch | ratio")
    for row in rows:
        print(
            f"{row['burst']:14.0f} | {row['each']:28.1f} us | {row['batched']:10.1f} us | "
            f"{row['batched'] / row['each']:.2f}"
        )
    if args.output:
        args.output.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
