"""Executemany for the hottest writes, without SQLAlchemy's per-row parameter handling.

SQLAlchemy compiles a statement once per dialect and lends its bind processors, so values are stored
exactly as any other write stores them (times as UTC, JSON as text). The rows then go to the driver's
executemany as plain tuples. Per row, SQLAlchemy's own executemany costs about five times the driver's
work, which matters only where thousands of rows a second are written: heartbeat ingestion
(docs/benchmarks.md). Everything else uses sessions and Core statements as usual.

Owns nothing of the schema; callers pass the statement and name its parameters.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.sql.dml import UpdateBase

Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # For each driver parameter: its index in the caller's row and the bind processor to apply (or None).
    steps: tuple[tuple[int, Processor | None], ...]
    named: tuple[str, ...] | None  # the driver's parameter names, or None for positional drivers


class BulkWrite:
    """An INSERT or UPDATE run with many rows at once; each row gives `params` in order."""

    def __init__(self, statement: UpdateBase, params: Sequence[str], *, preencoded: Sequence[str] = ()):
        """`preencoded` names JSON parameters the caller already passes as JSON text."""
        self._statement = statement
        self._params = tuple(params)
        self._preencoded = frozenset(preencoded)
        self._compiled: dict[str, _Compiled] = {}

    def execute(self, connection: Connection, rows: Sequence[Sequence[Any]]) -> None:
        """Write `rows` (tuples in the order of `params`) in the connection's transaction."""
        if not rows:
            return
        compiled = self._compiled.get(connection.dialect.name) or self._compile(connection)
        values = [
            tuple(row[index] if process is None else process(row[index]) for index, process in compiled.steps)
            for row in rows
        ]
        names = compiled.named
        if names is None:
            connection.exec_driver_sql(compiled.sql, values)
        else:
            connection.exec_driver_sql(compiled.sql, [dict(zip(names, v, strict=True)) for v in values])

    def _compile(self, connection: Connection) -> _Compiled:
        dialect = connection.dialect
        compiled = self._statement.compile(dialect=dialect, column_keys=list(self._params))
        positional = compiled.positiontup is not None
        names = list(compiled.positiontup or compiled.binds)
        unknown = set(names) - set(self._params)
        if unknown:
            # A constant in the statement must be SQL (true(), literal_column), not a bound value.
            raise ValueError(f"statement has parameters {sorted(unknown)} not among {self._params}")
        result = _Compiled(
            sql=compiled.string,
            steps=tuple(
                (
                    self._params.index(name),
                    None
                    if name in self._preencoded
                    else compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect),
                )
                for name in names
            ),
            named=None if positional else tuple(compiled.escaped_bind_names.get(n, n) for n in names),
        )
        self._compiled[dialect.name] = result
        return result
