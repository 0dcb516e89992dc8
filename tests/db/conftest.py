"""Fixtures for storage tests: a migrated database per module and backend."""

from collections.abc import Iterator

import pytest

from controller.db import Database
from tests.db.support import BACKENDS, migrated_database, server_url


@pytest.fixture(scope="module", params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """An empty database migrated to head for the tests of one module."""
    kind = request.param
    with migrated_database(kind, tmp_path_factory.mktemp("db"), server_url(request, kind)) as db:
        yield db
