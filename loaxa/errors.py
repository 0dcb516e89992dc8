"""The one way a `loaxa` command reports a problem the user can fix (DESIGN §9).

A command raises `CliError`; `loaxa.cli.main` prints `loaxa: <message>` on stderr, without a traceback,
and exits with the error's code (2 for wrong input, 3 for a missing resource such as a speech engine).
"""

from typing import Final

USAGE: Final = 2
UNAVAILABLE: Final = 3


class CliError(Exception):
    """A problem the user can fix, said in words they can act on."""

    def __init__(self, message: str, *, exit_code: int = USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code
