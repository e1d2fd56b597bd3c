"""The poller against the real demo switch over loopback HTTP, into real SQLite files.

"Exact" means the cache holds every record the switch serves for the polled windows,
every field equal (instants converted back to ISO), once: lists compared in API order.
"""

from __future__ import annotations

import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from noc_tui.config import Settings
from noc_tui.demo_switch import DemoSwitch
from noc_tui.demo_switch.server import Payload
from noc_tui.records.formats import FIELDS, validate
from noc_tui.records.timefmt import HOUR_MS, ms_to_iso, now_ms
from noc_tui.sources.apiv1 import SourceClient
from noc_tui.store.cache import Cache
from noc_tui.sync.poller import (
    EXIT_NOT_RUN,
    EXIT_OK,
    EXIT_REJECTED,
    PROGRESS_KEY,
    Poller,
    PollLock,
    PollLocked,
    PollProgress,
    PollResult,
    poll_running,
    poll_status,
    run_poll_command,
)

ROOT = Path(__file__).resolve().parent.parent
# The switch starts (and its clock stands) at the last whole hour but one, so the
# poller's "until" (the real now) is always after everything the switch publishes.
T0 = now_ms() // HOUR_MS * HOUR_MS - HOUR_MS
FAST_BACKOFF = 0.005
MINUTE_MS = 60_000


class Clock:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


@pytest.fixture
def make_switch() -> Iterator[Callable[..., DemoSwitch]]:
    started: list[DemoSwitch] = []

    def make(cls: type[DemoSwitch] = DemoSwitch, *, cpm: float = 1.0, seed: int = 11,
             clock: Callable[[], int] | None = None, token: str | None = None) -> DemoSwitch:
        sw = cls(seed=seed, start_ms=T0, clock=clock or Clock(T0), calls_per_min=cpm,
                 token=token)
        started.append(sw.start())
        return sw

    yield make
    for sw in started:
        sw.stop()


def _settings(url: str, backfill: str = "1d", **source: Any) -> Settings:
    src = {"url": url, "page_limit": 100, "retries": 6, **source}
    return Settings(source=src, poll={"backfill": backfill, "overlap": "2h"})


def _poller(sw: DemoSwitch, path: Path, backfill: str = "1d", token: str | None = None,
            **source: Any) -> Poller:
    return Poller(_settings(sw.url, backfill, **source), path, token=token,
                  backoff_base_s=FAST_BACKOFF, retry_after_cap_s=5)


# -- exactness -------------------------------------------------------------------------


def _served(sw: DemoSwitch, since: int, until: int) -> dict[str, list[dict[str, Any]]]:
    """What the switch serves now, from its simulator (test_source proves it equal to
    the HTTP answers) with the same late-publication settings."""
    sim, f = sw.simulator, sw.faults
    rows = sim.iter_rows(since, until, sw.clock(), None, f.late_fraction, f.late_delay_ms)
    norm = {k: [{c: r.get(c) for c in FIELDS[k]} for r in recs] for k, recs in (
        ("carriers", sim.carriers()), ("contacts", sim.contacts()), ("rates", sim.rates()))}
    norm["carriers"].sort(key=lambda r: r["id"])
    norm["contacts"].sort(key=lambda r: (r["carrier_id"], r["name"]))
    norm["rates"].sort(key=lambda r: (r["carrier_id"], r["card_id"], r["prefix"],
                                      r["effective_from"]))
    norm["attempts"] = [sim.record(r) for r in rows]
    return norm


def _cached(path: Path) -> dict[str, list[dict[str, Any]]]:
    """The cache's records converted back to API form (ms -> ISO, code lists)."""
    with Cache(path, readonly=True) as cache:
        q = cache.conn.execute
        carriers = []
        for r in q(f"SELECT {','.join(FIELDS['carriers'])} FROM carriers ORDER BY id"):
            rec = dict(zip(FIELDS["carriers"], r, strict=True))
            codes = rec["halt_codes"]
            rec["halt_codes"] = [int(c) for c in codes.split(",")] if codes else None
            carriers.append(rec)
        contacts = [dict(zip(FIELDS["contacts"], r, strict=True)) for r in q(
            f"SELECT {','.join(FIELDS['contacts'])} FROM contacts ORDER BY carrier_id, name")]
        rates = []
        for r in q(f"SELECT {','.join(FIELDS['rates'])} FROM rates "
                   "ORDER BY carrier_id, card_id, prefix, effective_from"):
            rec = dict(zip(FIELDS["rates"], r, strict=True))
            rec["effective_from"] = ms_to_iso(rec["effective_from"])
            rates.append(rec)
        attempts = []
        for r in q("SELECT call_id, seq, carrier_id, ts, dst, cli, sip_code, sip_reason, "
                   "pdd_ms, duration_s, release_reason FROM attempts ORDER BY ts, call_id, seq"):
            rec = dict(zip(FIELDS["attempts"], r, strict=True))
            rec["started_at"] = ms_to_iso(rec["started_at"])
            attempts.append(rec)
    return {"carriers": carriers, "contacts": contacts, "rates": rates, "attempts": attempts}


def _polled_window(path: Path) -> tuple[int, int]:
    """The window of the polls that succeeded or committed a page. A failed poll that
    committed nothing began its window a moment earlier (its "now" was earlier); an
    attempt in that moment is not the cache's to hold."""
    with Cache(path, readonly=True) as cache:
        lo, hi = cache.conn.execute(
            "SELECT min(since), max(until) FROM poll_runs "
            "WHERE status = 'ok' OR pages > 0").fetchone()
    return lo, hi


def assert_exact(sw: DemoSwitch, path: Path) -> dict[str, list[dict[str, Any]]]:
    since, until = _polled_window(path)
    expected = _served(sw, since, until)
    got = _cached(path)
    for kind in ("carriers", "contacts", "rates"):
        assert got[kind] == expected[kind], kind
    assert len(got["attempts"]) == len(expected["attempts"])
    assert got["attempts"] == expected["attempts"]
    return got


def _inbound_rows(kind: str, records: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Served inbound records as the cache's rows (defaults applied, instants as ms)."""
    from noc_tui.records import inbound

    good, bad = validate(kind, records, [str(i) for i in range(len(records))])
    assert bad == [], bad[:3]
    return sorted(inbound.to_row(kind, r) for r in good)


def assert_inbound_exact(sw: DemoSwitch, path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """The cache's inbound records are exactly what the switch serves for the polled
    window: the configuration, the registration events at and the deliveries whose
    first attempt started in it, published by the switch's now; none lost, none twice."""
    from noc_tui.records.inbound import COLUMNS

    since, until = _polled_window(path)
    sim, now = sw.inbound, sw.clock()
    served = {
        "trunk_groups": sim.trunk_groups(), "dids": sim.dids(),
        "registrations": [sim.event_record(e)
                          for e in sim.registration_events(since, until, now)[0]],
        "deliveries": [a for _k, a in sim.deliveries_page(since, until, now)[0]],
    }
    got: dict[str, list[tuple[Any, ...]]] = {}
    with Cache(path, readonly=True) as cache:
        for kind, records in served.items():
            expected = _inbound_rows(kind, records)
            table = "delivery_attempts" if kind == "deliveries" else kind
            got[kind] = sorted(cache.conn.execute(
                f"SELECT {', '.join(COLUMNS[kind])} FROM {table}"))
            assert len(got[kind]) == len(expected), kind
            assert got[kind] == expected, kind
        # One row per delivery, none left over from a delivery the cache lacks.
        ids = {r[0] for r in got["deliveries"]}
        assert {r[0] for r in cache.conn.execute("SELECT delivery_id FROM deliveries")} == ids
    return got


def _runs(path: Path) -> list[dict[str, Any]]:
    with Cache(path, readonly=True) as cache:
        return list(cache.db.query("SELECT * FROM poll_runs ORDER BY id"))


# -- the poll itself ---------------------------------------------------------------------


def test_full_backfill_equals_the_source(make_switch: Callable[..., DemoSwitch],
                                         tmp_path: Path) -> None:
    sw = make_switch(cpm=0.1)
    path = tmp_path / "cache.db"
    seen: list[PollProgress] = []
    poller = Poller(Settings(source={"url": sw.url, "page_limit": 2000}), path)  # 35d default
    result = poller.poll_once(on_progress=seen.append)
    assert result.ok, result.error
    assert result.until_ms - result.since_ms == 35 * 24 * HOUR_MS
    # Against what the switch serves over HTTP, not only its simulator.
    with SourceClient(poller.settings.source, url=sw.url) as client:
        served = [a for p in client.attempts(result.since_ms, result.until_ms) for a in p.items]
    got = assert_exact(sw, path)
    assert got["attempts"] == served and len(served) > 3000
    assert result.attempts == len(served) and result.quarantined == 0
    # No fault, no retry; a listing the switch does not serve (404) is one request.
    assert result.requests == result.pages + len(result.notes)

    run = _runs(path)[-1]
    assert run["status"] == "ok" and run["taken"] == result.taken
    assert run["pages"] == result.pages and run["error_kind"] is None
    assert run["ended_at"] >= run["started_at"]
    with Cache(path, readonly=True) as cache:
        status = poll_status(cache)
        assert cache.meta("metrics_now_ms") is not None  # standard windows refreshed
    assert status.status == "ok" and status.watermark == result.until_ms
    assert status.last_success_end == result.ended_ms and not status.is_running

    phases = [p.phase for p in seen]
    assert phases[:3] == ["carriers", "contacts", "rates"] and phases[-1] == "done"
    fractions = [p.fraction for p in seen if p.phase == "attempts"]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0  # type: ignore[type-var]

    # The next poll re-fetches only the overlap, and duplicates nothing.
    again = poller.poll_once()
    assert again.ok and again.since_ms == result.until_ms - 2 * HOUR_MS
    assert again.pages < 10
    assert_exact(sw, path)


def _poll_until_ok(poller: Poller, sw: DemoSwitch, tries: int = 3) -> list[PollResult]:
    """Poll; after a failed poll the faults are cleared (recovery) and it polls again."""
    results = []
    for _ in range(tries):
        results.append(poller.poll_once())
        if results[-1].ok:
            return results
        sw.faults.reset()
    raise AssertionError(f"no successful poll: {results}")


def test_the_dashboards_settings_views_drive_the_poller_exactly(
        make_switch: Callable[..., DemoSwitch], tmp_path: Path) -> None:
    # The dashboard gets its settings as plain views (noc_tui.settings_view), bearer
    # token included, and hands them to the poller it runs.
    from noc_tui.config import to_plain
    from noc_tui.settings_view import SectionView, from_plain

    sw = make_switch(cpm=0.2, token="s3cret")
    path = tmp_path / "cache.db"
    view = from_plain(to_plain(_settings(sw.url, token="s3cret")))
    assert isinstance(view, SectionView)
    result = Poller(view, path, backoff_base_s=FAST_BACKOFF).poll_once()
    assert result.ok, result.error
    assert result.attempts > 100
    assert_exact(sw, path)


@pytest.mark.parametrize("fault", ["errors", "latency", "timeouts", "429", "drops"])
def test_exact_after_each_fault(make_switch: Callable[..., DemoSwitch], tmp_path: Path,
                                fault: str) -> None:
    sw = make_switch()
    path = tmp_path / "cache.db"
    extra: dict[str, Any] = {}
    f = sw.faults
    if fault == "errors":
        f.error_rate = 0.3
    elif fault == "latency":
        f.latency_ms = 20
    elif fault == "timeouts":
        f.latency_ms = 400
        extra = {"read_timeout_s": 0.1, "retries": 1}
    elif fault == "429":
        f.burst_429(2, retry_after_s=1)
    elif fault == "drops":
        f.drop(3)
        f.drop_rate = 0.1
    t = time.monotonic()
    results = _poll_until_ok(_poller(sw, path, **extra), sw)
    assert_exact(sw, path)
    if fault == "timeouts":
        assert [r.status for r in results] == ["failed", "ok"]
        assert results[0].error_kind == "unreachable"
        assert [r["status"] for r in _runs(path)] == ["failed", "ok"]
    else:
        assert len(results) == 1  # retries absorbed it
        assert results[0].requests > results[0].pages or fault == "latency"
    if fault == "429":
        assert f.injected["rate_limit"] == 2 and time.monotonic() - t >= 2.0
    elif fault == "errors":
        assert f.injected["error"] > 0
    elif fault == "drops":
        assert f.injected["drop"] >= 3


def test_late_publication_is_caught_by_the_overlap(make_switch: Callable[..., DemoSwitch],
                                                   tmp_path: Path) -> None:
    clock = Clock(T0)
    sw = make_switch(clock=clock, cpm=3.0)
    sw.faults.late_fraction = 0.3
    sw.faults.late_delay_ms = 40 * MINUTE_MS
    path = tmp_path / "cache.db"
    poller = _poller(sw, path)
    # The poller's window ends at the switch's clock, not the wall clock: the overlap is
    # then measured against the same time line as the late publication.
    assert poller.poll_once(until_ms=clock.ms).ok
    first = assert_exact(sw, path)["attempts"]
    clock.ms += 45 * MINUTE_MS  # time passes: the late records are published
    assert poller.poll_once(until_ms=clock.ms).ok
    second = assert_exact(sw, path)["attempts"]
    # Records inside the first poll's window [.., T0) that only the second one brought:
    # late publications caught by the overlap (the last 40 minutes' late calls).
    polled = ms_to_iso(T0)
    old = [a for a in second if a["started_at"] < polled]
    assert len(old) > len([a for a in first if a["started_at"] < polled])


def test_killed_part_way_then_run_again_is_exact(make_switch: Callable[..., DemoSwitch],
                                                 tmp_path: Path) -> None:
    sw = make_switch()
    sw.faults.latency_ms = 60  # slow pages, so the kill lands mid-poll
    path = tmp_path / "cache.db"
    code = ("import sys; from noc_tui.config import Settings; "
            "from noc_tui.sync.poller import run_poll_command; "
            "s = Settings(source={'url': sys.argv[1], 'page_limit': 40}, "
            "poll={'backfill': '1d'}); sys.exit(run_poll_command(s, sys.argv[2]))")
    proc = subprocess.Popen([sys.executable, "-c", code, sw.url, str(path)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        pages = 0
        while pages < 8:
            assert proc.poll() is None, "the poll finished before it could be killed"
            assert time.monotonic() < deadline, "the poll made no progress"
            time.sleep(0.05)
            try:
                pages = max([r["pages"] for r in _runs(path) if r["status"] == "running"],
                            default=0)
            except (sqlite3.Error, Exception):
                pages = 0
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        if proc.stderr:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert not poll_running(path)  # the dead process left no lock behind
    with Cache(path, readonly=True) as cache:
        status = poll_status(cache)
        partial = cache.counts()["attempts"]
    assert status.status == "failed" and status.error_kind == "interrupted"
    assert status.watermark is None and partial > 0
    with Cache(path, readonly=True) as cache:
        progress = int(cache.conn.execute("SELECT value FROM poll_state WHERE key = ?",
                                          (PROGRESS_KEY,)).fetchone()[0])

    sw.faults.reset()
    result = _poller(sw, path).poll_once()
    assert result.ok
    first = _runs(path)[0]
    assert first["status"] == "failed" and first["error_kind"] == "interrupted"
    assert progress > first["since"]  # the killed poll had stored pages
    # It resumed from the killed poll's progress minus the overlap, not from scratch
    # (which would start a day before this poll's now). Whether that is before or after
    # the killed poll's start depends on how much traffic its pages held (time of day).
    assert result.since_ms == progress - 2 * HOUR_MS
    assert_exact(sw, path)


# -- failures that must be clear -------------------------------------------------------


def test_wrong_token_is_unauthorised_without_a_retry_storm(
    make_switch: Callable[..., DemoSwitch], tmp_path: Path
) -> None:
    sw = make_switch(token="right-token")
    path = tmp_path / "cache.db"
    result = _poller(sw, path, token="wrong-token-123", retries=10).poll_once()
    assert result.status == "failed" and result.error_kind == "unauthorised"
    assert result.requests == 1
    run = _runs(path)[-1]
    assert run["status"] == "failed" and run["error_kind"] == "unauthorised"
    assert "wrong-token-123" not in (run["error"] or "")
    with Cache(path, readonly=True) as cache:
        assert poll_status(cache).error_kind == "unauthorised"

    out = io.StringIO()
    settings = _settings(sw.url)
    assert run_poll_command(settings, path, token="wrong-token-123", out=out) == EXIT_NOT_RUN
    assert "unauthorised" in out.getvalue() and "wrong-token-123" not in out.getvalue()
    assert "Traceback" not in out.getvalue()
    # The right token polls fine.
    assert run_poll_command(settings, path, token="right-token", out=io.StringIO()) == EXIT_OK


class _CorruptSwitch(DemoSwitch):
    """Serves a few records broken: the poller must quarantine exactly those."""

    bad: frozenset[tuple[str, int]] = frozenset()

    def page_attempts(self, params: dict[str, str], *args: Any, **kwargs: Any) -> Any:
        out = super().page_attempts(params, *args, **kwargs)  # type: ignore[misc]
        body = json.loads(out.raw)
        for item in body["items"]:
            if (item["call_id"], item["seq"]) in self.bad:
                item["sip_code"] = 999
        return Payload(json.dumps(body).encode())


def test_malformed_records_are_quarantined_and_the_rest_ingested(
    make_switch: Callable[..., DemoSwitch], tmp_path: Path
) -> None:
    # Enough traffic that even a night hour has calls in the 2 h overlap.
    sw = make_switch(_CorruptSwitch, cpm=4.0)
    path = tmp_path / "cache.db"
    poller = _poller(sw, path)
    expected = _served(sw, T0 - 24 * HOUR_MS, T0 + 2 * HOUR_MS)["attempts"]
    bad = expected[-3:-1]  # recent ones, so the next poll's overlap sees them again
    assert min(a["started_at"] for a in bad) >= ms_to_iso(T0 - HOUR_MS)
    sw.bad = frozenset((a["call_id"], a["seq"]) for a in bad)  # type: ignore[attr-defined]
    # Windows end at the switch's clock (T0), so the overlap is measured from there.
    result = poller.poll_once(until_ms=T0)
    assert result.ok and result.quarantined == 2
    assert _runs(path)[-1]["quarantined"] == 2
    got = _cached(path)["attempts"]
    assert got == [a for a in _served(sw, *_polled_window(path))["attempts"] if a not in bad]
    with Cache(path, readonly=True) as cache:
        rows = list(cache.db.query("SELECT * FROM quarantine ORDER BY id"))
    assert len(rows) == 2
    assert [json.loads(r["raw"]) for r in rows] == [a | {"sip_code": 999} for a in bad]
    assert all("sip_code" in r["reason"] and r["kind"] == "attempts" for r in rows)
    assert all(r["run_id"] == result.run_id and "page" in r["location"] for r in rows)
    # The overlap re-fetches them: counted again in the run, quarantined once.
    again = poller.poll_once(until_ms=T0)
    assert again.ok and again.quarantined == 2
    with Cache(path, readonly=True) as cache:
        assert cache.conn.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 2


class _EditingSwitch(DemoSwitch):
    """Serves the attempts named in `edits` with those fields changed."""

    edits: dict[tuple[str, int], dict[str, Any]] = {}  # noqa: RUF012 (set per instance)

    def page_attempts(self, params: dict[str, str], *args: Any, **kwargs: Any) -> Any:
        out = super().page_attempts(params, *args, **kwargs)  # type: ignore[misc]
        body = json.loads(out.raw)
        for item in body["items"]:
            item.update(self.edits.get((item["call_id"], item["seq"]), {}))
        return Payload(json.dumps(body).encode())


def test_a_poll_that_quarantines_exits_1_and_the_records_can_be_listed_and_exported(
    make_switch: Callable[..., DemoSwitch], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from noc_tui.cli import main

    sw = make_switch(_EditingSwitch, cpm=4.0)
    path = tmp_path / "cache.db"
    served = _served(sw, T0 - 24 * HOUR_MS, T0)["attempts"]
    huge, hostile = served[10], served[20]
    sw.edits = {  # type: ignore[attr-defined]
        (huge["call_id"], huge["seq"]): {"duration_s": 10**20},
        (hostile["call_id"], hostile["seq"]): {"sip_code": 999,
                                               "sip_reason": "\x1b]52;c;AAAA\x07\u202egone"},
    }
    out = io.StringIO()
    code = run_poll_command(_settings(sw.url), path, until=ms_to_iso(T0), out=out)
    assert code == EXIT_REJECTED, out.getvalue()
    assert "ok: taken" in out.getvalue() and "quarantined 2," in out.getvalue()
    assert "2 records quarantined" in out.getvalue()
    assert "noc-tui quarantine list" in out.getvalue()
    got = _cached(path)["attempts"]
    assert huge not in got and hostile not in got and len(got) == len(served) - 2

    assert main(["--cache", str(path), "quarantine", "list"]) == 0
    listed = capsys.readouterr()
    assert "duration_s: Input should be less than or equal to 604800" in listed.out
    assert "sip_code: Input should be less than or equal to 699" in listed.out
    assert "attempts page" in listed.out
    # The escape sequence is shown, not obeyed: no raw ESC, BEL or RLO reaches stdout.
    assert "]52;c;AAAA" in listed.out and "\\u202e" in listed.out
    assert not {"\x1b", "\x07", "\u202e"} & set(listed.out)
    assert "2 records quarantined" in listed.err

    export = tmp_path / "q.jsonl"
    assert main(["--cache", str(path), "quarantine", "export", "-o", str(export)]) == 0
    rows = [json.loads(line) for line in export.read_text().splitlines()]
    assert export.stat().st_mode & 0o777 == 0o600
    by_call = {r["record"]["call_id"]: r for r in rows}
    assert by_call[hostile["call_id"]]["record"]["sip_reason"] == (
        "\x1b]52;c;AAAA\x07\u202egone")  # the file keeps the record faithful
    assert by_call[huge["call_id"]]["record"]["duration_s"] == 10**20
    assert {r["kind"] for r in rows} == {"attempts"}
    assert main(["--cache", str(path), "quarantine", "export", "--format", "csv"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("id,run_id,received_at,kind,where,reason,record\n")
    assert "\x1b" not in text and "\u202e" not in text and len(text.splitlines()) == 3


def test_two_pollers_at_once_one_polls_the_other_says_so(
    make_switch: Callable[..., DemoSwitch], tmp_path: Path
) -> None:
    sw = make_switch()
    sw.faults.latency_ms = 100  # the winner holds the lock for a while
    path = tmp_path / "cache.db"
    go = tmp_path / "go"
    # Both wait, imports done, for the same signal: a real simultaneous start.
    code = ("import os, sys, time; from noc_tui.config import Settings; "
            "from noc_tui.sync.poller import run_poll_command; "
            "s = Settings(source={'url': sys.argv[1], 'page_limit': 100}, "
            "poll={'backfill': '1d'}); end = time.monotonic() + 20\n"
            "while not os.path.exists(sys.argv[3]) and time.monotonic() < end: "
            "time.sleep(0.01)\n"
            "sys.exit(run_poll_command(s, sys.argv[2]))")
    procs = [subprocess.Popen([sys.executable, "-c", code, sw.url, str(path), str(go)],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True)
             for _ in range(2)]
    try:
        time.sleep(0.3)
        go.touch()
        outs = [p.communicate(timeout=40)[1] for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                os.kill(p.pid, signal.SIGKILL)
                p.wait(timeout=10)
    codes = [p.returncode for p in procs]
    assert sorted(codes) == [EXIT_OK, EXIT_NOT_RUN], outs
    loser = outs[codes.index(EXIT_NOT_RUN)]
    winner_pid = procs[codes.index(EXIT_OK)].pid
    assert f"another poll is running (pid {winner_pid})" in loser
    assert "Traceback" not in loser
    assert [r["status"] for r in _runs(path)] == ["ok"]
    assert_exact(sw, path)


def test_a_held_lock_is_reported_not_waited_for(make_switch: Callable[..., DemoSwitch],
                                                tmp_path: Path) -> None:
    sw = make_switch()
    path = tmp_path / "cache.db"
    with PollLock(path):
        assert poll_running(path)
        t = time.monotonic()
        with pytest.raises(PollLocked) as info:
            _poller(sw, path).poll_once()
        assert info.value.pid == os.getpid() and time.monotonic() - t < 2
        out = io.StringIO()
        assert run_poll_command(_settings(sw.url), path, out=out) == EXIT_NOT_RUN
        assert f"another poll is running (pid {os.getpid()})" in out.getvalue()
    assert not poll_running(path)
    assert _poller(sw, path).poll_once().ok


def test_cancel_mid_poll_then_resume(make_switch: Callable[..., DemoSwitch],
                                     tmp_path: Path) -> None:
    sw = make_switch()
    path = tmp_path / "cache.db"
    poller = _poller(sw, path)
    cancel = threading.Event()

    def on_progress(p: PollProgress) -> None:
        if p.phase == "attempts" and p.done >= 300:
            cancel.set()

    result = poller.poll_once(on_progress=on_progress, cancel=cancel)
    assert result.status == "failed" and result.error_kind == "cancelled"
    with Cache(path, readonly=True) as cache:
        assert poll_status(cache).watermark is None  # window not complete
    assert poller.poll_once().ok
    assert_exact(sw, path)


def test_poll_status_of_a_fresh_cache(tmp_path: Path) -> None:
    with Cache(tmp_path / "c.db") as cache:
        status = poll_status(cache)
    assert status.run_id is None and status.status is None and status.watermark is None
    assert not status.is_running


def test_run_poll_command_input_errors(make_switch: Callable[..., DemoSwitch],
                                       tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    out = io.StringIO()
    assert run_poll_command(Settings(), path, out=out) == EXIT_NOT_RUN
    assert "source.url" in out.getvalue() and "--url" in out.getvalue()
    sw = make_switch()
    out = io.StringIO()
    assert run_poll_command(_settings(sw.url), path, since="yesterday", out=out) == EXIT_NOT_RUN
    assert "bad time" in out.getvalue()
    out = io.StringIO()
    assert run_poll_command(_settings(sw.url), path, since=ms_to_iso(T0),
                            until=ms_to_iso(T0 - HOUR_MS), out=out) == EXIT_NOT_RUN
    out = io.StringIO()
    assert run_poll_command(_settings("http://127.0.0.1:9", retries=0), path,
                            out=out) == EXIT_NOT_RUN
    assert "failed (unreachable)" in out.getvalue()
    out = io.StringIO()
    code = run_poll_command(_settings(sw.url), path, since=ms_to_iso(T0 - 3 * HOUR_MS),
                            until=ms_to_iso(T0), out=out)
    assert code == EXIT_OK, out.getvalue()
    # One summary line; then one line for each alarm the poll raised (the demo's trunk
    # groups, judged as of the real now, after the switch's clock: registrations lapsed).
    line, *alarms = out.getvalue().strip().splitlines()
    assert line.startswith("noc-tui poll: ok: taken")
    assert all(a.startswith("noc-tui poll: ALARM ") for a in alarms), alarms
    assert "quarantined 0" in line and "pages" in line
