"""The only exceptions the CLI catches: each becomes one line on stderr and an exit status."""

from __future__ import annotations

from bib.text import shown


class BibError(Exception):
    """Base class; `exit_code` is what the CLI returns for this kind of failure."""

    exit_code = 1


class InputError(BibError):
    """The user's input is wrong (exit 2), and the message says where.

    The location prefix follows the compiler convention `file:line: ` so editors
    and CI log parsers can jump to it.
    """

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        entry: str | None = None,
    ) -> None:
        self.path = path
        self.line = line
        self.entry = entry
        self.message = message
        where = ""
        if path:
            where = f"{path}:{line}: " if line else f"{path}: "
        who = f"entry '{entry}': " if entry else ""
        # One line, whatever a file name, an id or a quoted value holds.
        super().__init__(shown(f"{where}{who}{message}"))


class CatalogError(InputError):
    """`sources.yaml` (or a Markdown list being imported) is malformed."""


class LockError(InputError):
    """`sources.lock.json` cannot be read back into records."""
