"""The headless command line: export shapes, formats, options and errors."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from noc_tui.analytics.list_state import CARRIER_COLUMNS
from noc_tui.analytics.metrics import CARRIER_KEYS
from noc_tui.cli import main
from tests.sample_data import NOW, write_dataset


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    db = tmp_path / "c.db"
    # At the data's time: the import judges the alarms there (over alarms.window, 1h),
    # and exports show the alarms the cache holds.
    assert main(["--cache", str(db), "import", str(write_dataset(tmp_path / "d")),
                 "--now", NOW]) == 0
    return db


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_export_carriers_json_shape(cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = _run(capsys, "--cache", str(cache), "export", "carriers", "--now", NOW,
                      "--window", "24h")
    assert rc == 0
    doc = json.loads(out)
    assert doc["now"] == "2026-11-01T12:00:00.000Z" and doc["window_s"] == 86400
    rows = {r["id"]: r for r in doc["carriers"]}
    assert list(rows["A"]) == list(CARRIER_COLUMNS)  # the metrics, health and alarms
    assert set(CARRIER_KEYS) < set(CARRIER_COLUMNS)
    assert rows["A"]["health"] == "suspect"  # a halt violation
    assert rows["A"]["alarms"] == {"halt_violations": "1 halt violations (alarm at 1)"}
    assert rows["B"]["health"] == "fine" and rows["B"]["alarms"] == {}
    a, b = rows["A"], rows["B"]
    assert (a["attempts"], a["connected"], a["failover_out"], a["halt_violations"]) == (3, 1, 2, 1)
    assert a["asr"] == pytest.approx(1 / 3)
    assert (b["failover_in"], b["n404"], b["consecutive_failures"]) == (2, 0, 0)
    assert b["acd_s"] == 35.5 and a["pdd_avg_ms"] == 1500.0


def test_window_excludes_older_attempts(cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = _run(capsys, "--cache", str(cache), "export", "carriers", "--now", NOW,
                      "--window", "1h")
    assert rc == 0
    rows = {r["id"]: r for r in json.loads(out)["carriers"]}
    # Only c3 (11:40) is inside [11:00, 12:00).
    assert rows["A"]["attempts"] == 1 and rows["A"]["asr"] == 0.0
    assert rows["A"]["acd_s"] is None  # zero denominator is null, never 0


def test_export_summary_and_failover(cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = _run(capsys, "--cache", str(cache), "export", "summary", "--carrier", "B",
                      "--period", "daily", "--now", NOW)
    doc = json.loads(out)
    assert rc == 0 and doc["carrier_id"] == "B" and doc["period"] == "daily"
    assert doc["now"] == "2026-11-01T12:00:00.000Z" and doc["currency"] == "EUR"
    assert [r["start"] for r in doc["rows"]] == ["2026-11-01T00:00:00.000Z"]
    # 65 s on 30/6 bills 66 s; 6 s bills the 30 s minimum; 0.6/min plus 0.01 a call.
    cost = 66 / 60 * 0.6 + 0.01 + 30 / 60 * 0.6 + 0.01
    assert doc["rows"][0]["cost"] == pytest.approx(cost)  # JSON: whole
    rc, out, _ = _run(capsys, "--cache", str(cache), "export", "summary", "--carrier", "B",
                      "--period", "daily", "--now", NOW, "--format", "csv")
    assert next(csv.DictReader(io.StringIO(out)))["cost"] == f"{cost:.2f}"  # EUR cents
    rc, out, _ = _run(capsys, "--cache", str(cache), "export", "failover", "--carrier", "A",
                      "--now", NOW)
    doc = json.loads(out)
    calls = doc["calls"]
    assert doc["direction"] == "out" and doc["now"] == "2026-11-01T12:00:00.000Z"
    assert [c["call_id"] for c in calls] == ["c1", "c3"]
    assert calls[0]["failed_code"] == 503 and calls[0]["connected_carrier_id"] == "B"
    assert calls[0]["halt_violation"] is False
    assert calls[1]["failed_code"] == 486 and calls[1]["halt_violation"] is True
    rc, out, _ = _run(capsys, "--cache", str(cache), "export", "failover", "--carrier", "B",
                      "--now", NOW, "--direction", "in")
    doc = json.loads(out)
    assert rc == 0 and doc["direction"] == "in"
    assert [(c["call_id"], c["failed_carrier_id"]) for c in doc["calls"]] == [
        ("c1", "A"), ("c3", "A")]
    assert "connected_carrier_id" not in doc["calls"][0]


def test_export_csv_to_private_file(
    cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "out" / "carriers.csv"
    rc, _, err = _run(capsys, "--cache", str(cache), "export", "carriers", "--now", NOW,
                      "--format", "csv", "-o", str(out_file))
    assert rc == 0 and str(out_file) in err
    assert out_file.stat().st_mode & 0o777 == 0o600
    rows = list(csv.DictReader(io.StringIO(out_file.read_text())))
    assert [r["id"] for r in rows] == ["A", "B"]
    assert rows[0]["acd_s"] == "20.0" and rows[1]["fas_flags"] == ""


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["export", "summary"], "needs --carrier"),
        (["export", "failover", "--carrier", "Nope"], "unknown carrier 'Nope'"),
        (["export", "carriers", "--now", "yesterday"], "bad time 'yesterday'"),
        (["export", "carriers", "--window", "0h"], "bad duration"),
    ],
)
def test_user_mistakes_exit_2_with_a_message(
    cache: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    rc, _, err = _run(capsys, "--cache", str(cache), *argv)
    assert rc == 2 and message in err and "Traceback" not in err


def test_export_without_a_cache_says_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, _, err = _run(capsys, "--cache", str(tmp_path / "none.db"), "export", "carriers")
    assert rc == 2 and "noc-tui import" in err


def test_cache_from_environment_and_help(cache: Path) -> None:
    env = {"NOC_TUI_CACHE": str(cache), "PATH": "/usr/bin:/bin", "HOME": str(cache.parent)}
    run = subprocess.run(
        [sys.executable, "-m", "noc_tui", "export", "carriers", "--now", NOW],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )
    assert run.returncode == 0, run.stderr
    assert len(json.loads(run.stdout)["carriers"]) == 2
    for cmd in ("import", "export", "poll", "demo-switch"):
        h = subprocess.run([sys.executable, "-m", "noc_tui", cmd, "--help"], capture_output=True,
                           text=True, env=env, timeout=60, check=False)
        assert h.returncode == 0 and "usage: noc-tui" in h.stdout


def test_export_renders_the_dashboard_screen_as_text_and_svg(
    cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, _ = _run(capsys, "--cache", str(cache), "export", "summary", "--carrier", "B",
                      "--period", "daily", "--format", "txt", "--now", NOW)
    assert rc == 0
    assert "Beta Voice" in out and "2026-11-01" in out  # the daily bucket's row
    svg = tmp_path / "list.svg"
    rc, _, _ = _run(capsys, "--cache", str(cache), "export", "carriers", "--format", "svg",
                    "--window", "1h", "--now", NOW, "-o", str(svg))
    assert rc == 0 and svg.read_text().startswith("<svg")
    assert "Alpha" in svg.read_text() and svg.stat().st_mode & 0o777 == 0o600
    rc, _, err = _run(capsys, "--cache", str(cache), "export", "carriers", "--format", "txt",
                      "--window", "6h")
    assert rc == 2 and "1h, 24h and 7d" in err


def test_export_txt_and_svg_take_the_terminal_width(
    cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shots = {}
    for width in (80, 200):
        rc, out, _ = _run(capsys, "--cache", str(cache), "export", "carriers", "--format",
                          "txt", "--window", "1h", "--now", NOW, "--width", str(width),
                          "--height", "20")
        assert rc == 0
        lines = out.splitlines()
        assert max(len(line) for line in lines) <= width and len(lines) <= 20
        shots[width] = out
    # the narrow one leaves columns out (and says so); the wide one has them all
    assert "more column" in shots[80] and "Consist" not in shots[80]
    assert "Consist" in shots[200] and "more column" not in shots[200]
    # data only: no key hints, no notifications
    assert "? Help" not in shots[80] and "Alarm" not in shots[80]
    with pytest.raises(SystemExit) as exit_:
        _run(capsys, "--cache", str(cache), "export", "carriers", "--format", "txt",
             "--width", "20")
    assert exit_.value.code == 2 and "40-1000" in capsys.readouterr().err


def test_an_older_cache_is_updated_once_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    from noc_tui.store.cache import MIGRATIONS, SCHEMA_VERSION

    db = tmp_path / "old.db"
    con = sqlite3.connect(db)
    con.executescript(MIGRATIONS[0])
    con.execute("PRAGMA user_version = 1")
    con.close()
    data = write_dataset(tmp_path / "d")
    rc, _, err = _run(capsys, "--cache", str(db), "import", str(data))
    assert rc == 0
    assert f"from schema 1 to {SCHEMA_VERSION}" in err
    rc, _, err = _run(capsys, "--cache", str(db), "import", str(data))
    assert rc == 0 and "schema" not in err
    rc, _, err = _run(capsys, "--cache", str(tmp_path / "new.db"), "import", str(data))
    assert rc == 0 and "schema" not in err  # a new cache is made at the current schema
