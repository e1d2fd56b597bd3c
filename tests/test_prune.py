"""The cache stays bounded (issue 11, section 5), and no figure changes for it.

A pruned cache answers every kept window, every summary and the consecutive failures
exactly as the same cache unpruned; failover links stay those of the attempts kept;
a record ingested again after its attempts were pruned is not counted twice; pruning
commits in small batches that a reader works between.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from noc_tui.analytics.metrics import (
    carrier_metrics,
    consecutive_failures,
    failover_calls,
    inconsistent_numbers,
    refresh_standard_windows,
    stored_metrics,
    summary,
)
from noc_tui.analytics.periods import PERIODS
from noc_tui.cli import main
from noc_tui.config import MetricSettings, Settings
from noc_tui.records.timefmt import DAY_MS, HOUR_MS, iso_to_ms, ms_to_iso
from noc_tui.store.cache import HORIZON_KEY, Cache
from noc_tui.store.retention import prune

NOW = iso_to_ms("2026-11-20T12:34:56Z")
KEEP_MS = 35 * DAY_MS
CARRIERS = ("A", "B", "C", "dead", "never")
DEAD_SINCE = NOW - 50 * DAY_MS  # "dead" answers nothing after this
NUMBERS = [f"44{n:07d}" for n in range(40)]
WINDOWS_S = (3600, 86400, 7 * 86400, 20 * 86400, 35 * 86400)


def _code(rng: random.Random, carrier: str, ts: int) -> int:
    if carrier == "never" or (carrier == "dead" and ts >= DEAD_SINCE):
        return rng.choice((503, 404, 486, 408))
    return rng.choice((200, 200, 200, 486, 503, 404, 480, 302))


def make_calls(start: int, end: int, every_ms: int, seed: int = 3) -> list[dict[str, Any]]:
    """Calls of 1-3 attempts every `every_ms` in [start, end), 40 s between a call's
    attempts; and one call straddling each hour boundary (a prune's horizon)."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []

    def call(name: str, t: int, hops: int, gap: int = 40_000) -> None:
        route = rng.sample(CARRIERS, hops)
        for seq, cid in enumerate(route, 1):
            ts = t + (seq - 1) * gap
            code = _code(rng, cid, ts)
            ok = 200 <= code <= 299
            out.append({
                "call_id": name, "seq": seq, "carrier_id": cid, "started_at": ms_to_iso(ts),
                "dst": rng.choice(NUMBERS), "cli": "15550001", "sip_code": code,
                "sip_reason": "OK" if ok else "fail",
                "pdd_ms": rng.choice((None, 900, 2500)), "duration_s":
                    rng.choice((3, 40, 300)) if ok else 0, "release_reason": None})
            if ok:
                return

    for i, t in enumerate(range(start, end, every_ms)):
        call(f"c{i:07d}", t, rng.choice((1, 1, 2, 3)))
    for h in range(-(-start // HOUR_MS) * HOUR_MS, end, HOUR_MS):
        call(f"s{h}", h - 30_000, 2, gap=45_000)  # its attempts: either side of h
    out.sort(key=lambda r: r["started_at"])
    return out


def reference_records() -> list[dict[str, Any]]:
    return [{"id": c, "name": f"Carrier {c}", "status": "active", "channels": 10, "cps": 5,
             "currency": "USD", "halt_codes": None} for c in CARRIERS]


def rates() -> list[dict[str, Any]]:
    return [{"carrier_id": c, "card_id": "std", "card_name": "Std", "prefix": "44",
             "destination": "UK", "rate": 0.013, "connect_fee": 0.001, "mcd_s": 6,
             "pulse_s": 6, "currency": "USD", "effective_from": "2020-01-01T00:00:00Z",
             "status": "active"} for c in CARRIERS]


def new_cache(path: Path) -> Cache:
    cache = Cache(path)
    cache.ingest("carriers", reference_records())
    cache.ingest("rates", rates())
    return cache


def figures(cache: Cache, now: int, windows: tuple[int, ...] = WINDOWS_S) -> dict[Any, Any]:
    """Everything the screens and exports show of a carrier, for the kept windows."""
    out: dict[Any, Any] = {}
    for w in windows:
        out["list", w] = carrier_metrics(cache, now, w)
        for cid in CARRIERS:
            for direction in ("out", "in"):
                out["failover", w, cid, direction] = failover_calls(
                    cache, cid, now, w, direction=direction)
            out["numbers", w, cid] = inconsistent_numbers(cache, cid, now, w)
    for cid in CARRIERS:
        for period in PERIODS:
            out["summary", cid, period] = summary(cache, cid, period, now)
        out["failures", cid] = consecutive_failures(cache, cid, now)
    return out


def assert_same(got: dict[Any, Any], want: dict[Any, Any]) -> None:
    assert got.keys() == want.keys()
    for key in want:
        assert got[key] == want[key], key


def assert_links_consistent(cache: Cache, whole: bool = True) -> None:
    """Every link names attempts the cache holds, and (whole) a kept call is kept whole."""
    q = cache.conn.execute
    assert q("SELECT count(*) FROM failovers f WHERE NOT EXISTS (SELECT 1 FROM attempts a "
             "WHERE a.call_id = f.call_id AND a.seq = f.seq) OR NOT EXISTS (SELECT 1 FROM "
             "attempts b WHERE b.call_id = f.call_id AND b.seq = f.conn_seq)").fetchone()[0] == 0
    assert q("SELECT count(*) FROM failovers_in i WHERE NOT EXISTS (SELECT 1 FROM attempts a "
             "WHERE a.call_id = i.call_id AND a.seq = i.seq)").fetchone()[0] == 0
    # Each call's attempts are seq 1..n: a gap is an attempt pruned from a kept call.
    assert not whole or q("SELECT count(*) FROM (SELECT call_id FROM attempts GROUP BY call_id "
             "HAVING max(seq) <> count(*))").fetchone()[0] == 0


def test_pruned_cache_answers_every_kept_figure_as_the_unpruned_one(tmp_path: Path):
    records = make_calls(NOW - 100 * DAY_MS, NOW, 25 * 60_000)
    caches = []
    for name in ("full", "pruned"):
        cache = new_cache(tmp_path / f"{name}.db")
        cache.ingest("attempts", records)
        caches.append(cache)
    full, pruned = caches
    want = figures(full, NOW)
    report = prune(pruned, NOW, KEEP_MS)

    horizon = (NOW - KEEP_MS) // HOUR_MS * HOUR_MS
    assert report.horizon_ms == horizon and pruned.meta(HORIZON_KEY) == str(horizon)
    n_full = full.conn.execute("SELECT count(*) FROM attempts").fetchone()[0]
    n_kept = pruned.conn.execute("SELECT count(*) FROM attempts").fetchone()[0]
    assert report.attempts == n_full - n_kept and n_kept < 0.4 * n_full
    # Only the straddling calls keep attempts before the horizon, and each such call
    # has one at or after it.
    assert pruned.conn.execute(
        "SELECT count(*) FROM attempts a WHERE ts < ? AND NOT EXISTS (SELECT 1 FROM "
        "attempts b WHERE b.call_id = a.call_id AND b.ts >= ?)",
        (horizon, horizon)).fetchone()[0] == 0
    assert pruned.conn.execute("SELECT count(*) FROM attempts WHERE ts < ?",
                               (horizon,)).fetchone()[0] > 0  # the fixture straddles
    assert_links_consistent(pruned)
    assert_same(figures(pruned, NOW), want)
    # The dead carrier's streak runs back past the horizon, 50 days; never's, to its start.
    dead, _ = consecutive_failures(pruned, "dead", NOW)
    never, last_ok = consecutive_failures(pruned, "never", NOW)
    assert dead > 0 and never > 0 and last_ok is None
    assert dead == want["failures", "dead"][0]
    assert pruned.conn.execute(
        "SELECT min(ts) FROM attempts WHERE carrier_id = 'dead'").fetchone()[0] > DEAD_SINCE
    # Again: nothing more to prune, nothing changes.
    again = prune(pruned, NOW, KEEP_MS)
    assert again.attempts == 0 and again.rollups == 0
    assert_same(figures(pruned, NOW), want)
    for c in caches:
        c.close()


def test_daily_imports_and_prunes_keep_every_figure(tmp_path: Path):
    """Day by day for 70 days, each day's attempts imported, then pruned (as `noc-tui
    import` does): the kept streaks chain from prune to prune, and every figure stays
    the unpruned cache's."""
    start = NOW - 70 * DAY_MS
    records = make_calls(start, NOW, 40 * 60_000, seed=5)
    full, pruned = new_cache(tmp_path / "full.db"), new_cache(tmp_path / "pruned.db")
    by_day: dict[int, list[dict[str, Any]]] = {}
    for r in records:
        by_day.setdefault((iso_to_ms(r["started_at"]) - start) // DAY_MS, []).append(r)
    checked = 0
    for day in range(70):
        now = start + (day + 1) * DAY_MS
        batch = by_day.get(day, [])
        full.ingest("attempts", batch)
        pruned.ingest("attempts", batch)
        prune(pruned, now, KEEP_MS)
        if day in (30, 36, 37, 52, 69):
            windows = (3600, 86400, 7 * 86400, 35 * 86400)
            assert_same(figures(pruned, now, windows), figures(full, now, windows))
            assert_links_consistent(pruned)
            checked += 1
    assert checked == 5
    # Bounded: about 35 of the 70 days' attempts remain.
    kept = pruned.conn.execute("SELECT count(*) FROM attempts").fetchone()[0]
    total = full.conn.execute("SELECT count(*) FROM attempts").fetchone()[0]
    assert 0.45 < kept / total < 0.56
    full.close()
    pruned.close()


def test_monthly_summary_stays_complete_and_old_rollups_go(tmp_path: Path):
    """Hourly figures stay 13 calendar months, so the 12 months of the monthly summary
    are whole; older ones are pruned."""
    records = make_calls(NOW - 500 * DAY_MS, NOW, 6 * HOUR_MS, seed=9)
    full, pruned = new_cache(tmp_path / "full.db"), new_cache(tmp_path / "pruned.db")
    for c in (full, pruned):
        c.ingest("attempts", records)
    report = prune(pruned, NOW, KEEP_MS)
    # 13 calendar months: Nov 2025 to Nov 2026; the summary shows Dec 2025 on.
    assert report.rollups_from_ms == iso_to_ms("2025-11-01T00:00:00Z")
    assert report.rollups > 0
    assert pruned.conn.execute("SELECT min(hour) FROM rollups").fetchone()[0] >= \
        report.rollups_from_ms
    for cid in CARRIERS:
        months = summary(pruned, cid, "monthly", NOW)
        assert months == summary(full, cid, "monthly", NOW)
        assert len(months) == 12 or cid == "dead"
        assert summary(pruned, cid, "daily", NOW) == summary(full, cid, "daily", NOW)
    full.close()
    pruned.close()


def test_rollups_of_pruned_hours_survive_a_settings_change(tmp_path: Path):
    """A changed ner_codes rebuilds the rollups from the attempts: only the hours whose
    attempts are kept; older hours keep their figures (their attempts are gone)."""
    path = tmp_path / "c.db"
    with new_cache(path) as cache:
        cache.ingest("attempts", make_calls(NOW - 90 * DAY_MS, NOW, 30 * 60_000))
        prune(cache, NOW, KEEP_MS)
        before = {cid: summary(cache, cid, "monthly", NOW) for cid in CARRIERS}
    with Cache(path, MetricSettings(ner_codes=["200-299", 486])) as cache:
        after = {cid: summary(cache, cid, "monthly", NOW) for cid in CARRIERS}
    for cid in CARRIERS:
        assert [(m["start"], m["attempts"], m["connected"], m["cost"]) for m in after[cid]] \
            == [(m["start"], m["attempts"], m["connected"], m["cost"]) for m in before[cid]]


def test_records_ingested_again_after_pruning_are_not_counted_twice(tmp_path: Path):
    """The same file imported twice with `noc-tui import`: the second import finds
    most of it pruned; those records are not taken (their hours are closed), said so,
    and every figure is as after one import."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "carriers.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in reference_records()))
    records = make_calls(NOW - 60 * DAY_MS, NOW, 30 * 60_000, seed=4)
    (data / "attempts.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    once, twice = tmp_path / "once.db", tmp_path / "twice.db"
    now = ["--now", ms_to_iso(NOW)]
    assert main(["--cache", str(once), "import", str(data), *now]) == 0
    assert main(["--cache", str(twice), "import", str(data), *now]) == 0
    with Cache(twice) as cache:
        horizon = int(cache.meta(HORIZON_KEY) or 0)
        cache.conn.execute("UPDATE attempts SET sip_reason = 'changed' WHERE ts >= ?",
                           (horizon + DAY_MS,))  # so that these are taken again
    report_lines: list[str] = []
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert main(["--cache", str(twice), "import", str(data), *now]) == 0
    report_lines = err.getvalue().splitlines()
    old = sum(1 for r in records if iso_to_ms(r["started_at"]) < horizon)
    line = next(x for x in report_lines if "attempts.jsonl" in x)
    assert f"{old - straddlers(twice, horizon)} not taken" in line, line
    assert "cache.keep_attempts" in line
    with Cache(once) as a, Cache(twice) as b:
        fa, fb = figures(a, NOW), figures(b, NOW)
        assert_same(fb, fa)
        assert_links_consistent(b)


def straddlers(path: Path, horizon: int) -> int:
    """Attempts before the horizon that the cache keeps (their calls go on past it)."""
    with Cache(path, readonly=True) as cache:
        return int(cache.conn.execute("SELECT count(*) FROM attempts WHERE ts < ?",
                                      (horizon,)).fetchone()[0])


def test_a_late_call_straddling_the_horizon_keeps_links_from_what_is_stored(tmp_path: Path):
    """A call never seen before arrives after the prune: its attempt before the horizon
    is not taken, the one after is, and the links are those of the stored attempts
    alone, whichever path stored them (parsed JSON pages or validated records)."""
    horizon = (NOW - KEEP_MS) // HOUR_MS * HOUR_MS
    late = [
        {"call_id": "late1", "seq": 1, "carrier_id": "A", "started_at": ms_to_iso(horizon - 5000),
         "dst": "441", "cli": None, "sip_code": 503, "sip_reason": "x", "pdd_ms": None,
         "duration_s": 0, "release_reason": None},
        {"call_id": "late1", "seq": 2, "carrier_id": "B", "started_at": ms_to_iso(horizon + 5000),
         "dst": "441", "cli": None, "sip_code": 200, "sip_reason": "OK", "pdd_ms": 900,
         "duration_s": 30, "release_reason": None},
    ]
    for how in ("records", "json"):
        with new_cache(tmp_path / f"{how}.db") as cache:
            cache.ingest("attempts", make_calls(NOW - 40 * DAY_MS, NOW, 60 * 60_000))
            prune(cache, NOW, KEEP_MS)
            if how == "records":
                rep = cache.ingest("attempts", late)
            else:
                lines = [json.dumps(r).encode() for r in late]
                rep = cache.ingest_json_lines("attempts", lines, ["l1", "l2"])
            assert (rep.taken, rep.closed, rep.rejected) == (1, 1, 0)
            q = cache.conn.execute
            assert q("SELECT seq FROM attempts WHERE call_id = 'late1'").fetchall() == [(2,)]
            assert q("SELECT count(*) FROM failovers WHERE call_id = 'late1'").fetchone()[0] == 0
            assert q("SELECT count(*) FROM failovers_in WHERE call_id = 'late1'"
                     ).fetchone()[0] == 0
            assert_links_consistent(cache, whole=False)


def test_prune_commits_in_small_batches_a_reader_works_between(tmp_path: Path):
    """No transaction deletes more than a batch of calls; a reader on another
    connection keeps reading while the prune runs, and every figure it reads is the
    final one (pruning changes no kept figure at any point)."""
    path = tmp_path / "c.db"
    records = make_calls(NOW - 100 * DAY_MS, NOW, 10 * 60_000, seed=8)
    with new_cache(path) as cache:
        cache.ingest("attempts", records)
        refresh_standard_windows(cache, NOW)
        want_list = carrier_metrics(cache, NOW, 7 * 86400)
        want_month = summary(cache, "A", "monthly", NOW)
        calls_before = cache.conn.execute(
            "SELECT count(DISTINCT call_id) FROM attempts").fetchone()[0]
    done = threading.Event()
    reads: list[float] = []
    wrong: list[str] = []

    def reader() -> None:
        with Cache(path, readonly=True) as cache:
            for _ in range(10_000):  # bounded; stops when the prune is done
                t0 = time.perf_counter()
                got = carrier_metrics(cache, NOW, 7 * 86400)
                month = summary(cache, "A", "monthly", NOW)
                reads.append(time.perf_counter() - t0)
                if got != want_list or month != want_month:
                    wrong.append("figures changed mid-prune")
                if done.is_set():
                    return

    thread = threading.Thread(target=reader)
    with Cache(path) as cache:
        thread.start()
        report = prune(cache, NOW, KEEP_MS, batch_calls=50)
        done.set()
        thread.join(60)
    assert not thread.is_alive() and not wrong
    assert report.calls > 0.6 * calls_before
    assert 0 < report.max_batch_calls <= 50
    # One transaction per batch at least: the calls could not go in fewer.
    assert report.transactions >= report.calls / 50
    assert len(reads) >= 2  # the reader was not held off for the whole prune
    print(f"\nprune: {report.transactions} transactions, longest "
          f"{report.max_transaction_s * 1000:.1f} ms; reader: {len(reads)} reads, longest "
          f"{max(reads) * 1000:.1f} ms")


# -- configuration and the command line ------------------------------------------------


def test_keep_attempts_is_a_setting_of_the_cache(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from noc_tui.config import ConfigError, load_settings

    for var in ("NOC_TUI_CACHE", "NOC_TUI_CACHE__KEEP_ATTEMPTS", "NOC_TUI_CACHE__PATH"):
        monkeypatch.delenv(var, raising=False)
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[cache]\npath = "{tmp_path / "x.db"}"\nkeep_attempts = "60d"\n')
    settings, _ = load_settings(cfg)
    assert settings.cache_path() == tmp_path / "x.db"
    assert settings.cache.keep_attempts == "60d"
    cfg.write_text(f'cache = "{tmp_path / "y.db"}"\n')  # the path alone, as before
    settings, _ = load_settings(cfg)
    assert settings.cache_path() == tmp_path / "y.db" and settings.cache.keep_attempts == "35d"
    monkeypatch.setenv("NOC_TUI_CACHE__KEEP_ATTEMPTS", "10d")
    assert load_settings(cfg)[0].cache.keep_attempts == "10d"
    cfg.write_text('[cache]\nkeep_attempts = "3d"\n')
    monkeypatch.delenv("NOC_TUI_CACHE__KEEP_ATTEMPTS")
    with pytest.raises(ConfigError) as info:
        load_settings(cfg)
    assert "cache.keep_attempts" in str(info.value) and "7d" in str(info.value)


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    rc = main(list(argv))
    return rc, capsys.readouterr().err


def test_prune_command_and_export_windows(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          isolated_config: None) -> None:
    db = tmp_path / "c.db"
    rc, err = _cli(capsys, "--cache", str(db), "prune")
    assert rc == 2 and "no cache yet" in err
    with new_cache(db) as cache:
        cache.ingest("attempts", make_calls(NOW - 50 * DAY_MS, NOW, 60 * 60_000))
    rc, err = _cli(capsys, "--cache", str(db), "prune", "--now", ms_to_iso(NOW))
    assert rc == 0 and "pruned " in err and "kept from" in err and "transactions" in err
    with Cache(db, readonly=True) as cache:
        horizon = int(cache.meta(HORIZON_KEY) or 0)
    assert horizon == (NOW - KEEP_MS) // HOUR_MS * HOUR_MS
    # The command line's windows: at most what is kept.
    rc, err = _cli(capsys, "--cache", str(db), "export", "carriers", "--window", "36d",
                   "--now", ms_to_iso(NOW))
    assert rc == 2 and "cache.keep_attempts" in err and "Traceback" not in err
    rc, err = _cli(capsys, "--cache", str(db), "export", "carriers", "--window", "35d",
                   "--now", ms_to_iso(NOW))
    assert rc == 0 and "warning" not in err
    # A window reaching before the kept attempts (a --now far back) says so.
    rc, err = _cli(capsys, "--cache", str(db), "export", "carriers", "--window", "7d",
                   "--now", ms_to_iso(NOW - 30 * DAY_MS))
    assert rc == 0 and "warning" in err and ms_to_iso(horizon) in err


# -- the poller prunes after each poll ---------------------------------------------------


@pytest.fixture
def demo_switch() -> Iterator[Callable[..., Any]]:
    from noc_tui.demo_switch import DemoSwitch
    from noc_tui.records.timefmt import now_ms

    t0 = now_ms() // HOUR_MS * HOUR_MS - HOUR_MS
    started: list[Any] = []

    def make() -> Any:
        sw = DemoSwitch(seed=5, start_ms=t0, clock=lambda: t0, calls_per_min=0.2)
        started.append(sw.start())
        return sw

    yield make
    for sw in started:
        sw.stop()


def test_a_poll_prunes_and_shows_what_an_unpruned_poll_shows(
        demo_switch: Callable[..., Any], tmp_path: Path) -> None:
    """Two caches polled from the same switch over HTTP, 10 days back: one keeping 7
    days of attempts, one 30. Every figure of the dashboard's windows, every summary
    and every streak agree; the first holds about 7 of the 10 days."""
    from noc_tui.records.timefmt import now_ms
    from noc_tui.sync.poller import Poller

    sw = demo_switch()
    paths = {}
    for keep in ("7d", "30d"):
        paths[keep] = tmp_path / f"keep{keep}.db"
        settings = Settings(source={"url": sw.url, "page_limit": 2000},
                            poll={"backfill": "10d"}, cache={"keep_attempts": keep})
        assert Poller(settings, paths[keep]).poll_once().ok
    now = now_ms()
    with Cache(paths["7d"], readonly=True) as short, \
            Cache(paths["30d"], readonly=True) as long:
        horizon = int(short.meta(HORIZON_KEY) or 0)
        newest = long.conn.execute("SELECT max(ts) FROM attempts").fetchone()[0]
        assert horizon == (newest - 7 * DAY_MS) // HOUR_MS * HOUR_MS
        n_short = short.conn.execute("SELECT count(*) FROM attempts").fetchone()[0]
        n_long = long.conn.execute("SELECT count(*) FROM attempts").fetchone()[0]
        assert 0.6 < n_short / n_long < 0.8
        carriers = [r[0] for r in long.conn.execute("SELECT id FROM carriers")]
        for w in (3600, 86400, 7 * 86400):
            assert carrier_metrics(short, now, w) == carrier_metrics(long, now, w)
            assert stored_metrics(short, w)[1] == stored_metrics(long, w)[1]  # type: ignore[index]
        for cid in carriers:
            for period in PERIODS:
                assert summary(short, cid, period, now) == summary(long, cid, period, now)
            assert consecutive_failures(short, cid, now) == consecutive_failures(long, cid, now)
        assert_links_consistent(short)
