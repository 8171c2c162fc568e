"""One batch from its input file to its output files: validate, run the lines not yet done a few at a
time (each result recorded as it completes), then write the output and error files."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tuneway.core.errors import NotFoundError
from tuneway.gateway.batch_worker.requests import LineOutcome, LineRunner
from tuneway.gateway.batches import input_lines
from tuneway.gateway.batches import repository as repo
from tuneway.gateway.batches import statuses as st
from tuneway.gateway.batches.input_lines import InvalidInputFile, LineError, Request
from tuneway.gateway.batches.output_lines import error_line
from tuneway.gateway.batches.tables import Batch, BatchLine
from tuneway.gateway.files.generated import BATCH_OUTPUT, GeneratedFiles
from tuneway.gateway.files.tables import File
from tuneway.gateway.tenancy.keys import Principal

log = logging.getLogger(__name__)

EXPIRED_MESSAGE = "This request could not be executed before the completion window expired."


@dataclass
class StopRequest:
    """Why the batch stops taking lines: set by the consumer's watcher ("cancel", "handback")."""

    reason: str = ""


class BatchRunner:
    """Runs one claimed batch; `run` returns False when it handed the batch back unfinished."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        files: GeneratedFiles,
        lines: LineRunner,
        concurrency: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sessions = sessions
        self._files = files
        self._lines = lines
        self._concurrency = concurrency
        self._clock = clock

    async def run(self, batch_id: str, stop: StopRequest) -> bool:
        """Takes the batch as far as it goes: finished (True), or handed back on a stop signal (False)."""
        batch = await self._load(batch_id)
        if batch.status == st.CANCELLING and batch.in_progress_at is None:
            await self._finish(batch, st.CANCELLED)  # cancelled before any line ran
            return True
        if batch.status == st.CANCELLING:
            stop.reason = stop.reason or "cancel"
        try:
            path = await self._files.path(batch.tenant_id, batch.input_file_id)
            data = await asyncio.to_thread(path.read_bytes)
            parsed = input_lines.parse(data, batch.endpoint)
        except InvalidInputFile as error:
            await self._fail(batch, error.code, error.message)
            return True
        except NotFoundError:
            await self._fail(batch, "invalid_file", f"The input file {batch.input_file_id} was deleted.")
            return True
        if batch.status == st.VALIDATING:
            batch = await self._start(batch, parsed)
        async with self._sessions() as session:
            done = await repo.done_lines(session, batch_id)
        pending = [r for r in parsed if isinstance(r, Request) and r.line not in done]
        expired = await self._run_lines(batch, pending, stop)
        if stop.reason == "handback":
            return False
        if expired:
            await self._expire(batch, pending)
            await self._finish(batch, st.EXPIRED)
        else:
            await self._finish(batch, st.CANCELLED if stop.reason == "cancel" else st.COMPLETED)
        return True

    async def _load(self, batch_id: str) -> Batch:
        async with self._sessions() as session:
            batch = await session.get(Batch, batch_id)
        assert batch is not None  # claimed just before
        return batch

    async def _start(self, batch: Batch, parsed: list[Request | LineError]) -> Batch:
        """validating -> in_progress: the total, the model, and every malformed line failed at once
        (in the error file, and in `errors` with its line number)."""
        line_errors = [item for item in parsed if isinstance(item, LineError)]
        models = [r.body.get("model") for r in parsed if isinstance(r, Request)]
        async with self._sessions() as session, session.begin():
            row = await repo.lock_batch(session, batch.id)
            assert row is not None
            row.total = len(parsed)
            row.model = next((m for m in models if isinstance(m, str)), None)
            row.errors = [e.as_dict() for e in line_errors] or None
            if row.status == st.VALIDATING:
                row.status = st.IN_PROGRESS
            row.in_progress_at = int(self._clock())
            for item in line_errors:
                output = error_line(item.custom_id, item.code, item.message)
                await repo.record_line(
                    session, BatchLine(batch_id=row.id, line=item.line, failed=True, output=output)
                )
        return await self._load(batch.id)

    async def _run_lines(self, batch: Batch, pending: list[Request], stop: StopRequest) -> bool:
        """Runs the pending lines, `concurrency` at a time, until done, stopped or expired; True when the
        completion window ran out first."""
        principal = Principal(tenant_id=batch.tenant_id, role="member", key_id=batch.api_key_id)
        queue: Iterator[Request] = iter(pending)
        expired = False

        async def lane() -> None:
            nonlocal expired
            for request in queue:
                if stop.reason:
                    return
                if self._clock() >= batch.expires_at:
                    expired = True
                    return
                outcome = await self._lines.run(batch.endpoint, principal, request)
                await self._record(batch.id, request.line, outcome)

        await asyncio.gather(*(lane() for _ in range(self._concurrency)))
        return expired

    async def _record(self, batch_id: str, line: int, outcome: LineOutcome) -> None:
        result = BatchLine(
            batch_id=batch_id,
            line=line,
            failed=outcome.failed,
            output=outcome.output,
            input_tokens=outcome.input_tokens,
            output_tokens=outcome.output_tokens,
        )
        async with self._sessions() as session, session.begin():
            await repo.record_line(session, result)

    async def _expire(self, batch: Batch, pending: list[Request]) -> None:
        """Lines the window left unrun go to the error file as OpenAI writes them (batch_expired)."""
        async with self._sessions() as session:
            done = await repo.done_lines(session, batch.id)
        async with self._sessions() as session, session.begin():
            for request in pending:
                if request.line not in done:
                    output = error_line(request.custom_id, "batch_expired", EXPIRED_MESSAGE)
                    await repo.record_line(
                        session, BatchLine(batch_id=batch.id, line=request.line, failed=True, output=output)
                    )

    async def _fail(self, batch: Batch, code: str, message: str) -> None:
        async with self._sessions() as session, session.begin():
            row = await repo.lock_batch(session, batch.id)
            assert row is not None
            row.status, row.failed_at = st.FAILED, int(self._clock())
            row.errors = [{"code": code, "message": message, "param": None, "line": None}]
        log.info("batch failed validation", extra={"batch": batch.id, "code": code})

    async def _finish(self, batch: Batch, final: str) -> None:
        """Writes the output and error files (the lines in input order) and ends the batch. A completed
        batch passes through `finalizing` while its files are written."""
        now = int(self._clock())
        if final == st.COMPLETED:
            async with self._sessions() as session, session.begin():
                row = await repo.lock_batch(session, batch.id)
                assert row is not None
                row.status, row.finalizing_at = st.FINALIZING, now
        async with self._sessions() as session:
            results = await repo.line_results(session, batch.id)
        outputs = [r.output for r in results if not r.failed]
        errors = [r.output for r in results if r.failed]
        output_file = await self._write(batch, "output", outputs)
        error_file = await self._write(batch, "error", errors)
        async with self._sessions() as session, session.begin():
            row = await repo.lock_batch(session, batch.id)
            assert row is not None
            for record in (output_file, error_file):
                if record is not None:
                    session.add(record)
            row.output_file_id = output_file.id if output_file else None
            row.error_file_id = error_file.id if error_file else None
            row.status = final
            end = int(self._clock())
            if final == st.COMPLETED:
                row.completed_at = end
            elif final == st.CANCELLED:
                row.cancelled_at = end
            elif final == st.EXPIRED:
                row.expired_at = end
        log.info("batch ended", extra={"batch": batch.id, "status": final})

    async def _write(self, batch: Batch, kind: str, lines: list[str]) -> File | None:
        if not lines:
            return None
        data = ("\n".join(lines) + "\n").encode()
        return await self._files.write(batch.tenant_id, f"{batch.id}_{kind}.jsonl", BATCH_OUTPUT, data)
