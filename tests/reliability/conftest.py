"""Fixtures of the reliability suite: databases shared by a module, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.backends import BACKENDS, fresh_database


@pytest.fixture(scope="module", params=BACKENDS)
def module_backend(request: pytest.FixtureRequest) -> str:
    """The back-end a module-scoped database lives on: ``sqlite`` or ``postgres``."""
    return str(request.param)


@pytest.fixture(scope="module")
def module_db_url(module_backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty database shared by the tests of one module on one back-end."""
    with fresh_database(module_backend, tmp_path_factory.mktemp(f"db-{module_backend}")) as url:
        yield url
