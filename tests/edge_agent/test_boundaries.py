"""DESIGN §2: the Pi agent never imports the controller side or its heavy libraries."""

import json
import subprocess
import sys
from pathlib import Path

FORBIDDEN = (
    "flask",
    "sqlalchemy",
    "pydantic",
    "gtts",
    "pydub",
    "controller",
    "web",
    "apscheduler",
    "alembic",
    # Verifying plans is plain Python (protocol._ed25519): cryptography's Rust extension and its own
    # OpenSSL would cost ~10 MB of the agent's RSS budget.
    "cryptography",
)


def test_agent_imports_stay_on_the_edge() -> None:
    code = (
        "import sys, json, edge_agent.cli, edge_agent.agent; "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = set(json.loads(result.stdout))
    assert loaded.isdisjoint(FORBIDDEN), loaded & set(FORBIDDEN)
