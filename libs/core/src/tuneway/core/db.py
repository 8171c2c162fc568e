"""Async SQLAlchemy engine and sessions, and Alembic upgrades run from service start-up."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

# Deterministic constraint names, so later Alembic migrations can drop or alter them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def service_metadata() -> MetaData:
    """The metadata of one service's tables, with the shared naming convention.

    Each service declares `class Base(DeclarativeBase): metadata = service_metadata()`: a base of its
    own, since subclasses of one declarative base share its registry and metadata, and a service's
    migrations must see its own tables only.
    """
    return MetaData(naming_convention=NAMING_CONVENTION)


def sqlite_url(data_dir: Path, name: str) -> str:
    """The embedded default database of a service: var/<name>.db."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite+aiosqlite:///{(data_dir / f'{name}.db').as_posix()}"


def create_engine(url: str) -> AsyncEngine:
    """An async engine; SQLite gets a busy timeout so several writers wait instead of failing."""
    if url.startswith("sqlite"):
        return create_async_engine(url, connect_args={"timeout": 30})
    return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


# SQLSTATEs of a server that cannot serve connections now: class 08 (connection exception), and an
# administrator's or a crash's shutdown, or a server still starting (57P01-57P03).
_UNREACHABLE_STATES = ("08", "57P01", "57P02", "57P03")


def database_unreachable(error: BaseException) -> bool:
    """Whether `error` (or what caused it) says the database cannot be reached now (stopped, restarting,
    the connection refused or cut) rather than that the request or the code is wrong: the request may
    succeed when retried, so it is answered as unavailable, not as an internal error.

    asyncpg's connect raises ConnectionRefusedError itself, not wrapped by SQLAlchemy; a server shutting
    down answers with a SQLSTATE of its own."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConnectionError):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        state = getattr(current, "sqlstate", None)
        if isinstance(state, str) and state.startswith(_UNREACHABLE_STATES):
            return True
        current = current.__cause__ or current.__context__
    return False


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


def _alembic_config(script_location: Path, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade_database(url: str, script_location: Path) -> None:
    """Applies every migration; runs in a thread because Alembic's async env.py owns an event loop."""
    await asyncio.to_thread(command.upgrade, _alembic_config(script_location, url), "head")
