"""The dashboard's start: config validated in a forked child (noc_tui.config_check), the
carrier list read ahead there, and the app shown from plain views of the settings
(noc_tui.settings_view), which take every key and method from the pydantic models.

The forked paths run in a fresh interpreter (subprocess): the check forks only a
single-threaded process, and this test process has threads of its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, SecretStr, create_model
from pydantic_settings import BaseSettings

from noc_tui.analytics.views import list_snapshot
from noc_tui.config import MetricSettings, Settings, SourceSettings, load_settings, to_plain
from noc_tui.settings_view import from_plain, methods_of, view_class
from noc_tui.ui.carrier_list import CarrierListScreen
from noc_tui.ui.render import settle
from noc_tui.ui.widgets import NavTable
from tests.test_terminal import Terminal
from tests.ui_fixtures import FROZEN_NOW, build_cache, ui_settings

ROOT = Path(__file__).resolve().parents[1]

# Every section away from its defaults, with the types that need care: paths, a secret,
# code ranges, a mapping (keys), floats and booleans.
FULL_CONFIG = """
cache = "{cache}"
[source]
url = "http://127.0.0.1:9"
token = "sekrit-token"
ca_bundle = "/etc/ssl/certs/ca-certificates.crt"
verify_tls = false
connect_timeout_s = 2.5
retries = 3
page_limit = 700
[poll]
interval = "15m"
overlap = "3h"
[metrics]
ner_codes = ["2xx", 486]
halt_codes = ["300-399", 404]
sdc_max_s = 5
fas_no_ring_ratio = 0.3
[alarms]
consecutive_failures = 7
fas_suspect = false
[health]
degraded_asr = 0.4
[ui]
theme = "noc-light"
animations = false
export_dir = "/tmp/noc-exports"
[keys]
"app.poll" = "ctrl+r"
"""


pytestmark = pytest.mark.usefixtures("isolated_config")


def run_python(code: str, *args: str) -> dict[str, Any]:
    res = subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                         text=True, timeout=60, cwd=ROOT, env={**os.environ,
                                                               "PYTHONPATH": str(ROOT)})
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


COMPARE = r"""
import json, os, sys
from noc_tui.config_check import ConfigCheck
check = ConfigCheck(sys.argv[1])
forked = check.pid != 0
pid = check.pid
got = check.result()
pydantic_loaded = any(m.split(".")[0] in ("pydantic", "pydantic_settings") for m in sys.modules)
try:
    os.waitpid(pid, os.WNOHANG)
    reaped = False
except ChildProcessError:
    reaped = True

from pydantic import BaseModel, SecretStr
from noc_tui.config import load_settings
want, want_path = load_settings(sys.argv[1], warn=[])

def diffs(view, model, where):
    if isinstance(model, BaseModel):
        for name in type(model).model_fields:
            yield from diffs(getattr(view, name), getattr(model, name), f"{where}.{name}")
    elif isinstance(model, SecretStr):
        if view.get_secret_value() != model.get_secret_value():
            yield where
    elif view != model or type(view) is not type(model):
        yield f"{where}: {view!r} != {model!r}"

out = list(diffs(got.settings, want, "settings"))
m, w = got.settings.metrics, want.metrics
if (m.ner_set(), m.halt_set()) != (w.ner_set(), w.halt_set()):
    out.append("code sets")
if got.settings.cache_path() != want.cache_path() or got.path != want_path:
    out.append("paths")
print(json.dumps({"forked": forked, "reaped": reaped, "pydantic": pydantic_loaded,
                  "diffs": out, "warnings": got.warnings, "repr": repr(got.settings)}))
"""


def test_forked_check_reads_exactly_what_pydantic_validated(tmp_path: Path) -> None:
    cfg = tmp_path / "full.toml"
    cfg.write_text(FULL_CONFIG.format(cache=tmp_path / "c.db"))
    cfg.chmod(0o644)  # holds a secret and is readable by others: a warning
    out = run_python(COMPARE, str(cfg))
    assert out["forked"] and out["reaped"]
    assert not out["pydantic"], "the dashboard's process imported pydantic after all"
    assert out["diffs"] == []
    assert len(out["warnings"]) == 1 and "readable by others" in out["warnings"][0]
    assert "sekrit" not in out["repr"]


def test_environment_reaches_the_forked_check(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[ui]\nwindow = "1h"\n')
    monkeypatch.setenv("NOC_TUI_UI__WINDOW", "7d")
    monkeypatch.setenv("NOC_TUI_METRICS__HALT_CODES", '["3xx", 486]')
    out = run_python(COMPARE, str(cfg))
    assert out["forked"] and out["diffs"] == []
    assert "window='7d'" in out["repr"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('[poll]\ninterval = "soon"\n', "poll.interval"),
        ('[ui]\nwindw = "1h"\n', "ui.windw: unknown key"),
        ("not toml at all", "not valid TOML"),
    ],
)
def test_bad_config_stops_the_dashboard_with_the_same_message(
    tmp_path: Path, body: str, expected: str
) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text(body)
    args = ["--config", str(cfg), "--cache", str(tmp_path / "c.db")]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # The dashboard (forked check; in a terminal, which it needs) and a headless command
    # (checked in-process).
    term = Terminal(args, env)
    try:
        assert term.proc.wait(60) == 2
        time.sleep(0.2)  # the last output drained
        dash = term.output.decode().replace("\r\n", "\n")
    finally:
        term.close()
    export = subprocess.run([sys.executable, "-m", "noc_tui", *args, "export", "carriers"],
                            capture_output=True, text=True, timeout=60, env=env)
    assert export.returncode == 2
    assert expected in dash and str(cfg) in dash
    assert "Traceback" not in dash
    assert dash == export.stderr


READ_AHEAD = r"""
import json, sys
from noc_tui import cli
args = cli.build_parser().parse_args(["--cache", sys.argv[1], "--config", sys.argv[2]])
app = cli.prepare_dashboard(args, sys.stderr, clock=lambda: int(sys.argv[3]))
pydantic_loaded = any(m.split(".")[0] in ("pydantic", "pydantic_settings") for m in sys.modules)
first = app.take_first_list()()
from noc_tui.config import load_settings
from noc_tui.analytics.views import list_snapshot
settings, path = load_settings(sys.argv[2])
want = list_snapshot(settings.cache_path(), settings, path, settings.ui.window,
                     int(sys.argv[3]))
print(json.dumps({"pydantic": pydantic_loaded, "same": first == want,
                  "rows": len(first.rows) if first else None,
                  "window": first.window if first else None}))
"""


def test_carrier_list_is_read_ahead_while_the_app_starts(tmp_path: Path) -> None:
    cache = build_cache(tmp_path / "c.db", calls=600)
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'cache = "{cache}"\n[ui]\nwindow = "7d"\n')
    out = run_python(READ_AHEAD, str(cache), str(cfg), str(FROZEN_NOW))
    assert not out["pydantic"]
    assert out["same"] and out["window"] == "7d" and out["rows"] >= 7


async def test_first_frame_shows_the_read_ahead_list_without_a_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from noc_tui.ui.app import NocApp

    cache = build_cache(tmp_path / "c.db", calls=600)
    settings = ui_settings()
    first = list_snapshot(cache, settings, None, "24h", FROZEN_NOW)
    first.rows[0]["name"] = "Read Ahead Carrier"  # shows where the rows came from

    def no_load(*_: Any) -> None:
        raise AssertionError("the list was loaded again")

    monkeypatch.setattr("noc_tui.analytics.views.list_snapshot", no_load)
    app = NocApp(settings, cache, clock=lambda: FROZEN_NOW, watch_interval_s=0,
                 first_list=lambda: first)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, CarrierListScreen) and app.screen.loaded
        table = app.screen.query_one("#carriers", NavTable)
        assert table.row_count == len(first.rows)
        names = {str(table.get_cell(k, "name")) for k in table.rows}
        assert "Read Ahead Carrier" in names


@pytest.mark.parametrize("delay_s, loading_first", [(0.05, False), (0.6, True)])
async def test_the_first_frame_written_is_the_list_unless_it_is_slow(
    tmp_path: Path, delay_s: float, loading_first: bool
) -> None:
    # The list screen holds its paints until the list read ahead is shown: one frame,
    # complete, not "loading…" and then the list; a list slower than HEAD_WAIT_S shows
    # "loading…" first.
    from noc_tui.ui.app import NocApp
    from noc_tui.ui.paint_hold import HEAD_WAIT_S

    assert (delay_s > HEAD_WAIT_S) is loading_first
    cache = build_cache(tmp_path / "c.db", calls=600)
    settings = ui_settings()
    first = list_snapshot(cache, settings, None, "24h", FROZEN_NOW)

    def ahead() -> Any:  # the start-up child's answer, as slow as asked
        time.sleep(delay_s)
        return first

    app = NocApp(settings, cache, clock=lambda: FROZEN_NOW, watch_interval_s=0,
                 first_list=ahead)
    written: list[tuple[str, int]] = []  # (the title, the rows in the table) a frame
    display = app._display

    def record(*args: Any, **kwargs: Any) -> Any:
        screen = app.screen
        # A frame composed under a batch update is not written (App._display).
        if isinstance(screen, CarrierListScreen) and not app._batch_count:
            title = str(screen.query_one("#list-title").render())
            written.append((title, screen.query_one("#carriers", NavTable).row_count))
        return display(*args, **kwargs)

    app._display = record  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.screen.loaded and written
        assert written[-1][1] == len(first.rows)
    loading = [w for w in written if "loading" in w[0]]
    assert bool(loading) is loading_first, written[:3]
    if not loading_first:
        assert written[0][1] == len(first.rows)


@pytest.mark.parametrize("ahead", ["other window", "failed"])
async def test_first_load_reads_itself_when_the_read_ahead_does_not_fit(
    tmp_path: Path, ahead: str
) -> None:
    from noc_tui.ui.app import NocApp

    cache = build_cache(tmp_path / "c.db", calls=600)
    settings = ui_settings(window="1h")
    stale = list_snapshot(cache, settings, None, "7d", FROZEN_NOW)
    want = list_snapshot(cache, settings, None, "1h", FROZEN_NOW)
    app = NocApp(settings, cache, clock=lambda: FROZEN_NOW, watch_interval_s=0,
                 first_list=(lambda: stale) if ahead == "other window" else (lambda: None))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, CarrierListScreen) and app.screen.rows == want.rows


def test_settings_from_pydantic_and_views_drive_the_same_thresholds(tmp_path: Path) -> None:
    # The read-ahead list is built in the child from the pydantic models; the UI's own
    # reloads from the views: both must classify rows the same.
    cache = build_cache(tmp_path / "c.db", calls=600)
    cfg = tmp_path / "c.toml"
    cfg.write_text("[health]\ndegraded_asr = 0.6\n[alarms]\nasr_floor = 0.5\n")
    settings, path = load_settings(cfg)
    view = from_plain(to_plain(settings))
    a = list_snapshot(cache, settings, path, "24h", FROZEN_NOW)
    b = list_snapshot(cache, view, path, "24h", FROZEN_NOW)
    assert a == b
    assert any(r["health"] == "degraded" for r in a.rows)


def _models(model: type[BaseModel]) -> Iterator[type[BaseModel]]:
    """`model` and every section model under it."""
    yield model
    for field in model.model_fields.values():
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            yield from _models(field.annotation)


def _not_shared_with_view(model: type[BaseModel]) -> list[str]:
    """What `model` answers beyond its fields (and validators) that its view does not
    have from the same definition."""
    hooks = model.__pydantic_decorators__
    own = ({n for n in dir(model) if not n.startswith("_")} - set(dir(BaseSettings))
           - set(model.model_fields) - set(hooks.field_validators)
           - set(hooks.model_validators))
    view = view_class(model.__name__, tuple(methods_of(model)))
    return sorted(n for n in own if getattr(view, n, None) is not getattr(model, n))


def test_every_method_of_a_model_is_its_views_written_once() -> None:
    models = list(_models(Settings))
    assert {"Settings", "MetricSettings", "SourceSettings", "UISettings"} <= {
        m.__name__ for m in models}
    assert {m.__name__: _not_shared_with_view(m) for m in models} == {
        m.__name__: [] for m in models}, (
        "a settings model answers something its view does not: write it in a "
        "settings_view.ModelMethods class the model inherits")

    class Wider(MetricSettings):  # a method written on the model alone is caught
        def sdc_max_ms(self) -> int:
            return self.sdc_max_s * 1000

    assert _not_shared_with_view(Wider) == ["sdc_max_ms"]


def test_a_key_added_to_a_model_reaches_the_view_with_no_other_change() -> None:
    wider = create_model("SourceSettings", __base__=SourceSettings,
                         db_path=(Path | None, Path("/var/lib/kamailio.db")),
                         trunks=(list[str], ["a", "b"]), db_secret=(SecretStr, SecretStr("pw")))
    view = from_plain(to_plain(wider()))
    assert view.db_path == Path("/var/lib/kamailio.db") and view.trunks == ["a", "b"]
    assert view.db_secret.get_secret_value() == "pw" and "pw" not in repr(view)
    assert view.page_limit == 5000


def test_a_value_with_no_plain_form_is_refused_not_changed() -> None:
    # The child then exits without an answer and the dashboard checks in its own process.
    timed = create_model("Timed", __base__=SourceSettings, since=(datetime, datetime(2026, 1, 1)))
    with pytest.raises(TypeError, match="datetime"):
        to_plain(timed())


def test_dashboard_starts_in_a_terminal_and_quits(tmp_path: Path) -> None:
    """`noc-tui` itself, in a pseudo-terminal: the forked check, the read-ahead list, the
    first frame with the carriers, then ctrl+q; no child process left behind."""
    import pty
    import select
    import time

    cache = build_cache(tmp_path / "c.db", calls=300)
    cfg = tmp_path / "c.toml"
    cfg.write_text("[ui]\nanimations = false\n")
    master, slave = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm-256color",
           "COLUMNS": "120", "LINES": "40"}
    proc = subprocess.Popen([sys.executable, "-m", "noc_tui", "--cache", str(cache),
                             "--config", str(cfg)], stdin=slave, stdout=slave, stderr=slave,
                            env=env, close_fds=True, start_new_session=True)
    os.close(slave)
    seen = b""
    try:
        deadline = time.monotonic() + 30
        while b"Tier One Telecom" not in seen and time.monotonic() < deadline:
            if select.select([master], [], [], 0.2)[0]:
                try:
                    seen += os.read(master, 1 << 16)
                except OSError:
                    break
        assert b"Tier One Telecom" in seen, seen[-2000:]
        os.write(master, b"\x11")  # ctrl+q
        deadline = time.monotonic() + 15
        while proc.poll() is None and time.monotonic() < deadline:
            if select.select([master], [], [], 0.2)[0]:
                try:
                    seen += os.read(master, 1 << 16)
                except OSError:
                    break
        assert proc.wait(timeout=5) == 0
        assert b"Traceback" not in seen
        # The validating child was reaped by the dashboard: nothing of its group is left.
        with pytest.raises(ProcessLookupError):
            os.killpg(proc.pid, 0)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
            proc.wait()
        os.close(master)


def test_a_read_ahead_list_left_unused_has_its_process_stopped(tmp_path: Path) -> None:
    from noc_tui.ui.app import NocApp

    class Ahead:
        closed = 0

        def __call__(self) -> None:
            raise AssertionError("a stale list was read")

        def close(self) -> None:
            self.closed += 1

    ahead = Ahead()
    app = NocApp(ui_settings(), tmp_path / "none.db", watch_interval_s=0, first_list=ahead)
    app.generation = 1  # a poll brought newer data before the first load
    assert app.take_first_list() is None
    assert ahead.closed == 1
    app._drop_first_list()  # as when the app ends: nothing left to stop
    assert ahead.closed == 1
