"""The commune's own dictionary file, `<data dir>/lexicon.toml`: read, replace, and the merged view.

Owns that one file (atomic writes, the same layout as the packaged abbreviations.toml) and a cache of the
merged lexicon keyed by the file's modification, so every render sees an edit at once without re-reading
the file each time. It must not touch the packaged dictionary, which ships with the code.
"""

import json
import os
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from controller.tts.lexicon import DEFAULT_LEXICON, KINDS, Entry, Lexicon, merge, read_entries

FILE_NAME = "lexicon.toml"
_HEADER = (
    "# The commune's own readings (DESIGN §6); entries here win over the packaged abbreviations.toml.\n"
    '# Edited from the admin page or PUT /api/v1/lexicon; one "written form" = "reading" a line.\n'
)
_write_lock = threading.Lock()
_last_view: dict[Path, tuple[tuple[int, int, int] | None, "LexiconView"]] = {}


@dataclass(frozen=True)
class LexiconView:
    """Every entry with where it comes from: the packaged file, or the commune's (which may override)."""

    lexicon: Lexicon
    packaged: tuple[Entry, ...]
    commune: tuple[Entry, ...]


def commune_file(data_dir: Path) -> Path:
    """Where the commune's dictionary lives."""
    return data_dir / FILE_NAME


def load_view(data_dir: Path) -> LexiconView:
    """The packaged and commune entries and the lexicon they make (cached until the file changes)."""
    path = commune_file(data_dir)
    try:
        stat = path.stat()
        # A replace makes a new inode, so two edits within one clock tick still differ.
        stamp: tuple[int, int, int] | None = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
    except FileNotFoundError:
        stamp = None
    return _view(path, stamp)


def commune_lexicon(data_dir: Path) -> Lexicon:
    """The lexicon renders use: packaged entries overridden by the commune's."""
    return load_view(data_dir).lexicon


@cache
def _packaged() -> tuple[Entry, ...]:
    return tuple(read_entries(DEFAULT_LEXICON))


def _view(path: Path, stamp: tuple[int, int, int] | None) -> LexiconView:
    cached = _last_view.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    commune = tuple(read_entries(path)) if stamp is not None else ()
    view = LexiconView(merge(_packaged(), commune), _packaged(), commune)
    _last_view[path] = (stamp, view)
    return view


def replace_commune_entries(data_dir: Path, entries: Iterable[Entry]) -> LexiconView:
    """Write `entries` as the commune's whole dictionary (checked by the caller), atomically."""
    by_table: dict[str, list[Entry]] = {table: [] for table in KINDS}
    tables = {kind: table for table, kind in KINDS.items()}
    for entry in entries:
        by_table[tables[entry.kind]].append(entry)
    lines = [_HEADER]
    for table, rows in by_table.items():
        lines.append(f"\n[{table}]\n")
        # JSON string escapes (\", \\, \n, \uXXXX) are valid TOML basic strings.
        lines += [f"{_quoted(e.key)} = {_quoted(e.reading)}\n" for e in sorted(rows, key=lambda e: e.key)]
    path = commune_file(data_dir)
    with _write_lock:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=path.parent, prefix=".lexicon-", delete=False
        ) as temp:
            temp.write("".join(lines))
            temp.flush()
            os.fsync(temp.fileno())
        Path(temp.name).replace(path)
    return load_view(data_dir)


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)
