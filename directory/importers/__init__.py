"""Importers: turn files (flat CSV, HSDS JSON, HSDS data packages) into service records."""

import uuid
from dataclasses import dataclass, field

from directory.models.services import IN_LIST


def id_key(text: str) -> bytes:
    """A UUID as its 16 bytes (what uuid.UUID(text).bytes gives, faster), to keep sets of the
    ids an import has seen small."""
    try:
        key = bytes.fromhex(text.replace("-", ""))
    except ValueError:
        key = b""
    return key if len(key) == 16 else uuid.UUID(text).bytes


def rows_for_ids(db, sql: str, ids: list[str]) -> list[tuple]:
    """The rows of `sql` (its `{marks}` standing for the `?`s of an `in (...)`) for these ids,
    asked a few hundred at a time."""
    found: list = []
    for start in range(0, len(ids), IN_LIST):
        chunk = ids[start : start + IN_LIST]
        found += db.execute(sql.format(marks=", ".join("?" * len(chunk))), chunk).fetchall()
    return found


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


@dataclass
class LoadReport:
    """What an import did (or, with dry_run, would do)."""

    source: str
    format: str
    dry_run: bool = False
    imported: int = 0
    skipped: list[Problem] = field(default_factory=list)
    skipped_records: int = 0
    warnings: list[Problem] = field(default_factory=list)
    warning_count: int = 0
    revised: int = 0  # stored services the import changed (each a new revision)
    parallel: bool = False  # whether a second process read and checked the file

    def __str__(self) -> str:
        lines = [str(p) for p in self.skipped]
        lines += [str(p) for p in self.warnings]
        if self.warning_count > len(self.warnings):
            lines.append(f"… and {self.warning_count - len(self.warnings)} more warning(s)")
        verb = "valid; nothing written (--dry-run)" if self.dry_run else "imported"
        summary = f"{self.source} ({self.format}): {self.imported} service(s) {verb}"
        if self.skipped_records:
            summary += f"; {self.skipped_records} invalid service(s) skipped"
        if self.revised:
            summary += f"; {self.revised} changed service(s) kept as new revisions"
        if self.warning_count:
            summary += f"; {self.warning_count} warning(s)"
        return "\n".join([*lines, summary + "."])
