"""Broadcast window files shipped with loaxa (DESIGN §7); a package only so that installs carry them.

Holds no code but the path of the default file, which `pip install loaxa` (not editable) finds here too.
"""

from pathlib import Path
from typing import Final

DEFAULT: Final = Path(__file__).resolve().parent / "default.toml"

__all__ = ["DEFAULT"]
