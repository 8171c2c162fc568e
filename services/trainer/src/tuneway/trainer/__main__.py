"""`python -m tuneway.trainer [api|worker]` (default: api): runs one of the trainer's two processes."""

from __future__ import annotations

import asyncio
import sys

from tuneway.core.lifecycle import run_until_stopped
from tuneway.core.logging import configure_logging
from tuneway.trainer.api.main import TrainerApi
from tuneway.trainer.settings import TrainerSettings
from tuneway.trainer.worker.main import serve_worker


def main() -> None:
    """Entry point: `python -m tuneway.trainer [api|worker]`."""
    role = sys.argv[1] if len(sys.argv) > 1 else "api"
    if role not in ("api", "worker"):
        raise SystemExit(f"usage: python -m tuneway.trainer [api|worker] (got {role!r})")
    settings = TrainerSettings()
    configure_logging(f"trainer-{role}" if role == "worker" else "trainer", settings.log_level)
    if role == "api":
        asyncio.run(run_until_stopped(lambda: TrainerApi(settings), metrics_port=settings.metrics_port))
    else:
        # The worker's lifetime is its consumer loop's, which ends by itself after a fatal error.
        asyncio.run(serve_worker(settings))


if __name__ == "__main__":
    main()
