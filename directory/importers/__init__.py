"""Importers: turn files (flat CSV, HSDS JSON, HSDS data packages) into service records."""

import uuid
from dataclasses import dataclass


def id_key(text: str) -> bytes:
    """A UUID as its 16 bytes (what uuid.UUID(text).bytes gives, faster), to keep sets of the
    ids an import has seen small."""
    try:
        key = bytes.fromhex(text.replace("-", ""))
    except ValueError:
        key = b""
    return key if len(key) == 16 else uuid.UUID(text).bytes


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input record: where it is and what is wrong."""

    source: str
    line: int | None
    field: str | None
    message: str
    severity: str = "error"  # error | warning

    def __str__(self) -> str:
        where = self.source + (f", line {self.line}" if self.line is not None else "")
        field = f" [{self.field}]" if self.field else ""
        return f"{where}{field}: {self.severity}: {self.message}"


class ImportFailed(Exception):
    """Raised when a file has errors: nothing was written."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
