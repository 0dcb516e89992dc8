"""A web app over a real, migrated SQLite database seeded with the demo commune, and a fixed clock.

The clock reads `Runtime.now`, which a test may move forward.

The database is migrated and seeded once per session, then copied for each test. The runtime's hooks
are recording functions: they stand in for the runtime's wiring only; services and storage are real.
"""

import hashlib
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from controller import services
from controller.assets import AssetStore
from controller.config import Settings
from controller.db import Database, upgrade
from protocol.signing import generate_private_key, public_key_b64
from web import WebContext, create_app

NOW = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)
PASSWORD = "demo-password-1"
SECRET = b"s" * 32
# Users beyond the demo's admin/operator/approver: a second of each role that acts, and a viewer.
EXTRA_USERS = (("viewer", "viewer"), ("operator2", "operator"), ("approver2", "approver"))
TOKEN_TTL = timedelta(days=3650)


@dataclass
class Runtime:
    """What the hooks saw, and what the tests need to reach the real parts."""

    db: Database
    store: AssetStore
    tokens: dict[str, str]
    now: datetime = NOW
    changed: list[int] = field(default_factory=list)
    commands: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    provisioned: list[str] = field(default_factory=list)
    previews: list[str] = field(default_factory=list)
    health: dict[str, Any] = field(
        default_factory=lambda: {
            "db": "ok",
            "mqtt": "connected",
            "planning": {"state": "ok", "error": None, "left_out": []},
        }
    )

    def auth(self, username: str) -> dict[str, str]:
        """Authorization header of a seeded user."""
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    def add_asset(self, data: bytes, language: str = "vi") -> str:
        """Store bytes as an asset and register it, as the runtime's render step does."""
        sha256 = self.store.put(data)
        with self.db.session() as session:
            services.register_asset(
                session, NOW, sha256=sha256, size=len(data), duration_ms=1000, language=language
            )
        return sha256


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A migrated, seeded database file and bearer tokens of every user in it."""
    path = tmp_path_factory.mktemp("template") / "loaxa.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    db = Database(url)
    tokens: dict[str, str] = {}
    with db.session() as session:
        services.seed_demo(session, NOW, PASSWORD)
        for username, role in EXTRA_USERS:
            services.create_user(session, username, PASSWORD, role, NOW, commune_id="tule")
        for user in services.list_users(session):
            tokens[user.username] = services.issue_token(session, user, NOW, TOKEN_TTL)
    db.dispose()
    return path, tokens


@pytest.fixture
def runtime(tmp_path: Path, template_db: tuple[Path, dict[str, str]]) -> Iterator[Runtime]:
    """A private copy of the template database, an asset store, and recorders for the hooks."""
    source, tokens = template_db
    path = tmp_path / "loaxa.db"
    shutil.copyfile(source, path)
    db = Database(f"sqlite:///{path}")
    yield Runtime(db=db, store=AssetStore(tmp_path / "assets"), tokens=tokens)
    db.dispose()


@pytest.fixture
def context(runtime: Runtime, tmp_path: Path) -> WebContext:
    """The context the runtime would hand to `create_app`, with recording hooks."""

    def render_preview(text: str) -> tuple[str, str, str]:
        runtime.previews.append(text)
        return text.lower(), runtime.store.put(f"preview {text}".encode()), "espeak-ng"

    def store_recording(data: bytes, language: str) -> str:
        return runtime.add_asset(b"mp3:" + hashlib.sha256(data).digest(), language)

    def send_command(device_id: str, command: Mapping[str, Any]) -> None:
        runtime.commands.append((device_id, dict(command)))

    return WebContext(
        db=runtime.db,
        settings=Settings(data_dir=tmp_path),
        clock=lambda: runtime.now,
        assets=runtime.store,
        asset_url_secret=SECRET,
        on_bulletin_changed=runtime.changed.append,
        render_preview=render_preview,
        send_command=send_command,
        health=lambda: runtime.health,
        store_recording=store_recording,
        on_device_changed=runtime.provisioned.append,
        signing_public_keys=(PUBLIC_KEY,),
    )


PUBLIC_KEY = public_key_b64(generate_private_key().public_key())


@pytest.fixture
def client(context: WebContext) -> FlaskClient:
    """A test client of the app built around `context`."""
    app = create_app(context)
    app.testing = True
    return app.test_client()
