"""atheris fuzzing of the dataset parsers and the document extractors (issue 14 §4), for a bounded time
in `make faults`: whatever bytes a user uploads as a training file or a knowledge document, the only
outcome is the domain's validation error (a report's line-numbered errors, InvalidArgumentError), never
another exception (an INTERNAL error), a hang or unbounded memory.

Each target (tests/faults/fuzz/) runs in its own process, because libFuzzer exits the process when it
finds a crash. TUNEWAY_FUZZ_SECONDS sets the time per target (60 by default)."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.faults]

FUZZ = Path(__file__).resolve().parent / "fuzz"
SECONDS = int(os.environ.get("TUNEWAY_FUZZ_SECONDS", "60"))
# One input that runs longer than this is a hang (inputs take milliseconds; a busy machine has stalled
# one for 12 s); a process above this resident size is a leak or a bomb.
INPUT_TIMEOUT_S = 30
RSS_LIMIT_MB = 2048
# Larger than the seeds, so the fuzzer may grow files, but small enough to keep its pace.
MAX_LEN = 64 * 1024


@pytest.mark.parametrize("target", ["dataset_parsers", "document_extractors"])
def test_no_exception_but_the_domain_errors(target: str, tmp_path: Path) -> None:
    artifacts, corpus = tmp_path / "artifacts", tmp_path / "corpus"
    artifacts.mkdir()
    corpus.mkdir()  # seeded by the target: the example datasets and documents, small files of each format
    command = [
        sys.executable,
        str(FUZZ / f"{target}.py"),
        f"-max_total_time={SECONDS}",
        f"-timeout={INPUT_TIMEOUT_S}",
        f"-rss_limit_mb={RSS_LIMIT_MB}",
        f"-max_len={MAX_LEN}",
        f"-artifact_prefix={artifacts}/",
        "-print_final_stats=1",
        str(corpus),
    ]
    # Loading the models and the first inputs take a while on top of the fuzzing time.
    run = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=SECONDS + 300,
        cwd=FUZZ.parents[2],
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )
    if run.returncode == 0:
        assert "Done" in run.stderr, run.stderr[-4000:]
        return
    found = sorted(artifacts.iterdir())
    inputs = "\n".join(f"{path.name}: {base64.b64encode(path.read_bytes()).decode()}" for path in found)
    script = (FUZZ / f"{target}.py").relative_to(FUZZ.parents[2])
    pytest.fail(
        f"{target} crashed (exit {run.returncode}); replay with `python {script} FILE`.\n"
        f"Inputs (base64):\n{inputs or '(none written)'}\n--- output ---\n{run.stderr[-8000:]}",
        pytrace=False,
    )
