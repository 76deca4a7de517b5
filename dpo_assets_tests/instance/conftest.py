"""Fixtures: one throwaway PostgreSQL server per session, a fresh database per test."""

import itertools
from collections.abc import Iterator

import pytest
from pg_server import PostgresServer, find_bindir, postgres_server

_database_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server on 127.0.0.1 (skips when no server binaries are installed)."""
    bindir = find_bindir()
    if bindir is None:
        pytest.skip(
            "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found on PATH, "
            "via `pg_config --bindir` or in /usr/lib/postgresql/*/bin"
        )
    with postgres_server(bindir) as server:
        yield server


@pytest.fixture
def pg_url(pg_server: PostgresServer) -> str:
    """The URL of a new, empty database on the session's server."""
    return pg_server.create_database(f"dagster_test_{next(_database_numbers)}")
