"""The noc-tui command line: the dashboard by default, and headless commands.

Exit status: 0 everything taken, 1 something rejected or quarantined, 2 the command
could not run. A user's mistake or an environment problem ends with one clear message,
never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from noc_tui import __version__
from noc_tui.records.printable import printable_lines
from noc_tui.records.timefmt import (
    TimeFormatError,
    ms_to_iso,
    now_ms,
    parse_duration,
    parse_instant,
)

# The data layer (pydantic config, the cache) is imported by the steps that use it, after
# the dashboard has paused the garbage collector (noc_tui.ui.startup): every module
# imported before main() runs is paid before the first frame with the collector on.
if TYPE_CHECKING:
    from noc_tui.analytics.list_state import ListSnapshot
    from noc_tui.config import Settings
    from noc_tui.config_check import Checked
    from noc_tui.store.retention import PruneReport
    from noc_tui.ui.app import NocApp

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# As analytics.inbound.VIEWS and records.inbound.OUTCOMES, which load pydantic: the
# parser is built before the dashboard's first frame.
INBOUND_VIEWS = ("trunks", "dids", "deliveries", "findings")
INBOUND_OUTCOMES = ("answered_first_try", "answered_failover", "refused", "abandoned", "lost")
SHOW_REJECTIONS = 20


class UsageError(Exception):
    """A mistake in what the user asked for."""


def say(err: TextIO, text: str) -> None:
    """A message for the operator's terminal: file names, reasons and the switch's
    words in it show their control characters escaped."""
    print(printable_lines(text), file=err)


def _user_errors() -> tuple[type[Exception], ...]:
    """The exceptions that end with one message and status 2. CacheError only once the
    cache module is loaded: it cannot have been raised before, and importing it just to
    name it would cost the dashboard's first frame."""
    from noc_tui.settings_view import ConfigError

    errors: tuple[type[Exception], ...] = (ConfigError, UsageError, TimeFormatError)
    cache = sys.modules.get("noc_tui.store.cache")
    return (*errors, cache.CacheError) if cache is not None else errors


def _count(text: str) -> int:
    """argparse type: a whole number >= 1."""
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return n


def _port(text: str) -> int:
    """argparse type: a TCP port."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: give 0-65535")
    return port


def _size(low: int, high: int) -> Callable[[str], int]:
    """argparse type: a whole number within low-high (a terminal size)."""
    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            n = low - 1
        if not low <= n <= high:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number {low}-{high}")
        return n

    return parse


def _common(parser: argparse.ArgumentParser, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--cache", metavar="PATH", default=default,
                        help="cache file (default: $NOC_TUI_CACHE or the XDG cache dir)")
    parser.add_argument("--config", metavar="PATH", default=default,
                        help="config file (default: $NOC_TUI_CONFIG or the XDG config dir)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="noc-tui",
        description="Terminal dashboard for VoIP NOC operators: carrier health, failover "
        "and false answer supervision. Without a command it opens the dashboard.",
    )
    _common(p, suppress=False)
    p.add_argument("--version", action="version", version=f"noc-tui {__version__}")
    p.add_argument("--demo", action="store_true",
                   help="run the embedded demo switch and open the dashboard on it")
    p.add_argument("--theme", metavar="NAME", help="colour theme (noc-dark, noc-light, ...)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    imp = sub.add_parser("import", help="import record files (JSONL or CSV, optionally .gz)",
                         description="Import carriers.*, contacts.*, rates.* and attempts.* "
                         "files, and inbound trunk_groups.*, dids.*, registrations.* and "
                         "deliveries.* files, or folders of them, into the cache.")
    _common(imp, suppress=True)
    imp.add_argument("paths", nargs="+", metavar="PATH", help="files or folders")
    imp.add_argument("--rejects", metavar="FILE",
                     help="write every rejected record with its reason to FILE (JSONL)")
    imp.add_argument("--now", metavar="ISO", help="clock for the precomputed windows")

    exp = sub.add_parser("export", help="export a view as JSON or CSV, headless",
                         description="Export the carrier list, a carrier's summary or its "
                         "failover calls; or, inbound, the trunk-group list, a trunk "
                         "group's DIDs or deliveries, or the findings.")
    _common(exp, suppress=True)
    exp.add_argument("view", choices=("carriers", "summary", "failover", *INBOUND_VIEWS))
    exp.add_argument("--carrier", metavar="ID", help="carrier id (summary, failover)")
    exp.add_argument("--trunk-group", metavar="ID",
                     help="trunk group id (dids, deliveries; optional for findings)")
    exp.add_argument("--outcome", choices=INBOUND_OUTCOMES,
                     help="deliveries: only those with this outcome")
    exp.add_argument("--period", choices=("live", "daily", "monthly"), default="live")
    exp.add_argument("--direction", choices=("out", "in"), default="out",
                     help="failover: calls that failed on the carrier (out, default) or "
                     "that it picked up after another failed (in)")
    exp.add_argument("--window", metavar="DURATION", default="24h",
                     help="window such as 15m, 1h, 24h, 7d, 35d (default 24h)")
    exp.add_argument("--now", metavar="ISO", help="end of the window (default: the clock)")
    exp.add_argument("--format", choices=("json", "csv", "svg", "txt"), default="json")
    exp.add_argument("--width", type=_size(40, 1000), default=120, metavar="COLUMNS",
                     help="svg/txt: the terminal width to render at, 40-1000 (default 120)")
    exp.add_argument("--height", type=_size(10, 1000), default=40, metavar="LINES",
                     help="svg/txt: the terminal height to render at, 10-1000 (default 40)")
    exp.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default stdout)")

    prune = sub.add_parser(
        "prune", help="delete what the cache no longer keeps (runs after every poll and "
        "import)", description="Delete raw attempts older than cache.keep_attempts (their "
        "hourly figures stay, 13 months) and older poll bookkeeping, in short transactions.")
    _common(prune, suppress=True)
    prune.add_argument("--now", metavar="ISO", help="clock to prune by (default: the clock)")

    poll = sub.add_parser("poll", help="poll the switch API once (for cron or a timer)")
    _common(poll, suppress=True)
    poll.add_argument("--url", help="switch API base URL (default: source.url)")
    poll.add_argument("--token", help="API token (default: source.token); other users can "
                      "read it in the process list: prefer --token-file")
    poll.add_argument("--token-file", metavar="FILE",
                      help="read the API token from FILE (default: source.token_file)")
    poll.add_argument("--since", metavar="ISO", help="start of the window to fetch")
    poll.add_argument("--until", metavar="ISO", help="end of the window (default: now)")
    poll.add_argument("--follow", action="store_true",
                      help="poll again every poll.follow_interval (5s) until Ctrl-C or "
                      "SIGTERM, saying each poll that brought something or failed")

    doc = sub.add_parser(
        "doctor", help="check the configured source: reachability, TLS, credentials, "
        "paths, shapes", description="Try the configured source (source.kind) step by "
        "step and print one line per check: ok, warn, or PROBLEM with what to change in "
        "which config key. Reads only. Exit status 1 when a check found a problem.")
    _common(doc, suppress=True)

    quar = sub.add_parser("quarantine", help="list or export the records polls quarantined",
                          description="The records the switch served that a poll could not "
                          "take, each once, with where it came from and why.")
    _common(quar, suppress=True)
    quar.add_argument("action", nargs="?", choices=("list", "export"), default="list",
                      help="list (the newest, readable; default) or export (all, as data)")
    quar.add_argument("--kind", choices=("carriers", "contacts", "rates", "attempts"))
    quar.add_argument("--limit", type=_count, default=50, metavar="N",
                      help="list: the N newest (default 50)")
    quar.add_argument("--format", choices=("jsonl", "csv"), default="jsonl",
                      help="export: JSON lines (default) or CSV")
    quar.add_argument("-o", "--output", metavar="FILE", help="export: write to FILE")

    demo = sub.add_parser("demo-switch", help="serve the demo switch API v1")
    _common(demo, suppress=True)
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=_port, default=8080, help="TCP port, 0-65535 "
                      "(0: any free one; default 8080)")
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--token", help="require this bearer token (visible in the process "
                      "list: prefer --token-file)")
    demo.add_argument("--token-file", metavar="FILE",
                      help="require the bearer token held in FILE")
    return p


def _cache_path(args: argparse.Namespace, settings: Settings) -> Path:
    if getattr(args, "cache", None):
        return Path(args.cache).expanduser()
    return settings.cache_path()


def _about_the_cache(path: Path, err: TextIO) -> None:
    """Said before a command opens the cache: when others can read it, and when it is
    brought to this noc-tui's schema (minutes are possible on a large cache, so the
    operator is told rather than left watching nothing happen)."""
    from noc_tui.store.cache import SCHEMA_VERSION, file_schema
    from noc_tui.store.private_file import exposed

    warning = exposed(path)
    if warning:
        say(err, f"warning: {warning}")
    version = file_schema(path)
    if version is not None and 0 < version < SCHEMA_VERSION:
        say(err, f"noc-tui: updating the cache {path} from schema {version} to "
                 f"{SCHEMA_VERSION}; this is done once and takes a while on a large cache")
        err.flush()


def _now(args: argparse.Namespace) -> int:
    return parse_instant(args.now, "--now") if getattr(args, "now", None) else now_ms()


def cmd_import(args: argparse.Namespace, settings: Settings, err: TextIO) -> int:
    import sqlite3

    from noc_tui.alerts.delivery import Notifier, events, report_and_wait
    from noc_tui.analytics import inbound, metrics
    from noc_tui.analytics.alarms import AlarmChanges, judge_alarms
    from noc_tui.store.cache import HORIZON_KEY, Cache, cache_failure
    from noc_tui.store.retention import prune
    from noc_tui.sync.importer import ImportSummary, RecordFileError, import_paths

    now = _now(args)
    path = _cache_path(args, settings)
    _about_the_cache(path, err)
    summary = ImportSummary()
    changes = AlarmChanges()
    problems: list[str] = []  # what stopped the import part way, said after the summary
    horizon: str | None = None  # where the kept attempts began before this import
    pruned: PruneReport | None = None
    try:
        with Cache(path, settings.metrics) as cache:
            horizon = cache.meta(HORIZON_KEY)
            import_paths(cache, args.paths, summary=summary)
            pruned = prune(cache, now, _keep_ms(settings))
            metrics.refresh_standard_windows(cache, now)
            inbound.refresh_standard_windows(cache, now)
            # The alarms of what the cache holds now, as a poll raises them.
            changes = judge_alarms(cache, settings.alarms)
    except RecordFileError as exc:
        raise UsageError(str(exc)) from None
    except sqlite3.Error as exc:
        # The disk filled up, the cache is read-only or damaged...: every batch committed
        # before stays, and the summary below says how much that was.
        problems.append(str(cache_failure(path, exc)))
    for path, rep in summary.files:
        closed = ""
        if rep.closed and horizon is not None:
            closed = (f", {rep.closed} not taken: they start before {ms_to_iso(int(horizon))}, "
                      "in hours the cache keeps as hourly figures only (cache.keep_attempts)")
        say(err, f"{path}: {rep.taken} taken ({rep.unchanged} unchanged), "
                 f"{rep.rejected} rejected{closed}")
    for rej in islice(summary.rejections(), SHOW_REJECTIONS):
        say(err, f"  rejected {rej.where}: {rej.reason}")
    if summary.rejected > SHOW_REJECTIONS:
        say(err, f"  ... and {summary.rejected - SHOW_REJECTIONS} more rejected"
                 + ("" if args.rejects else " (use --rejects FILE to list them all)"))
    if args.rejects:
        import json

        from noc_tui.analytics.export import write_private
        lines = [json.dumps({"where": r.where, "reason": r.reason, "record": r.raw},
                            default=str) for r in summary.rejections()]
        try:
            write_private(Path(args.rejects), "".join(line + "\n" for line in lines))
        except OSError as exc:
            problems.append(f"{args.rejects}: cannot write the rejected records "
                            f"({exc.strerror or exc}); give another --rejects FILE")
    say(err, f"imported {summary.taken} records, rejected {summary.rejected}")
    if pruned is not None and (pruned.attempts or pruned.rollups):
        say(err, _pruned_line(pruned, settings))
    if changes:
        notifier = Notifier(settings.alarms, path)
        notifier.submit(events(changes.raised, changes.cleared,
                               settings.alarms.notify_cleared))
        report_and_wait(notifier, events(changes.raised, changes.cleared),
                        lambda line: say(err, f"noc-tui: {line}"))
    for problem in problems:
        say(err, f"noc-tui: {problem}")
    if problems:
        return EXIT_USAGE
    return EXIT_FAILED if summary.rejected else EXIT_OK


def _keep_ms(settings: Settings) -> int:
    return parse_duration(settings.cache.keep_attempts) * 1000


def _pruned_line(report: PruneReport, settings: Settings) -> str:
    kept = ms_to_iso(report.horizon_ms) if report.horizon_ms is not None else "now"
    hours = ms_to_iso(report.rollups_from_ms) if report.rollups_from_ms is not None else "now"
    return (f"pruned {report.attempts:,} attempts of {report.calls:,} calls and "
            f"{report.links:,} failover links (attempts are kept from {kept}, "
            f"cache.keep_attempts = {settings.cache.keep_attempts}), {report.rollups:,} "
            f"hourly figures (kept from {hours}), {report.quarantined:,} quarantined "
            f"records and {report.poll_runs:,} poll runs; inbound: "
            f"{report.delivery_attempts:,} attempts of {report.deliveries:,} deliveries, "
            f"{report.registrations:,} registration events and {report.inbound_rollups:,} "
            "hourly figures")


def cmd_prune(args: argparse.Namespace, settings: Settings, err: TextIO) -> int:
    import sqlite3

    from noc_tui.store.cache import Cache, cache_failure
    from noc_tui.store.retention import prune

    now = _now(args)
    path = _cache_path(args, settings)
    if not path.exists():
        raise UsageError(f"{path}: no cache yet; nothing to prune")
    _about_the_cache(path, err)
    try:
        with Cache(path, settings.metrics) as cache:
            report = prune(cache, now, _keep_ms(settings))
    except sqlite3.Error as exc:
        # What was pruned before stays: each batch commits on its own.
        raise cache_failure(path, exc) from None
    print(_pruned_line(report, settings)
          + f"; {report.transactions:,} transactions, the longest "
          f"{report.max_transaction_s * 1000:.0f} ms before its commit", file=err)
    return EXIT_OK


def cmd_export(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    import sqlite3

    from noc_tui.analytics.export import ExportError, build, to_csv, to_json, write_private
    from noc_tui.store.cache import Cache, cache_failure

    window_s = parse_duration(args.window)
    if window_s * 1000 > _keep_ms(settings):
        raise UsageError(f"--window {args.window} is longer than the cache keeps attempts "
                         f"(cache.keep_attempts = {settings.cache.keep_attempts}): ask for "
                         "at most that, or keep attempts longer")
    now = _now(args)
    path = _cache_path(args, settings)
    if not path.exists():
        raise UsageError(f"{path}: no cache yet; run noc-tui import or noc-tui poll first")
    _about_the_cache(path, sys.stderr)
    # Both sides are pruned to the same horizon.
    _warn_if_pruned(path, settings, now - window_s * 1000, sys.stderr)
    if args.view in INBOUND_VIEWS:
        text = _inbound_export(args, settings, path, now, window_s)
    elif args.format in ("svg", "txt"):
        from noc_tui.ui.render import render_view

        # svg and txt render the dashboard's own screen, which shows 1h, 24h or 7d.
        window = {3600: "1h", 86400: "24h", 7 * 86400: "7d"}.get(window_s)
        if window is None:
            raise UsageError("--format svg/txt render the dashboard, whose windows are "
                             "1h, 24h and 7d; use json or csv for other windows")
        if args.view != "carriers" and not args.carrier:
            raise UsageError(f"the {args.view} view needs --carrier ID")
        ui = settings.ui.model_copy(update={"window": window})
        text = render_view(settings.model_copy(update={"ui": ui}), path, args.view,
                           args.carrier, args.format, size=(args.width, args.height),
                           now_ms=now, period=args.period, direction=args.direction)
    else:
        try:
            with Cache(path, settings.metrics) as cache:
                doc, rows, columns = build(cache, args.view, now, window_s, args.carrier,
                                           args.period, settings=settings,
                                           direction=args.direction)
        except ExportError as exc:
            raise UsageError(str(exc)) from None
        except sqlite3.Error as exc:
            raise cache_failure(path, exc) from None
        text = to_json(doc) if args.format == "json" else \
            to_csv(rows, columns, doc.get("currency"))
    if args.output:
        written = write_private(Path(args.output), text)  # the data as it is
        say(sys.stderr, f"wrote {written}")
    else:
        # On a terminal, or a pager: names and reasons with their controls escaped.
        out.write(printable_lines(text))
    return EXIT_OK


def _warn_if_pruned(path: Path, settings: Settings, start_ms: int, err: TextIO) -> None:
    """A window that starts before the attempts the cache keeps: its figures lack the
    pruned attempts (an export --now far back); say so rather than show them as whole."""
    import sqlite3

    from noc_tui.store.cache import HORIZON_KEY, Cache, CacheError

    try:
        with Cache(path, settings.metrics, readonly=True) as cache:
            horizon = cache.meta(HORIZON_KEY)
    except (sqlite3.Error, CacheError):
        return  # the export itself says what is wrong with the cache
    if horizon is not None and start_ms < int(horizon):
        print(f"noc-tui: warning: the window starts at {ms_to_iso(start_ms)}, before "
              f"{ms_to_iso(int(horizon))}, where the attempts this cache keeps begin "
              f"(cache.keep_attempts = {settings.cache.keep_attempts}): figures that "
              "need older attempts are missing them", file=err)


def _inbound_export(args: argparse.Namespace, settings: Settings, path: Path, now: int,
                   window_s: int) -> str:
    import sqlite3

    from noc_tui.analytics import inbound
    from noc_tui.analytics.export import to_csv, to_json
    from noc_tui.store.cache import Cache, cache_failure

    if args.format not in ("json", "csv"):
        raise UsageError(f"the {args.view} view exports as json or csv")
    try:
        with Cache(path, settings.metrics) as cache:
            doc, rows = inbound.build(cache, args.view, now, window_s, args.trunk_group,
                                      args.outcome)
    except inbound.InboundExportError as exc:
        raise UsageError(str(exc)) from None
    except sqlite3.Error as exc:
        raise cache_failure(path, exc) from None
    if args.format == "json":
        return to_json(doc)
    flat, columns = inbound.flat(rows)
    return to_csv(flat, columns)


def _token(args: argparse.Namespace, err: TextIO) -> str | None:
    """The token given on the command line, by --token (with a warning) or --token-file."""
    if args.token and args.token_file:
        raise UsageError("give --token or --token-file, not both")
    if args.token:
        say(err, "warning: --token is visible to other users of this machine in the process "
                 "list; use --token-file FILE, source.token_file or NOC_TUI_SOURCE__TOKEN")
        return str(args.token)
    if args.token_file:
        from noc_tui.sources.http import read_token_file

        try:
            return read_token_file(args.token_file, "--token-file")
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    return None


def cmd_poll(args: argparse.Namespace, settings: Settings, config_path: Path,
             err: TextIO) -> int:
    from noc_tui.sync.poller import run_poll_command

    if args.follow and (args.since or args.until):
        raise UsageError("--follow polls on from where the cache left off: leave out "
                         "--since and --until")
    token = _token(args, err)
    path = _cache_path(args, settings)
    _about_the_cache(path, err)
    if args.follow:
        from noc_tui.sync.follow import run_follow_command

        return run_follow_command(settings, path, url=args.url, token=token, out=err,
                                  config_path=config_path)
    return run_poll_command(settings, path, url=args.url,
                            token=token, since=args.since, until=args.until,
                            out=err, config_path=config_path)


def cmd_quarantine(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    import sqlite3

    from noc_tui.store.cache import cache_failure

    path = _cache_path(args, settings)
    if not path.exists():
        raise UsageError(f"{path}: no cache yet; run noc-tui poll first")
    try:
        return _quarantine(args, path, settings, out)
    except sqlite3.Error as exc:
        raise cache_failure(path, exc) from None


def _quarantine(args: argparse.Namespace, path: Path, settings: Settings, out: TextIO) -> int:
    import json

    from noc_tui.analytics.export import to_csv, write_private
    from noc_tui.store.cache import Cache
    from noc_tui.store.quarantine import COLUMNS, quarantine_count, quarantined
    from noc_tui.ui.cells import clean

    with Cache(path, settings.metrics, readonly=True) as cache:
        if args.action == "list":
            total = quarantine_count(cache)
            shown = 0
            # Records come from the switch: their control characters are shown escaped.
            for q in quarantined(cache, args.kind, args.limit):
                shown += 1
                record = q["record"] if isinstance(q["record"], str) else json.dumps(
                    q["record"], ensure_ascii=False, sort_keys=True)
                out.write(f"#{q['id']} {q['received_at']} poll {q['run_id']}, "
                          f"{clean(q['where'])}: {clean(q['reason'])}\n    {clean(record)}\n")
            more = f" ({shown} shown; noc-tui quarantine export has them all)" if (
                shown < total and not args.kind) else ""
            say(sys.stderr, f"{total:,} records quarantined{more}")
            return EXIT_OK
        rows = list(quarantined(cache, args.kind))
    # A file keeps the records faithful; on a terminal, control characters are escaped
    # (JSON as \u escapes, CSV cells as clean shows them).
    faithful = bool(args.output)
    if args.format == "csv":
        cells = [{**r, "record": r["record"] if isinstance(r["record"], str) else
                  json.dumps(r["record"], ensure_ascii=False, sort_keys=True)} for r in rows]
        if not faithful:
            cells = [{k: clean(v) if isinstance(v, str) else v for k, v in r.items()}
                     for r in cells]
        text = to_csv(cells, COLUMNS)
    else:
        text = "".join(json.dumps(r, ensure_ascii=not faithful) + "\n" for r in rows)
    if args.output:
        say(sys.stderr, f"wrote {write_private(Path(args.output), text)} "
                        f"({len(rows):,} records)")
    else:
        out.write(text)
    return EXIT_OK


def cmd_doctor(settings: Settings, out: TextIO) -> int:
    from noc_tui.records.printable import printable
    from noc_tui.sync.doctor import PROBLEM, doctor

    out.write(f"noc-tui doctor: source.kind = {settings.source.kind!r}\n")
    problems = 0
    for check in doctor(settings):
        problems += check.status == PROBLEM
        # What the switch answered is data: its control characters are shown escaped.
        out.write(printable(check.line()) + "\n")
        out.flush()
    out.write(f"{problems} problem{'s' if problems != 1 else ''} found\n" if problems
              else "no problem found\n")
    return EXIT_FAILED if problems else EXIT_OK


def cmd_demo_switch(args: argparse.Namespace, err: TextIO) -> int:
    from noc_tui.demo_switch import serve_forever

    return serve_forever(args.host, args.port, args.seed, token=_token(args, err))


def dashboard_app(args: argparse.Namespace, settings: Settings, config_path: Path,
                  first_list: Callable[[], ListSnapshot | None] | None = None,
                  **app_options: Any) -> NocApp:
    """The dashboard app, ready to run: what `noc-tui` does between loading the config and
    taking the terminal. `first_list`: waits for the carrier list read ahead
    (prepare_dashboard) by a process that brings the cache to the current schema first,
    or says None; the app's first load then does both itself."""
    from noc_tui.ui.app import NocApp

    path = _cache_path(args, settings)
    if first_list is None:
        from noc_tui.store.cache import migrate_file

        migrate_file(path, settings.metrics)
    from noc_tui.settings_view import source_missing

    poller = None
    if source_missing(settings.source) is None:
        from noc_tui.sync.poller import Poller

        poller = Poller(settings, path)
    if "state" not in app_options:
        from noc_tui.ui.saved_state import SavedState, default_state_path

        app_options["state"] = SavedState.load(default_state_path())
    return NocApp(settings, path, poller=poller, theme=args.theme, config_path=config_path,
                  first_list=first_list, **app_options)


def prepare_dashboard(args: argparse.Namespace, err: TextIO, **app_options: Any) -> NocApp:
    """`noc-tui` from its arguments to the app, ready to run. The config is validated in
    a forked child while this process imports Textual: both take about a quarter of a
    second, and run side by side on two cores (noc_tui.config_check)."""
    from noc_tui.config_check import ConfigCheck
    from noc_tui.ui.saved_state import SavedState, default_state_path

    clock = app_options.get("clock")
    # The window the operator left the dashboard on, for the list read ahead.
    state = app_options.setdefault("state", SavedState.load(default_state_path()))

    def first_list(settings: Settings, config_path: Path) -> ListSnapshot:
        # In the child, with the validated settings: the cache brought to the current
        # schema (as dashboard_app does) and the carrier list read, ready for the first
        # frame. SQLite is safe here: the parent opened no connection before the fork.
        from noc_tui.analytics.views import list_snapshot
        from noc_tui.store.cache import migrate_file

        path = _cache_path(args, settings)
        migrate_file(path, settings.metrics)
        now = clock() if clock is not None else now_ms()
        # Its rows share one string object per column name (metrics._stored_row): each
        # is pickled once, not once per row.
        return list_snapshot(path, settings, config_path, state.window or settings.ui.window,
                             now)

    check = ConfigCheck(args.config, then=first_list)
    from noc_tui.ui import terminal

    terminal.on_hangup(check.close)  # the forked child goes with the dashboard
    try:
        import noc_tui.ui.app  # noqa: F401 (the long import, while the child works)

        checked = check.result()
        settings, config_path = _with_warnings(checked, err)
        # The list follows the settings down the pipe: the app starts without waiting
        # for it, and its first load takes it from there (then_result reaps the child).
        ahead = check if check.pid else None
        return dashboard_app(args, settings, config_path, first_list=ahead, **app_options)
    except BaseException:
        check.close()
        raise


def cmd_dashboard(args: argparse.Namespace, err: TextIO) -> int:
    from noc_tui.ui.app import run_app

    return run_app(prepare_dashboard(args, err))


def cmd_demo(args: argparse.Namespace, settings: Settings, config_path: Path) -> int:
    from noc_tui.demo import run_demo

    cache = Path(args.cache) if args.cache else None
    return run_demo(settings, cache, theme=args.theme, config_path=config_path)


def load_config(args: argparse.Namespace, err: TextIO) -> tuple[Settings, Path]:
    """The validated settings and the config file's path; warnings go to err."""
    from noc_tui.config_check import check_in_process

    return _with_warnings(check_in_process(args.config), err)


def _with_warnings(checked: Checked, err: TextIO) -> tuple[Settings, Path]:
    for w in checked.warnings:
        say(err, f"warning: {w}")
    return checked.settings, checked.path


def opens_dashboard(args: argparse.Namespace) -> bool:
    return args.command is None and not args.demo


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    err = sys.stderr
    from noc_tui.ui.startup import hold_gc, release_gc

    if opens_dashboard(args) or (args.command is None and args.demo):
        from noc_tui.ui import terminal

        why = terminal.missing_terminal()
        if why is not None:
            print(f"noc-tui: {why}", file=err)
            return EXIT_USAGE
        terminal.arm()  # a hang-up from here on ends the process, start-up included

    if opens_dashboard(args):
        hold_gc()  # until the first frame; see noc_tui.ui.startup
    try:
        if opens_dashboard(args):
            return cmd_dashboard(args, err)
        settings, config_path = load_config(args, err)
        if args.command == "import":
            return cmd_import(args, settings, err)
        if args.command == "export":
            return cmd_export(args, settings, sys.stdout)
        if args.command == "poll":
            return cmd_poll(args, settings, config_path, err)
        if args.command == "doctor":
            return cmd_doctor(settings, sys.stdout)
        if args.command == "quarantine":
            return cmd_quarantine(args, settings, sys.stdout)
        if args.command == "prune":
            return cmd_prune(args, settings, err)
        if args.command == "demo-switch":
            return cmd_demo_switch(args, err)
        return cmd_demo(args, settings, config_path)
    except _user_errors() as exc:  # evaluated only when something was raised
        say(err, f"noc-tui: {exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `noc-tui export ... | head` closing the pipe early is not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except OSError as exc:
        # A file or folder the command needed (-o FILE, --rejects FILE...) could not be
        # made or read: the environment's problem, said in one line.
        where = f"{exc.filename}: " if exc.filename else ""
        say(err, f"noc-tui: {where}{exc.strerror or exc}; check the path and that you may "
                 "use it")
        return EXIT_USAGE
    finally:
        release_gc()  # a bad config or cache ends before the dashboard released it
