"""The fixtures of tests/web: the real app, a real migrated SQLite, seeded users with tokens."""

from tests.web.conftest import client, context, runtime, template_db

__all__ = ["client", "context", "runtime", "template_db"]
