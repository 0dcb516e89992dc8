"""The fixtures of tests/web: a real migrated SQLite seeded with the demo commune."""

from tests.web.conftest import runtime, template_db

__all__ = ["runtime", "template_db"]
