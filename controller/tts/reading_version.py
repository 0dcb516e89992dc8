"""The normalizer's version, so the render cache can be looked up before the text is normalized.

A cached render is keyed on the raw text; its audio is still right only while the text would be read the
same way. That depends on the dictionary (`Lexicon.version`, in the key) and on the normalizer's code and
data: this digest covers the source of `normalize` and of every controller.tts module it imports, found
by reading their imports (so a new rules module counts without being listed here), the package's TOML
files, and g2p-hamster's version. Computed once per process. It must not import the normalizer.
"""

import ast
import hashlib
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Final

_PACKAGE_DIR: Final = Path(__file__).resolve().parent
_PACKAGE: Final = "controller.tts"


@cache
def normalizer_version() -> str:
    """A short digest of everything that decides how a text is read aloud, apart from the dictionary."""
    digest = hashlib.sha256()
    for path in (*reading_modules(), *sorted(_PACKAGE_DIR.glob("*.toml"))):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(metadata.version("g2p-hamster").encode())
    return digest.hexdigest()[:16]


def reading_modules() -> list[Path]:
    """The source files of `normalize` and of the controller.tts modules it imports, directly or not."""
    found: list[Path] = []
    pending = ["normalize"]
    while pending:
        path = _PACKAGE_DIR / f"{pending.pop()}.py"
        if path in found:
            continue
        found.append(path)
        pending.extend(_package_imports(ast.parse(path.read_text(encoding="utf-8"))))
    return sorted(found)


def _package_imports(tree: ast.Module) -> list[str]:
    """Names of the controller.tts modules a module imports (`from controller.tts import x` or `.x`)."""
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == _PACKAGE:
            names.extend(alias.name for alias in node.names if (_PACKAGE_DIR / f"{alias.name}.py").exists())
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(f"{_PACKAGE}."):
            names.append((node.module or "").removeprefix(f"{_PACKAGE}.").split(".")[0])
        elif isinstance(node, ast.Import):
            names.extend(
                alias.name.removeprefix(f"{_PACKAGE}.").split(".")[0]
                for alias in node.names
                if alias.name.startswith(f"{_PACKAGE}.")
            )
    return names
