"""JSON-lines logging to stdout with the service, request id and tenant of the current request."""

from __future__ import annotations

import contextvars
import logging
import sys

from pythonjsonlogger.json import JsonFormatter

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
tenant_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("tenant", default=None)


class _ContextFilter(logging.Filter):
    """Stamps every record with the service name and the request context."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        record.request_id = request_id_var.get()
        record.tenant = tenant_var.get()
        return True


def configure_logging(service: str, level: str = "INFO") -> None:
    """Routes every logger to one JSON handler on stdout."""
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(_ContextFilter(service))
    handler.setFormatter(
        JsonFormatter(
            "{asctime}{levelname}{name}{message}{service}{request_id}{tenant}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Access logs per request are the gateway's own metrics' job; keep the stream readable.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
