"""Domain errors shared by every service; mapped once to gRPC codes here and to HTTP in the gateway."""

from __future__ import annotations

import grpc


class DomainError(Exception):
    """Base of the errors a service raises on purpose; `param` names the offending field if any."""

    grpc_code = grpc.StatusCode.INTERNAL

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code


class InvalidArgumentError(DomainError):
    grpc_code = grpc.StatusCode.INVALID_ARGUMENT


class NotFoundError(DomainError):
    grpc_code = grpc.StatusCode.NOT_FOUND


class AlreadyExistsError(DomainError):
    grpc_code = grpc.StatusCode.ALREADY_EXISTS


class PermissionDeniedError(DomainError):
    grpc_code = grpc.StatusCode.PERMISSION_DENIED


class FailedPreconditionError(DomainError):
    grpc_code = grpc.StatusCode.FAILED_PRECONDITION


class ResourceExhaustedError(DomainError):
    grpc_code = grpc.StatusCode.RESOURCE_EXHAUSTED


class UnavailableError(DomainError):
    grpc_code = grpc.StatusCode.UNAVAILABLE


class DeadlineExceededError(DomainError):
    grpc_code = grpc.StatusCode.DEADLINE_EXCEEDED


_BY_CODE: dict[grpc.StatusCode, type[DomainError]] = {
    cls.grpc_code: cls
    for cls in (
        InvalidArgumentError,
        NotFoundError,
        AlreadyExistsError,
        PermissionDeniedError,
        FailedPreconditionError,
        ResourceExhaustedError,
        UnavailableError,
        DeadlineExceededError,
    )
}

# Trailing metadata keys that carry `param` and `code` across the wire.
PARAM_KEY = "tuneway-param"
CODE_KEY = "tuneway-code"


def trailing_metadata(error: DomainError) -> tuple[tuple[str, str], ...]:
    """Metadata that lets the client rebuild `error` with its param and code."""
    items = []
    if error.param:
        items.append((PARAM_KEY, error.param))
    if error.code:
        items.append((CODE_KEY, error.code))
    return tuple(items)


def from_status(
    status: grpc.StatusCode, message: str, param: str | None = None, code: str | None = None
) -> DomainError:
    """The domain error for a peer's status (CANCELLED, a transport failure, as UnavailableError)."""
    cls = UnavailableError if status == grpc.StatusCode.CANCELLED else _BY_CODE.get(status, DomainError)
    return cls(message or status.name.lower(), param=param or None, code=code or None)


def status_from_number(number: int) -> grpc.StatusCode:
    """The status code a number stands for on the wire (UNKNOWN for numbers gRPC does not define)."""
    return _BY_NUMBER.get(number, grpc.StatusCode.UNKNOWN)


_BY_NUMBER = {status.value[0]: status for status in grpc.StatusCode}


def from_rpc_error(error: grpc.aio.AioRpcError) -> DomainError:
    """Rebuilds the domain error a peer raised (or an UnavailableError for transport failures)."""
    meta = {key: value for key, value in (error.trailing_metadata() or ()) if isinstance(value, str)}
    return from_status(error.code(), error.details() or "", meta.get(PARAM_KEY), meta.get(CODE_KEY))
