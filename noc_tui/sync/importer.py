"""Import of record files: JSONL or CSV, optionally gzipped, kind taken from the name.

Files stream in batches, so memory does not grow with the size of the input; every
rejected record is reported with its file and line number.
"""

from __future__ import annotations

import gzip
import stat
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from noc_tui.records.attempt_parser import AttemptParser, ParsedAttempts
from noc_tui.records.formats import KINDS, Rejection
from noc_tui.records.inbound import INBOUND_KINDS
from noc_tui.store.cache import BATCH, JSON_ATTEMPT_BATCH, Cache, IngestReport
from noc_tui.store.inbound import InboundIngest
from noc_tui.sync.readahead import read_ahead
from noc_tui.sync.record_files import (
    MAX_LINE,
    CsvRows,
    HeaderError,
    Lines,
    csv_header,
    open_bytes,
)

# Reference data first, so attempts are rated as they arrive (and inbound configuration
# before deliveries, which are then derived once).
ALL_KINDS = (*KINDS, *INBOUND_KINDS)
_ORDER = {k: i for i, k in enumerate(ALL_KINDS)}
_NAMES = ", ".join(f"{k}.*" for k in ALL_KINDS)
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
    kind = next((k for k in ALL_KINDS if base == k or base.startswith((k + "-", k + "_"))),
                None)
    if kind is None:
        raise RecordFileError(
            f"{path}: cannot tell the record kind from the name; name it "
            f"{_NAMES} (e.g. attempts.jsonl.gz)"
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
        try:
            is_dir = stat.S_ISDIR(p.stat().st_mode)  # stat: say why it cannot be read
            found = ([f for f in sorted(p.iterdir()) if f.is_file() and not f.name.startswith(".")]
                     if is_dir else [])
        except FileNotFoundError:
            raise RecordFileError(f"{p}: no such file or folder") from None
        except OSError as exc:
            raise RecordFileError(f"{p}: cannot be read ({exc.strerror or exc}); check that "
                                  "you may read it (and enter it, for a folder)") from None
        if is_dir:
            usable = []
            for f in found:
                try:
                    usable.append((f, *classify(f)))
                except RecordFileError:
                    continue  # folders may hold other files; only named record files count
            if not usable:
                raise RecordFileError(f"{p}: no record files ({_NAMES})")
            out.extend(usable)
        elif p.is_file():
            out.append((p, *classify(p)))
        else:
            raise RecordFileError(f"{p}: no such file or folder")
    out.sort(key=lambda t: _ORDER[t[1]])
    return out


def check_file(path: Path, kind: str, fmt: str, gz: bool) -> None:
    """RecordFileError unless the file can be opened and, for CSV, its first line is a
    header of its kind's fields (a JSON file named .csv would lose its first record as
    a "header", and every other as rows of the wrong shape)."""
    try:
        with open_bytes(path, gz) as fb:
            if fmt == "csv":
                csv_header(next(iter(CsvRows(Lines(fb, csv=True))), None), kind)
            else:
                fb.read1(1)  # type: ignore[attr-defined]
    except HeaderError as exc:
        raise RecordFileError(f"{path}: {exc}") from None
    except gzip.BadGzipFile as exc:
        raise RecordFileError(f"{path}: not gzip data ({exc}); if it is not compressed, "
                              "name it without .gz") from None
    except OSError as exc:
        raise RecordFileError(f"{path}: cannot be read ({exc.strerror or exc}); "
                              "check that it exists and that you may read it") from None
    except (EOFError, zlib.error):
        pass  # read up to the damage by the import, which reports it


def import_file(
    cache: Cache, path: Path, kind: str, fmt: str, gz: bool,
    progress: Callable[[int], None] | None = None,
    report: IngestReport | None = None,
) -> IngestReport:
    """Stream one file into the cache, a batch per transaction. `report`, if given, is
    kept up to date batch by batch (what was stored is known if the cache fails)."""
    report = report if report is not None else IngestReport(kind)
    label = str(path)
    buf: list[Any] = []
    wheres: list[str] = []
    # An inbound file is one unit: a delivery's attempts may be anywhere in it.
    inbound = cache.inbound_ingest(kind)
    sink: Cache | InboundIngest = inbound or cache

    def flush() -> None:
        if fmt == "jsonl":
            report.merge(sink.ingest_json_lines(kind, buf, wheres))
        else:
            report.merge(sink.ingest_batch(kind, buf, wheres))
        buf.clear()
        wheres.clear()
        if progress:
            progress(report.taken + report.rejected)

    def reject(where: str, reason: str, raw: Any = None) -> None:
        report.rejected += 1
        report.rejections.append(Rejection(where, reason, raw))

    try:
        fb = open_bytes(path, gz)
    except OSError as exc:
        reject(label, f"cannot be read ({exc.strerror or exc})")
        return report
    with fb:
        lines = Lines(fb, csv=fmt == "csv")
        if fmt == "jsonl" and kind == "attempts":
            # Parsed one batch ahead, in a thread, while the cache stores the last one.
            # The parser's database must outlive the thread: the cache reads from it.
            parser = AttemptParser(cache.rates_view())
            batches = read_ahead(_parsed_attempts(parser, lines, label), name="import-parse")
            try:
                for parsed in batches:
                    report.merge(cache.ingest_parsed(parsed))
                    if progress:
                        progress(report.taken + report.rejected)
            finally:
                batches.close()
                parser.close()
        elif fmt == "jsonl":
            for first, block in lines.blocks():
                for n, line in enumerate(block, first):
                    if line.strip():
                        buf.append(line)
                        wheres.append(f"{label}:{n}")
                        if len(buf) >= BATCH:
                            flush()
        else:
            rows = CsvRows(lines)
            it = iter(rows)
            try:
                header = csv_header(next(it, None), kind)
            except HeaderError as exc:
                raise RecordFileError(f"{path}: {exc}") from None  # check_file said it first
            rows.width = len(header)
            for row in it:
                where = f"{label}:{row.line}"
                if row.cells is None:
                    reject(where, row.problem or "not valid CSV")
                elif len(row.cells) > len(header):
                    reject(where, f"{len(row.cells)} cells, more than the header's "
                           f"{len(header)} columns", row.cells)
                else:
                    # Empty cell = null; cells missing at the end are left out (= null).
                    buf.append({k: (v if v != "" else None)
                                for k, v in zip(header, row.cells, strict=False) if k})
                    wheres.append(where)
                    if len(buf) >= BATCH:
                        flush()
        if buf:
            flush()
    for n in lines.too_long:
        reject(f"{label}:{n}", f"line longer than {MAX_LINE >> 20} MiB; skipped unread")
    if lines.cut is not None:
        # Everything before was read (and stored, if valid): say where the file broke.
        if lines.partial is None:
            reject(label, f"file could not be read further than line {lines.count}: "
                   f"{lines.cut}")
        else:
            where = f"{label}:{lines.partial}"
            if fmt == "csv":  # not given to the parser: a row cut short may look whole
                reject(where, "the row is cut off where the file ends")
            reject(label, f"file could not be read further than line {lines.partial - 1} "
                   f"and part of line {lines.partial}: {lines.cut}")
    if inbound is not None:
        report.merge(inbound.finish())
    return report


def _parsed_attempts(parser: AttemptParser, lines: Lines,
                     label: str) -> Iterator[ParsedAttempts]:
    buf: list[bytes] = []
    numbers: list[int] = []
    for first, block in lines.blocks():
        for n, line in enumerate(block, first):
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
    cache: Cache, paths: list[str | Path], progress: Callable[[Path, int], None] | None = None,
    summary: ImportSummary | None = None,
) -> ImportSummary:
    """Import files and folders; every file is checked before any is imported.
    `summary`, if given, is filled as the import goes (what was stored is known if the
    cache fails part way: sqlite3.Error is left to the caller)."""
    summary = summary if summary is not None else ImportSummary()
    files = expand_paths(paths)
    for path, kind, fmt, gz in files:
        check_file(path, kind, fmt, gz)
    for path, kind, fmt, gz in files:
        cb = (lambda n, p=path: progress(p, n)) if progress else None
        report = IngestReport(kind)
        summary.files.append((path, report))
        import_file(cache, path, kind, fmt, gz, cb, report)
    return summary
