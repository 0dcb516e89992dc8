"""Log lines: logfmt with journald priorities under systemd, and chatty libraries quiet by default."""

import base64
import logging
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from controller.bundle import AgentBundle
from edge_agent.logs import StructuredFormatter
from tests.support.services import free_port

SCRIPT = """
import logging
from edge_agent import logs
logs.configure()
logging.getLogger("loaxa.runtime").warning("broker %s gone", "mqtt://127.0.0.1:1883")
logging.getLogger("loaxa.runtime").info("ready")
logging.getLogger("apscheduler.executors.default").info("Job ran every 30 s")
"""


def _record(level: int, message: str, exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError("bad\nvalue")
        except ValueError:
            exc_info = sys.exc_info()
    return logging.LogRecord("controller.x", level, __file__, 1, message, (), exc_info)


def test_logfmt_quotes_what_needs_it_and_keeps_a_traceback_on_one_line() -> None:
    line = StructuredFormatter(journald=False).format(_record(logging.ERROR, 'say "hi"', exc=True))
    assert line.startswith("ts=") and 'level=error logger=controller.x msg="say \\"hi\\""' in line
    assert "\n" not in line and "ValueError: bad\\nvalue" in line


def _run(tmp_path: Path, under_journal: bool) -> list[str]:
    out = tmp_path / "stderr.log"
    with out.open("wb") as stderr:
        stat = os.fstat(stderr.fileno())
        env = dict(os.environ)
        env.pop("JOURNAL_STREAM", None)
        if under_journal:
            env["JOURNAL_STREAM"] = f"{stat.st_dev}:{stat.st_ino}"
        subprocess.run([sys.executable, "-c", SCRIPT], stderr=stderr, env=env, check=True)
    return out.read_text(encoding="utf-8").splitlines()


def test_under_journald_lines_carry_their_priority_and_no_timestamp(tmp_path: Path) -> None:
    assert _run(tmp_path, under_journal=True) == [
        '<4>level=warning logger=loaxa.runtime msg="broker mqtt://127.0.0.1:1883 gone"',
        "<6>level=info logger=loaxa.runtime msg=ready",
    ]


def test_elsewhere_lines_start_with_a_utc_timestamp(tmp_path: Path) -> None:
    lines = _run(tmp_path, under_journal=False)
    assert len(lines) == 2 and all(line.startswith("ts=") and "Z level=" in line for line in lines)


def test_the_agent_logs_the_same_way_under_journald(tmp_path: Path) -> None:
    """The Pi's journal: `<6>level=info logger=edge_agent.agent msg="agent … started …"`, no timestamp."""
    key = base64.b64encode(Ed25519PrivateKey.generate().public_key().public_bytes_raw()).decode()
    config = tmp_path / "agent.toml"
    bundle = AgentBundle("tule-c01", f"mqtt://127.0.0.1:{free_port()}", "secret", (key,))
    replace(bundle, state_dir=str(tmp_path / "state"), cache_dir=str(tmp_path / "cache")).write(config)
    out = tmp_path / "stderr.log"
    with out.open("wb") as stderr:
        stat = os.fstat(stderr.fileno())
        env = {**os.environ, "JOURNAL_STREAM": f"{stat.st_dev}:{stat.st_ino}"}
        code = "import sys; from edge_agent.cli import main; sys.exit(main(sys.argv[1:]))"
        with subprocess.Popen(
            [sys.executable, "-c", code, "--config", str(config)], stderr=stderr, stdout=stderr, env=env
        ) as agent:
            deadline = time.monotonic() + 30
            while "started for tule-c01" not in out.read_text(encoding="utf-8"):
                assert time.monotonic() < deadline and agent.poll() is None, out.read_text(encoding="utf-8")
                time.sleep(0.1)
            agent.terminate()
            agent.wait(30)
    started = next(line for line in out.read_text(encoding="utf-8").splitlines() if "started for" in line)
    assert started.startswith("<6>level=info logger=edge_agent.agent msg=")
