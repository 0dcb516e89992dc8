"""`make deb`: build both Debian packages, loaxa-agent (arch-all) and loaxa-controller, into dist/.

Owns only the command line; the packages' layouts are loaxa.packaging and loaxa.controller_package.
"""

import argparse
import importlib.metadata
import sys
from pathlib import Path

from loaxa.controller_package import build_controller
from loaxa.packaging import ROOT, build_agent


def main(argv: list[str] | None = None) -> int:
    """`python -m loaxa.make_deb --out dist/ [--version X] [--only agent|controller]`."""
    parser = argparse.ArgumentParser(prog="python -m loaxa.make_deb", description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    parser.add_argument("--version", default=importlib.metadata.version("loaxa"))
    parser.add_argument("--only", choices=("agent", "controller"), help="build one package (default both)")
    args = parser.parse_args(argv)
    if args.only != "controller":
        print(build_agent(args.version, args.out))
    if args.only != "agent":
        print(build_controller(args.version, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
