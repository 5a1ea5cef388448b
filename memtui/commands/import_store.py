"""`memtui import FILE`: read an export back, losslessly and idempotently.

Two passes over the file (stdin is spooled to a private temporary file first):
1. every line is read and checked, and every snapshot or working-memory item must name
   a session that is in the file or already in the store. A bad line is reported with
   its number and nothing is written.
2. the records are written in batches, each all or nothing
   (`Backend.import_records`). An object already stored with the same values is
   counted unchanged, so importing twice adds nothing; one stored with other values is
   kept as stored and reported.

Also reads MemoryLayer's workspace export (`memtui.domain.memorylayer_export`), known by
its first line.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

from memtui.commands.output import CommandError, Printer, note, run_command
from memtui.commands.progress import Progress

if TYPE_CHECKING:
    from memtui.backend import Backend
    from memtui.domain.memorylayer_export import WorkspaceExportReader
    from memtui.domain.transfer import ImportOutcome, Record

DEFAULT_BATCH = 1000
MAX_REPORTED_ERRORS = 10
MAX_REPORTED_CONFLICTS = 10


@dataclass
class ImportPlan:
    """What pass 1 found: the record count per kind and the source format."""

    source_format: str
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@contextmanager
def _seekable(path: str) -> Iterator[IO[bytes]]:
    """The file, or stdin copied into a 0600 temporary file (two passes need a seek)."""
    if path != "-":
        try:
            handle = open(path, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from None
        with handle:
            yield handle
        return
    with tempfile.TemporaryFile(prefix="memtui-import-") as spool:
        shutil.copyfileobj(sys.stdin.buffer, spool)
        spool.seek(0)
        yield spool


def _lines(handle: IO[bytes]) -> Iterator[tuple[int, str]]:
    """(line number, text) of every non-blank line; bad UTF-8 is a line error."""
    from memtui.domain.transfer import LineError

    handle.seek(0)
    for number, raw in enumerate(handle, start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise LineError(number, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        text = text.rstrip("\r\n")
        if text.strip():
            yield number, text


@dataclass
class Source:
    """A file's format and its records, read lazily; `skipped` says what was left out."""

    format: str
    records: Iterator[Record]
    memorylayer: WorkspaceExportReader | None = None

    def skipped(self) -> list[str]:
        reader = self.memorylayer
        if reader is None or not reader.associations_skipped:
            return []
        return [
            f"{reader.associations_skipped:,} MemoryLayer associations skipped "
            "(memtui keeps no links between memories)"
        ]


def read_source(handle: IO[bytes]) -> Source:
    from memtui.domain import memorylayer_export, transfer

    lines = _lines(handle)
    first = next(lines, None)
    if first is None:
        raise CommandError("the file is empty: nothing to import")
    number, text = first
    if memorylayer_export.is_workspace_export(text):
        reader = memorylayer_export.WorkspaceExportReader.from_header(text, number)
        return Source("memorylayer", reader.records(lines), reader)
    transfer.parse_header(text, number)

    def parsed() -> Iterator[Record]:
        for line_number, line_text in lines:
            yield transfer.parse_line(line_text, line_number)

    return Source("memtui", parsed())


def check_file(handle: IO[bytes], backend: Backend) -> ImportPlan:
    """Pass 1. Raises LineError (the first bad line) or CommandError."""
    from memtui.domain.errors import NotFoundError
    from memtui.domain.transfer import LineError, RecordKind

    source = read_source(handle)
    plan = ImportPlan(source.format)
    sessions_in_file: set[str] = set()
    sessions_in_store: set[str] = set()
    for record in source.records:
        plan.counts[record.kind.value] += 1
        if record.kind is RecordKind.SESSION:
            sessions_in_file.add(record.obj.id)  # type: ignore[union-attr]
        elif record.kind in (RecordKind.SNAPSHOT, RecordKind.WORKING_MEMORY):
            session_id: str = record.obj.session_id  # type: ignore[union-attr,assignment]
            if session_id in sessions_in_file or session_id in sessions_in_store:
                continue
            try:
                backend.get_session(session_id)
            except NotFoundError:
                raise LineError(
                    record.line,
                    f"{record.kind.value} belongs to session {session_id!r}, which is "
                    "neither earlier in the file nor in the store",
                    field="session_id",
                ) from None
            sessions_in_store.add(session_id)
    return plan


def write_batches(
    handle: IO[bytes], backend: Backend, *, batch_size: int, progress: Progress | None
) -> ImportOutcome:
    """Pass 2: every record, `batch_size` at a time, each batch all or nothing."""
    from memtui.domain.transfer import ImportOutcome

    source = read_source(handle)
    outcome = ImportOutcome()
    batch: list[Record] = []
    for record in source.records:
        batch.append(record)
        if len(batch) >= batch_size:
            outcome += backend.import_records(batch)
            if progress is not None:
                progress.advance(len(batch))
            batch = []
    if batch:
        outcome += backend.import_records(batch)
        if progress is not None:
            progress.advance(len(batch))
    for remark in source.skipped():
        note("import", remark)
    return outcome


def _conflict_text(record: Record) -> str:
    what = " ".join(record.key)
    where = f"line {record.line}: " if record.line else ""
    return f"{where}{record.kind.value} {what} is stored with other values; kept as stored"


def run_import_command(args: argparse.Namespace) -> int:
    from memtui.domain.transfer import LineError

    batch_size: int = args.batch_size
    if batch_size < 1:
        from memtui.commands.output import fail

        return fail("import", f"--batch-size must be at least 1, got {batch_size}")

    def work(backend: Backend, printer: Printer) -> int:
        from memtui.domain.models import Capability

        if Capability.IMPORT not in backend.capabilities():
            raise CommandError(
                f"{backend.describe()} does not offer import (import into a local store "
                "with --db, or a memtui server)"
            )
        with _seekable(args.file) as handle:
            try:
                plan = check_file(handle, backend)
            except LineError as exc:
                raise CommandError(f"{exc}; nothing was imported") from None
            progress = Progress.on_stderr("import")
            if progress is not None:
                progress.start("records", plan.total)
            try:
                outcome = write_batches(handle, backend, batch_size=batch_size, progress=progress)
            except LineError as exc:
                raise CommandError(f"{exc}; earlier batches were imported") from None
            if progress is not None:
                progress.finish()
        for record in outcome.conflicts[:MAX_REPORTED_CONFLICTS]:
            note("import", _conflict_text(record))
        if len(outcome.conflicts) > MAX_REPORTED_CONFLICTS:
            note("import", f"… and {len(outcome.conflicts) - MAX_REPORTED_CONFLICTS} more")
        if args.json:
            printer.json(
                {
                    "format": plan.source_format,
                    "records": dict(sorted(plan.counts.items())),
                    "added": outcome.added,
                    "unchanged": outcome.unchanged,
                    "conflicts": [
                        {"line": r.line, "kind": r.kind.value, "key": list(r.key)}
                        for r in outcome.conflicts
                    ],
                }
            )
            return 0
        kinds = ", ".join(f"{kind} {count:,}" for kind, count in sorted(plan.counts.items()))
        printer.write(
            f"Imported {plan.total:,} records from {'stdin' if args.file == '-' else args.file}"
            f" ({plan.source_format} format; {kinds or 'none'}): {outcome.added:,} added, "
            f"{outcome.unchanged:,} already there, {len(outcome.conflicts):,} kept as stored."
        )
        return 0

    return run_command("import", args, work)
