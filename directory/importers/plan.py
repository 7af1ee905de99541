"""Check an import file's records and plan their writing, a batch at a time.

This half of an import only reads the database, so it can run in a second process
(importers.parallel) while the first writes the batches it plans (load._Writer). It yields a
Plan for each batch of valid services and, last, a Checked: the report and the errors.

A Plan holds everything the writer can be told without writing: which services are new, which
organisations to write, the services' rows (models.services.Batch) and, for a new service, its
search index rows (search_index.Preparer). What only the tables being written can tell (how a
stored service changed, whether an organisation did) is left to the writer.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlite_utils import Database

from directory import search_index
from directory.importers import (
    LoadReport,
    Problem,
    datapackage,
    flat_csv,
    hsds_json,
    id_key,
    rows_for_ids,
)
from directory.models.services import Batch, organization_row, save_service

BATCH = 1000  # services written, compared and indexed together
MAX_LISTED = 1000  # warnings kept for the report; the rest are counted


@dataclass
class Plan:
    """One batch of valid services, ready to write."""

    taxonomies: list[dict]  # taxonomies and terms to add first
    terms: list[dict]
    ids: list[str]
    stored: list[str]  # those already stored: each compared before and after (a revision)
    batch: Batch = field(default_factory=Batch)
    organization_ids: list[str] = field(default_factory=list)  # given first in this import
    redefined_organizations: list[str] = field(default_factory=list)  # given again, differently
    prepared: list[tuple] = field(default_factory=list)  # new services' index rows
    to_index: list[str] = field(default_factory=list)  # new services indexed from the tables
    relinked_locations: list[str] = field(default_factory=list)  # given before in the file
    stored_locations: list[str] = field(default_factory=list)  # stored before the import


@dataclass
class Checked:
    """The end of the checking: the report so far and every error that stops the import."""

    report: LoadReport
    errors: list[Problem] = field(default_factory=list)


def items(db: Database, path: Path, fmt: str) -> Iterator[tuple]:
    """Yield (record or None, problems, new taxonomies, new terms) for each service in the
    file; the taxonomies and terms are those the file defines that are not stored yet."""
    source = path.name
    if fmt == "flat-csv":
        seen: dict[bytes, int] = {}
        known_terms = flat_csv.known_term_codes(db)
        for line, row in flat_csv.read_rows(path):
            record, problems = flat_csv.row_to_record(db, row, source, line, known_terms)
            key = record["id"].encode()
            if key in seen:
                problems.append(Problem(source, line, "id", f"duplicate of line {seen[key]}"))
            seen.setdefault(key, line)
            yield record, problems, [], []
        return
    ctx = hsds_json.Context(db)
    reader_source = datapackage.iter_services if fmt == "datapackage" else hsds_json.iter_services
    try:
        for line, label, obj in reader_source(path):
            r = hsds_json.Reader("services.csv" if fmt == "datapackage" else source, line, label)
            record = hsds_json.to_record(ctx, obj, r)
            yield (record, r.problems, *ctx.pop_new_terms())
    except hsds_json.BadJSON as exc:
        yield None, [Problem(source, exc.line, None, str(exc))], [], []
    except datapackage.PackageError as exc:
        yield None, exc.problems, [], []


def check(
    db: Database, path: Path, fmt: str, *, dry_run: bool, skip_invalid: bool
) -> Iterator[Plan | Checked]:
    """Check every record of the file; yield a Plan for each batch of valid services while
    no error stops the import (none with dry_run), then the Checked."""
    checked = Checked(LoadReport(path.name, fmt, dry_run=dry_run))
    report, errors = checked.report, checked.errors
    planner = _Planner(db)
    for record, problems, taxonomies_met, terms_met in items(db, path, fmt):
        # added with the next batch, even when met in an invalid record: a later record using
        # the same term finds it already known and does not bring it again
        planner.add_terms(taxonomies_met, terms_met)
        record_errors = [p for p in problems if p.severity == "error"]
        for warning in (p for p in problems if p.severity != "error"):
            report.warning_count += 1
            if len(report.warnings) < MAX_LISTED:
                report.warnings.append(warning)
        if record_errors or record is None:
            if skip_invalid and record is not None:
                report.skipped += record_errors
                report.skipped_records += 1
            else:
                errors += record_errors
            continue
        report.imported += 1
        if errors or dry_run:
            continue  # keep checking; nothing more is written
        if plan := planner.add(record):
            yield plan
    if not errors and not dry_run and (plan := planner.plan()):
        yield plan
    yield checked


class _Planner:
    """Gathers valid records into Plans, remembering what the import has given so far."""

    def __init__(self, db: Database):
        self.db = db
        self.records: list[dict] = []
        self.taxonomies: list[dict] = []
        self.terms: list[dict] = []
        # organisations given so far (16-byte id → hash of what was written: each is written
        # once, not once for each of its services) and locations given so far
        self.organizations: dict[bytes, int] = {}
        self.locations: set[bytes] = set()
        self.preparer = search_index.Preparer(db)

    def add_terms(self, taxonomies: list[dict], terms: list[dict]) -> None:
        """Taxonomies and terms new to the database, to add before the next batch."""
        self.taxonomies += taxonomies
        self.terms += terms
        self.preparer.add_terms(terms)

    def add(self, record: dict) -> Plan | None:
        """Take a valid record; a Plan when it completes a batch."""
        self.records.append(record)
        return self.plan() if len(self.records) >= BATCH else None

    def plan(self) -> Plan | None:
        """The Plan of the records taken since the last one (None when there are none)."""
        records, self.records = self.records, []
        if not records:
            return None
        ids = [r["id"] for r in records]
        stored = _existing(self.db, "service", ids)
        location_ids = [loc["id"] for r in records for loc in r.get("locations") or ()]
        stored_locations = _existing(self.db, "location", location_ids)
        plan = Plan(self.taxonomies, self.terms, ids, [i for i in ids if i in stored])
        self.taxonomies, self.terms = [], []
        for record in records:
            organization = record["organization"]
            new = record["id"] not in stored
            save_service(
                self.db, record, index=False, new=new,
                organization=self._organization(plan, organization), batch=plan.batch,
            )  # fmt: skip
            relinked = self._locations(plan, record, stored_locations)
            if not new:
                continue  # the writer compares it with what is stored
            if relinked or "name" not in organization:
                plan.to_index.append(record["id"])  # what the tables hold decides
            elif prepared := self.preparer.prepare(record, organization["name"]):
                plan.prepared.append(prepared)
        return plan

    def _organization(self, plan: Plan, organization: dict) -> bool:
        """Whether to write the record's organisation (not for a reference, {"id": …}, nor
        when written as it is now); noted in the plan when given first or given anew."""
        if "name" not in organization:
            return False
        key, digest = id_key(organization["id"]), _digest(organization)
        given = self.organizations.get(key)
        self.organizations[key] = digest
        if given is None:
            plan.organization_ids.append(organization["id"])
        elif given != digest:
            plan.redefined_organizations.append(organization["id"])
        return given != digest

    def _locations(self, plan: Plan, record: dict, stored: set[str]) -> bool:
        """Note the record's locations that are stored or given before in the file; whether
        it has any (its index rows then depend on what the tables end up holding)."""
        relinked = False
        for location in record.get("locations") or ():
            key = id_key(location["id"])
            if location["id"] in stored:
                plan.stored_locations.append(location["id"])
                relinked = True
            elif key in self.locations:
                plan.relinked_locations.append(location["id"])
                relinked = True
            self.locations.add(key)
        return relinked


def _existing(db: Database, table: str, ids: list[str]) -> set[str]:
    """Which of these ids the table holds."""
    return {r[0] for r in rows_for_ids(db, f"select id from {table} where id in ({{marks}})", ids)}


def _digest(organization: dict) -> int:
    """What save_service writes of an organisation, as a hash (without the time stamp)."""
    row = organization_row(organization)
    del row["last_modified"]
    return hash(tuple(row.values()))
