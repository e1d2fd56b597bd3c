"""Import of record files: JSONL or CSV, optionally gzipped, kind taken from the name.

Files stream in batches, so memory does not grow with the size of the input; every
rejected record is reported with its file and line number.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from noc_tui.records.attempt_parser import AttemptParser, ParsedAttempts
from noc_tui.records.formats import KINDS, Rejection
from noc_tui.store.cache import BATCH, JSON_ATTEMPT_BATCH, Cache, IngestReport
from noc_tui.sync.readahead import read_ahead

# Reference data first, so attempts are rated as they arrive.
_ORDER = {k: i for i, k in enumerate(KINDS)}
FORMATS = ("jsonl", "csv")


class RecordFileError(Exception):
    """A path that cannot be imported at all (missing, unknown kind or format)."""


@dataclass
class ImportSummary:
    files: list[tuple[Path, IngestReport]] = field(default_factory=list)

    @property
    def taken(self) -> int:
        return sum(r.taken for _, r in self.files)

    @property
    def rejected(self) -> int:
        return sum(r.rejected for _, r in self.files)

    def rejections(self) -> Iterator[Rejection]:
        for _, r in self.files:
            yield from r.rejections


def classify(path: Path) -> tuple[str, str, bool]:
    """(kind, format, gzipped) from a file name like attempts.csv.gz."""
    name = path.name.lower()
    gz = name.endswith(".gz")
    if gz:
        name = name[:-3]
    stem, _, ext = name.rpartition(".")
    base = stem.split(".", 1)[0]
    kind = next((k for k in KINDS if base == k or base.startswith((k + "-", k + "_"))), None)
    if kind is None:
        raise RecordFileError(
            f"{path}: cannot tell the record kind from the name; name it "
            "carriers.*, contacts.*, rates.* or attempts.* (e.g. attempts.jsonl.gz)"
        )
    fmt = {"jsonl": "jsonl", "ndjson": "jsonl", "json": "jsonl", "csv": "csv"}.get(ext)
    if fmt is None:
        raise RecordFileError(
            f"{path}: unknown format {ext!r}; use .jsonl or .csv (optionally .gz)"
        )
    return kind, fmt, gz


def expand_paths(paths: list[str | Path]) -> list[tuple[Path, str, str, bool]]:
    """Files and folders -> classified files, reference data before attempts."""
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            found = [f for f in sorted(p.iterdir()) if f.is_file() and not f.name.startswith(".")]
            usable = []
            for f in found:
                try:
                    usable.append((f, *classify(f)))
                except RecordFileError:
                    continue  # folders may hold other files; only named record files count
            if not usable:
                raise RecordFileError(
                    f"{p}: no carriers.*, contacts.*, rates.* or attempts.* files"
                )
            out.extend(usable)
        elif p.is_file():
            out.append((p, *classify(p)))
        else:
            raise RecordFileError(f"{p}: no such file or folder")
    out.sort(key=lambda t: _ORDER[t[1]])
    return out


def _open_text(path: Path, gz: bool) -> IO[str]:
    # The wrapper owns the raw file and closes it.
    raw: IO[bytes] = gzip.open(path, "rb") if gz else path.open("rb")  # noqa: SIM115
    return io.TextIOWrapper(raw, encoding="utf-8", newline="")


def _open_bytes(path: Path, gz: bool) -> IO[bytes]:
    return gzip.open(path, "rb") if gz else path.open("rb")


def _csv_records(fh: IO[str], label: str) -> Iterator[tuple[Any, str]]:
    reader = csv.DictReader(fh)
    for row in reader:
        where = f"{label}:{reader.line_num}"
        if None in row:
            yield _Bad("more cells than header columns", row), where
            continue
        # Empty cell = null.
        yield {k: (v if v != "" else None) for k, v in row.items() if k}, where


@dataclass(frozen=True)
class _Bad:
    reason: str
    raw: Any


def import_file(
    cache: Cache, path: Path, kind: str, fmt: str, gz: bool,
    progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Stream one file into the cache, a batch per transaction."""
    report = IngestReport(kind)
    label = str(path)
    buf: list[Any] = []
    wheres: list[str] = []

    def flush() -> None:
        if fmt == "jsonl":
            report.merge(cache.ingest_json_lines(kind, buf, wheres))
        else:
            report.merge(cache.ingest_batch(kind, buf, wheres))
        buf.clear()
        wheres.clear()
        if progress:
            progress(report.taken + report.rejected)

    try:
        if fmt == "jsonl" and kind == "attempts":
            # Parsed one batch ahead, in a thread, while the cache stores the last one.
            # The parser's database must outlive the thread: the cache reads from it.
            parser = AttemptParser(cache.rates_view())
            batches = read_ahead(_parsed_attempts(parser, path, gz, label),
                                 name="import-parse")
            try:
                for parsed in batches:
                    report.merge(cache.ingest_parsed(parsed))
                    if progress:
                        progress(report.taken + report.rejected)
            finally:
                batches.close()
                parser.close()
        elif fmt == "jsonl":
            with _open_bytes(path, gz) as fb:
                for n, line in enumerate(fb, 1):
                    if line.strip():
                        buf.append(line)
                        wheres.append(f"{label}:{n}")
                        if len(buf) >= BATCH:
                            flush()
        else:
            with _open_text(path, gz) as ft:
                for rec, where in _csv_records(ft, label):
                    if isinstance(rec, _Bad):
                        report.rejected += 1
                        report.rejections.append(Rejection(where, rec.reason, rec.raw))
                        continue
                    buf.append(rec)
                    wheres.append(where)
                    if len(buf) >= BATCH:
                        flush()
        if buf:
            flush()
    except (OSError, UnicodeDecodeError, EOFError, csv.Error) as exc:
        # What was read so far is committed; say where the file broke.
        report.rejected += 1
        report.rejections.append(Rejection(label, f"file could not be read further: {exc}"))
    return report


def _parsed_attempts(parser: AttemptParser, path: Path, gz: bool,
                     label: str) -> Iterator[ParsedAttempts]:
    with _open_bytes(path, gz) as fb:
        buf: list[bytes] = []
        numbers: list[int] = []
        for n, line in enumerate(fb, 1):
            if line.strip():
                buf.append(line)
                numbers.append(n)
                if len(buf) >= JSON_ATTEMPT_BATCH:
                    yield parser.lines(buf, _line_where(label, numbers))
                    buf, numbers = [], []
        if buf:
            yield parser.lines(buf, _line_where(label, numbers))


def _line_where(label: str, numbers: list[int]) -> Callable[[int], str]:
    def where(i: int) -> str:
        return f"{label}:{numbers[i]}"

    return where


def import_paths(
    cache: Cache, paths: list[str | Path], progress: Callable[[Path, int], None] | None = None
) -> ImportSummary:
    summary = ImportSummary()
    for path, kind, fmt, gz in expand_paths(paths):
        cb = (lambda n, p=path: progress(p, n)) if progress else None
        summary.files.append((path, import_file(cache, path, kind, fmt, gz, cb)))
    return summary
