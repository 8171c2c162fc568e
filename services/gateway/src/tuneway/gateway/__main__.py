"""`python -m tuneway.gateway`: settings, logging, then uvicorn serving create_app."""

from __future__ import annotations

import uvicorn

from tuneway.core.logging import configure_logging
from tuneway.gateway.app import create_app
from tuneway.gateway.settings import GatewaySettings


def main() -> None:
    """Runs the gateway until SIGTERM."""
    settings = GatewaySettings()
    configure_logging("gateway", settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_keep_alive=settings.keep_alive_seconds,
        # Graceful drain: uvicorn stops accepting on SIGTERM and lets open requests finish.
        timeout_graceful_shutdown=settings.drain_seconds,
    )


if __name__ == "__main__":
    main()
