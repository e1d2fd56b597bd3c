"""Nothing hostile reaches a terminal: text from a switch or a file (names, reasons,
error bodies, file names) shows its escape sequences escaped on stderr and on stdout,
while a file written with -o keeps the data as it is."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from noc_tui.cli import main
from tests.hostile import ESCAPES, live_controls, send, serving
from tests.sample_data import CARRIERS, NOW, write_dataset, write_jsonl

# The sequences, as a file name can hold them (no slash, no dot before the extension).
IN_A_NAME = ESCAPES.replace("/", "_").replace(".", "_")


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.fixture
def hostile_cache(tmp_path: Path, isolated_config: None) -> Path:
    """The sample data, with a carrier named, and its contact noted, in escapes."""
    folder = write_dataset(tmp_path / "d")
    write_jsonl(folder / "carriers.jsonl", [*CARRIERS, {
        "id": "evil", "name": ESCAPES, "status": "active", "channels": 1, "cps": 1,
        "currency": ESCAPES, "halt_codes": None}])
    db = tmp_path / "c.db"
    assert main(["--cache", str(db), "import", str(folder)]) == 0
    return db


def test_import_messages_show_file_names_escaped(
        tmp_path: Path, isolated_config: None, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / f"carriers_{IN_A_NAME}.jsonl"
    bad.write_text('{"id": "x", "channels": -1}\n{"id": "y", "name": "Y", "status": "active", '
                   '"channels": 1, "cps": 1, "currency": "USD"}\n')
    rc, out, err = _run(capsys, "--cache", str(tmp_path / "c.db"), "import", str(bad))
    assert rc == 1 and "rejected" in err
    assert live_controls(err) == [] and live_controls(out) == []
    assert "\\x9b2J" in err and "\\u202e" in err and "\\x1b]52;c;" in err
    # A user error naming a hostile file: one line, escaped.
    rc, _, err = _run(capsys, "--config", str(tmp_path / f"{IN_A_NAME}.toml"), "export",
                      "carriers")
    assert rc == 2 and "config file not found" in err
    assert live_controls(err) == [] and "\\x07" in err


def test_export_to_stdout_is_escaped_and_to_a_file_is_faithful(
        hostile_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ("--cache", str(hostile_cache), "export", "carriers", "--now", NOW)
    rc, out, _ = _run(capsys, *base, "--format", "csv")
    assert rc == 0 and live_controls(out) == []
    assert "\\x1b[2J" in out and "\\u202e" in out
    # JSON on stdout: inert, and still the same data to a JSON reader.
    rc, out, _ = _run(capsys, *base, "--format", "json")
    assert rc == 0 and live_controls(out) == []
    names = {r["id"]: r["name"] for r in json.loads(out)["carriers"]}
    assert names["evil"] == ESCAPES
    rc, out, _ = _run(capsys, *base, "--format", "txt")
    assert rc == 0 and live_controls(out) == [] and "osc52\\x1b]52" in out
    # -o: the file holds the data as it is.
    target = tmp_path / "carriers.csv"
    rc, _, err = _run(capsys, *base, "--format", "csv", "-o", str(target))
    assert rc == 0 and live_controls(err) == []
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(target.read_text(), newline=""))}
    assert rows["evil"]["name"] == ESCAPES


def test_the_switch_error_text_on_stderr_is_escaped(
        tmp_path: Path, isolated_config: None, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("NOC_TUI_SOURCE__RETRIES", "0")
    with serving(lambda h: send(h, 500, json.dumps({"error": ESCAPES}).encode())) as url:
        rc, out, err = _run(capsys, "--cache", str(tmp_path / "c.db"), "poll", "--url", url)
    assert rc == 2 and "server-error" in err
    assert live_controls(err) == [] and live_controls(out) == []
    assert "\\x1b]8;;" in err and "\\u202e" in err


@pytest.mark.parametrize("name", [
    "=HYPERLINK(\"http://evil.example\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1+1",
    "\r=1+1", "  =1+1", "\n@SUM(A1)", " \t+cmd",
])
def test_csv_cells_a_spreadsheet_would_run_are_defused(
        name: str, tmp_path: Path, isolated_config: None,
        capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_dataset(tmp_path / "d")
    write_jsonl(folder / "carriers.jsonl", [*CARRIERS, {
        "id": "f", "name": name, "status": "active", "channels": 1, "cps": 1,
        "currency": "USD", "halt_codes": None}])
    db = tmp_path / "c.db"
    assert main(["--cache", str(db), "import", str(folder)]) == 0
    target = tmp_path / "carriers.csv"
    rc, _, _ = _run(capsys, "--cache", str(db), "export", "carriers", "--now", NOW,
                    "--format", "csv", "-o", str(target))
    assert rc == 0
    rows = list(csv.DictReader(io.StringIO(target.read_bytes().decode(), newline="")))
    assert [r["id"] for r in rows] == ["A", "B", "f"]
    assert rows[2]["name"] == "'" + name


def test_csv_values_with_line_breaks_are_quoted(
        tmp_path: Path, isolated_config: None, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_dataset(tmp_path / "d")
    names = ["one\rtwo", "three\nfour", "five\r\nsix"]
    write_jsonl(folder / "carriers.jsonl", [{
        "id": f"c{i}", "name": n, "status": "active", "channels": 1, "cps": 1,
        "currency": "USD", "halt_codes": None} for i, n in enumerate(names)])
    db = tmp_path / "c.db"
    assert main(["--cache", str(db), "import", str(folder)]) == 0
    target = tmp_path / "carriers.csv"
    rc, _, _ = _run(capsys, "--cache", str(db), "export", "carriers", "--now", NOW,
                    "--format", "csv", "-o", str(target))
    text = target.read_bytes().decode()
    assert rc == 0
    for n in names:
        assert f'"{n}"' in text  # quoted: a reader that splits lines on \r keeps the row
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert {r["id"]: r["name"] for r in rows if r["id"].startswith("c")} == {
        f"c{i}": n for i, n in enumerate(names)}
