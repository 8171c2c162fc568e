"""database_unreachable tells a database that cannot be reached now (a request to retry) from a bug or
bad data (an internal error), through SQLAlchemy's and asyncpg's wrapping."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError

from tuneway.core.db import database_unreachable


def _wrapped(cause: BaseException) -> DBAPIError:
    """What SQLAlchemy raises for a driver error, with the driver's error as its cause."""
    try:
        try:
            raise cause
        except BaseException as error:
            raise DBAPIError("SELECT 1", {}, error) from error
    except DBAPIError as wrapped:
        return wrapped


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)"),  # asyncpg's connect
        ConnectionResetError(104, "Connection reset by peer"),
        _wrapped(asyncpg.exceptions.CannotConnectNowError("the database system is shutting down")),
        _wrapped(
            asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command")
        ),
        _wrapped(asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle")),
    ],
)
def test_a_database_out_of_reach_is_unreachable(error: BaseException) -> None:
    assert database_unreachable(error)


@pytest.mark.parametrize(
    "error",
    [
        ValueError("bad value"),
        IntegrityError("INSERT", {}, asyncpg.exceptions.UniqueViolationError("duplicate key")),
        _wrapped(asyncpg.exceptions.UndefinedTableError('relation "x" does not exist')),
        OSError(28, "No space left on device"),
    ],
)
def test_bugs_and_bad_data_are_not(error: BaseException) -> None:
    assert not database_unreachable(error)
