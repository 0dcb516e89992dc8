"""`loaxa agent --config agent.toml`: parse arguments, set up logging, load the config, run the agent.

Owns the process: the command line, SIGTERM/SIGINT and the exit code; the `loaxa` CLI calls `main(argv)`.
"""

import argparse
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from edge_agent import logs
from edge_agent.config import EXAMPLE, ConfigError, load_config


def main(argv: Sequence[str] | None = None) -> int:
    """Run the edge agent; returns the process exit code (2 bad config, 3 MQTT client stuck)."""
    parser = argparse.ArgumentParser(
        prog="loaxa agent",
        description="Run the loaxa edge agent (Raspberry Pi loudspeaker cluster).",
        epilog=f"example agent.toml:\n\n{EXAMPLE}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", type=Path, required=True, metavar="PATH", help="the agent.toml file")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument(
        "--check", action="store_true", help="only validate the config (exit 0 if good, 2 if not), then exit"
    )
    args = parser.parse_args(argv)
    # logfmt lines, with journald priorities under systemd; paho's per-packet lines only with -v.
    logs.configure(verbose=args.verbose)
    # paho-mqtt imports dnspython when it is installed, only for connect_srv(), which the agent never
    # calls: keeping it out of this process saves ~3 MB of RSS (DESIGN §2 budget).
    sys.modules.setdefault("dns", None)  # type: ignore[arg-type]
    from edge_agent.agent import Agent

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"loaxa agent: {exc}", file=sys.stderr)
        return 2
    if args.check:
        print(f"cấu hình {args.config} hợp lệ: cụm loa {config.device_id}")
        return 0
    agent = Agent(config)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda _signum, _frame: agent.stop())
    agent.run()
    return agent.exit_code
