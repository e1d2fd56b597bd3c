"""Alarms that reach people (issue 16, point 6): judged once per crossing and kept in
the cache, acknowledged until they clear, sent to a command and a webhook with retries
and a timeout, tested against real loopback HTTP servers (one answering, one failing,
one hanging) and real child processes; `noc-tui poll` raises the same alarms."""

from __future__ import annotations

import io
import json
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from noc_tui.alerts.delivery import (
    CLEARED,
    RAISED,
    AlarmEvent,
    Notifier,
    Sender,
    drain_at_quit,
    event_text,
    redact_url,
    webhook_body,
)
from noc_tui.analytics.alarms import judge_alarms
from noc_tui.analytics.metrics import refresh_standard_windows
from noc_tui.config import AlarmSettings, Settings
from noc_tui.records.timefmt import iso_to_ms, ms_to_iso
from noc_tui.store.alarms import acknowledge, alarm_history, open_alarms
from noc_tui.store.cache import Cache

NOW = iso_to_ms("2026-11-01T12:00:00Z")
MIN = 60_000
CARRIERS = [{"id": "A", "name": "Alpha <!channel> Telecom", "status": "active", "channels": 0,
             "cps": 1, "currency": "USD", "halt_codes": None},
            {"id": "B", "name": "Beta", "status": "active", "channels": 0, "cps": 1,
             "currency": "USD", "halt_codes": None}]


def att(n: int, carrier: str, at: int, code: int) -> dict[str, Any]:
    return {"call_id": f"{carrier}-{n}", "seq": 1, "carrier_id": carrier,
            "started_at": ms_to_iso(at), "dst": "4420", "cli": None, "sip_code": code,
            "sip_reason": None, "pdd_ms": 900, "duration_s": 30 if code == 200 else 0,
            "release_reason": None}


def fail_run(carrier: str, start: int, n: int, first: int = 0) -> list[dict[str, Any]]:
    return [att(first + i, carrier, start + i * 1000, 503) for i in range(n)]


AL = AlarmSettings(consecutive_failures=5, asr_min_attempts=1000, window="1h")


def judge(cache: Cache, now: int, al: AlarmSettings = AL):
    refresh_standard_windows(cache, now)
    return judge_alarms(cache, al)


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    with Cache(tmp_path / "c.db") as c:
        c.ingest("carriers", CARRIERS)
        yield c


# -- judged once per crossing, kept in the cache --------------------------------------


def test_an_alarm_fires_once_per_crossing_and_clears(cache: Cache) -> None:
    cache.ingest("attempts", [att(0, "B", NOW - 50 * MIN, 200),
                              *fail_run("A", NOW - 40 * MIN, 6)])
    changes = judge(cache, NOW)
    [a] = changes.raised
    assert (a.subject_kind, a.subject_id, a.subject_name, a.kind) == (
        "carrier", "A", "Alpha <!channel> Telecom", "consecutive_failures")
    assert a.message == "6 consecutive failures (alarm at 5)" and a.raised_at == NOW
    assert a.subject == "Alpha <!channel> Telecom (A)" and a.over == "1h"
    # Judged again (another poll, a redraw, a window switch): nothing new fires.
    cache.ingest("attempts", fail_run("A", NOW - 30 * MIN, 3, first=10))
    again = judge(cache, NOW + MIN)
    assert not again.raised and not again.cleared
    [still] = open_alarms(cache.conn)
    assert still.id == a.id and still.last_message == "9 consecutive failures (alarm at 5)"
    # A call connects: the alarm clears, at that judgement's time.
    cache.ingest("attempts", [att(99, "A", NOW - 20 * MIN, 200)])
    cleared = judge(cache, NOW + 2 * MIN)
    assert [c.id for c in cleared.cleared] == [a.id] and not cleared.raised
    assert cleared.cleared[0].cleared_at == NOW + 2 * MIN
    # Across again: a new crossing, a new alarm that fires again.
    cache.ingest("attempts", fail_run("A", NOW - 10 * MIN, 5, first=200))
    back = judge(cache, NOW + 3 * MIN)
    assert len(back.raised) == 1 and back.raised[0].id != a.id
    assert [x.id for x in alarm_history(cache.conn)] == [back.raised[0].id, a.id]


def test_acknowledged_until_it_clears(cache: Cache, tmp_path: Path) -> None:
    cache.ingest("attempts", fail_run("A", NOW - 40 * MIN, 6))
    [a] = judge(cache, NOW).raised
    assert acknowledge(cache.path, a.id, NOW + 1) is True
    assert acknowledge(cache.path, a.id, NOW + 2) is False  # once
    [silenced] = open_alarms(cache.conn)
    assert silenced.silenced and silenced.acked_at == NOW + 1
    assert not judge(cache, NOW + MIN).raised  # still across: still silenced, no new one
    cache.ingest("attempts", [att(99, "A", NOW - 20 * MIN, 200)])
    judge(cache, NOW + 2 * MIN)
    assert open_alarms(cache.conn) == []
    assert acknowledge(cache.path, a.id, NOW + 3) is False  # cleared: nothing to silence


def test_alarms_follow_the_configured_thresholds_and_window(cache: Cache) -> None:
    # 3 h old failures: across over 24h, not over 1h (consecutive failures count up to
    # now whatever the window, but only carriers with traffic in the window are rows).
    cache.ingest("attempts", fail_run("A", NOW - 3 * 3_600_000, 6))
    refresh_standard_windows(cache, NOW)
    day = judge_alarms(cache, AL.model_copy(update={"window": "24h"}))
    assert [a.kind for a in day.raised] == ["consecutive_failures"]
    off = judge_alarms(cache, AL.model_copy(update={"consecutive_failures": 50,
                                                    "window": "24h"}))
    assert [a.id for a in off.cleared] == [day.raised[0].id]


# -- delivery: loopback servers -------------------------------------------------------


class Hook:
    """A loopback HTTP server: answers `codes` in turn (then 200), or hangs `hang_s`."""

    def __init__(self, codes: list[int] | None = None, hang_s: float = 0.0) -> None:
        self.codes = list(codes or [])
        self.hang_s = hang_s
        self.bodies: list[Any] = []
        self.paths: list[str] = []
        self.release = threading.Event()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                hook.bodies.append(json.loads(self.rfile.read(n)))
                hook.paths.append(self.path)
                if hook.hang_s:
                    hook.release.wait(hook.hang_s)  # bounded: the test ends it
                code = hook.codes.pop(0) if hook.codes else 200
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook/T000/SECRET-abc123") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hooks() -> Iterator[list[Hook]]:
    made: list[Hook] = []
    yield made
    for h in made:
        h.close()


def make_hook(hooks: list[Hook], **kw: Any) -> Hook:
    hook = Hook(**kw)
    hooks.append(hook)
    return hook


def raised_alarm(cache: Cache):
    cache.ingest("attempts", fail_run("A", NOW - 40 * MIN, 6))
    [a] = judge(cache, NOW).raised
    return a


def sender(url: str | None = None, **al: Any) -> Sender:
    settings = AlarmSettings(webhook_url=url, timeout_s=al.pop("timeout_s", 0.5),
                             retries=al.pop("retries", 2), **al)
    return Sender(settings, backoff_base_s=0.01)


def test_webhook_posts_the_alarm_as_json_and_notes_it(cache: Cache, hooks: list[Hook]) -> None:
    hook = make_hook(hooks)
    a = raised_alarm(cache)
    notifier = Notifier(sender(hook.url()).al, cache.path, sender=sender(hook.url()))
    assert notifier.submit([AlarmEvent(RAISED, a)]) == 1
    assert notifier.wait(5)
    [body] = hook.bodies
    assert body["event"] == "raised" and body["subject_id"] == "A"
    assert body["subject_name"] == "Alpha <!channel> Telecom"
    assert body["message"] == "6 consecutive failures (alarm at 5)"
    assert body["raised_at"] == "2026-11-01T12:00:00.000Z" and body["window"] == "1h"
    assert body["text"].startswith("ALARM carrier Alpha <!channel> Telecom (A): 6 cons")
    [d] = notifier.outcomes
    assert d.ok and d.tries == 1
    [row] = open_alarms(cache.conn)
    assert row.delivery == "raised: webhook ok (1 try)"


def test_a_failing_webhook_is_retried_then_given_up_and_the_url_never_shown(
        cache: Cache, hooks: list[Hook]) -> None:
    a = raised_alarm(cache)
    flaky = make_hook(hooks, codes=[503, 502])
    [d] = sender(flaky.url()).send(AlarmEvent(RAISED, a))
    assert d.ok and d.tries == 3 and len(flaky.bodies) == 3  # two failures, then taken
    down = make_hook(hooks, codes=[500] * 10)
    [d] = sender(down.url(), retries=3).send(AlarmEvent(RAISED, a))
    assert not d.ok and d.tries == 4 and d.error == "HTTP 500 Internal Server Error"
    wrong = make_hook(hooks, codes=[404])
    [d] = sender(wrong.url()).send(AlarmEvent(RAISED, a))
    assert not d.ok and d.tries == 1  # a wrong URL fails the same way again: no retry
    # Nobody listens: the error names the host, never the URL's secret path.
    gone = Hook()
    url = gone.url()
    gone.close()
    [d] = sender(url).send(AlarmEvent(RAISED, a))
    assert not d.ok and d.tries == 3
    assert "SECRET" not in (d.error or "") and "SECRET" not in d.note()
    assert d.target == f"http://127.0.0.1:{url.split(':')[2].split('/')[0]}/…"
    assert redact_url("https://user:pw@hooks.example/services/T/B/X?k=1") == \
        "https://hooks.example/…"


def test_a_hanging_webhook_times_out_and_never_blocks_the_caller(
        cache: Cache, hooks: list[Hook]) -> None:
    a = raised_alarm(cache)
    hang = make_hook(hooks, hang_s=10)
    s = sender(hang.url(), timeout_s=0.3, retries=1)
    notifier = Notifier(s.al, cache.path, sender=s)
    t = time.monotonic()
    notifier.submit([AlarmEvent(RAISED, a)])
    assert time.monotonic() - t < 0.1  # handed to the notifier's thread
    assert notifier.wait(notifier.worst_case_s(1) + 2)
    took = time.monotonic() - t
    [d] = notifier.outcomes
    assert not d.ok and d.tries == 2 and d.error == "no answer in 0.3 s"
    assert 0.6 <= took < notifier.worst_case_s(1) + 2
    [row] = open_alarms(cache.conn)
    assert row.delivery is not None and "failed after 2 tries: no answer" in row.delivery
    assert "SECRET" not in row.delivery


def test_slack_and_pagerduty_bodies(cache: Cache) -> None:
    a = raised_alarm(cache)
    slack = webhook_body(AlarmEvent(RAISED, a), "slack")
    # Data never pings a channel: Slack's <...> is escaped.
    assert slack == {"text": "ALARM carrier Alpha &lt;!channel&gt; Telecom (A): 6 "
                             "consecutive failures (alarm at 5) [1h]"}
    pd = webhook_body(AlarmEvent(RAISED, a), "pagerduty", "R0UTING")
    assert pd["routing_key"] == "R0UTING" and pd["event_action"] == "trigger"
    assert pd["dedup_key"] == f"noc-tui-alarm-{a.id}"
    assert pd["payload"]["severity"] == "error" and "6 consecutive" in pd["payload"]["summary"]
    resolve = webhook_body(AlarmEvent(CLEARED, a), "pagerduty", "R0UTING")
    assert resolve == {"routing_key": "R0UTING", "event_action": "resolve",
                       "dedup_key": f"noc-tui-alarm-{a.id}"}
    # Control characters in data are escaped in every text sent.
    nasty = a.__class__(**{**a.__dict__, "subject_name": "X\x1b[31m\x07"})
    assert "\\x1b[31m\\x07" in event_text(AlarmEvent(RAISED, nasty))


# -- delivery: a command --------------------------------------------------------------


def script(tmp_path: Path, body: str) -> list[str]:
    path = tmp_path / "hook.py"
    path.write_text(body)
    return [sys.executable, str(path)]


def test_a_command_gets_the_alarm_on_stdin_and_in_its_environment(
        cache: Cache, tmp_path: Path) -> None:
    a = raised_alarm(cache)
    out = tmp_path / "got.json"
    cmd = script(tmp_path, "import json, os, sys\n"
                 f"doc = json.load(sys.stdin)\nopen({str(out)!r}, 'w').write(json.dumps("
                 "{'doc': doc, 'event': os.environ['NOC_TUI_ALARM_EVENT'], "
                 "'subject': os.environ['NOC_TUI_ALARM_SUBJECT']}))\n")
    [d] = sender(command=cmd).send(AlarmEvent(RAISED, a))
    assert d.ok and d.tries == 1
    got = json.loads(out.read_text())
    assert got["event"] == "raised" and got["subject"] == "Alpha <!channel> Telecom (A)"
    assert got["doc"]["kind"] == "consecutive_failures"


def test_a_failing_hanging_or_missing_command(cache: Cache, tmp_path: Path) -> None:
    a = raised_alarm(cache)
    ev = AlarmEvent(RAISED, a)
    [d] = sender(command=script(tmp_path, "import sys\nsys.stderr.write('no pager')\n"
                                "sys.exit(3)\n")).send(ev)
    assert not d.ok and d.tries == 3 and d.error and "exited with 3: no pager" in d.error
    t = time.monotonic()
    [d] = sender(command=script(tmp_path, "import time\ntime.sleep(30)\n"),
                 timeout_s=0.3, retries=0).send(ev)
    assert not d.ok and "did not finish in 0.3 s" in (d.error or "")
    assert time.monotonic() - t < 5  # stopped, not waited for
    [d] = sender(command=[str(tmp_path / "no-such-program")]).send(ev)
    assert not d.ok and d.tries == 1 and "No such file" in (d.error or "")


# -- headless: noc-tui poll raises the same alarms ----------------------------------


def test_poll_raises_the_alarms_once_and_sends_them(tmp_path: Path, hooks: list[Hook]) -> None:
    from noc_tui.demo_switch import DemoSwitch
    from noc_tui.records.timefmt import HOUR_MS, now_ms
    from noc_tui.sync.poller import EXIT_OK, run_poll_command

    hook = make_hook(hooks)
    t0 = now_ms() // HOUR_MS * HOUR_MS - HOUR_MS
    sw = DemoSwitch(seed=11, start_ms=t0, clock=lambda: t0, calls_per_min=1.0).start()
    try:
        # Every carrier with a failed call last is across: alarms are sure to fire.
        settings = Settings(
            source={"url": sw.url, "page_limit": 500}, poll={"backfill": "1d"},
            alarms={"consecutive_failures": 1, "asr_min_attempts": 1000, "window": "24h",
                    "webhook_url": hook.url(), "timeout_s": 2, "retries": 1})
        out = io.StringIO()
        path = tmp_path / "cache.db"
        assert run_poll_command(settings, path, out=out) == EXIT_OK
        # Carriers' and trunk groups' alarms alike (the demo serves both sides).
        lines = [x for x in out.getvalue().splitlines() if "ALARM " in x]
        assert any("ALARM carrier" in x for x in lines)
        assert lines and len(hook.bodies) == len(lines)
        with Cache(path, readonly=True) as c:
            opened = open_alarms(c.conn)
        assert {b["subject_id"] for b in hook.bodies} == {a.subject_id for a in opened}
        assert all(a.delivery == "raised: webhook ok (1 try)" for a in opened)
        assert "SECRET" not in out.getvalue()
        # The next poll of the same traffic: the same alarms, none fires again.
        out2 = io.StringIO()
        assert run_poll_command(settings, path, out=out2) == EXIT_OK
        assert "ALARM" not in out2.getvalue() and len(hook.bodies) == len(lines)
    finally:
        sw.stop()


def test_poll_follow_says_each_alarm_its_poll_raised(cache: Cache) -> None:
    from noc_tui.sync.follow import Tally, _took
    from noc_tui.sync.poller import PollResult

    cache.ingest("attempts", fail_run("A", NOW - 40 * MIN, 6))
    changes = judge(cache, NOW)
    result = PollResult(1, "ok", "http://127.0.0.1", 0, 1, 0, 1000, 6, 6, 0, 1, 1,
                        new_attempts=6, alarms=changes)
    lines: list[str] = []
    _took(result, Tally(), lines.append)
    assert [ln.split(" ", 1)[1] for ln in lines[:1]] == [
        "ALARM carrier Alpha <!channel> Telecom (A): 6 consecutive failures (alarm at 5) "
        "[1h]"]
    assert "+6 attempts" in lines[1]
    quiet: list[str] = []  # a poll that brings nothing and raises nothing says nothing
    _took(PollResult(2, "ok", "u", 0, 1, 0, 1, 0, 0, 0, 1, 1), Tally(), quiet.append)
    assert quiet == []


def test_a_webhook_that_hangs_is_not_waited_for_again_and_again(
        cache: Cache, hooks: list[Hook]) -> None:
    import dataclasses

    a = raised_alarm(cache)
    hang = make_hook(hooks, hang_s=10)
    s = sender(hang.url(), timeout_s=0.3, retries=2)
    evs = [AlarmEvent(RAISED, dataclasses.replace(a, id=a.id + i)) for i in range(3)]
    notifier = Notifier(s.al, cache.path, sender=s)
    t = time.monotonic()
    notifier.submit(evs)
    assert notifier.wait(notifier.worst_case_s(3) + 2)
    took = time.monotonic() - t
    # The first alarm gets every try; once the webhook has failed them all, the next
    # ones get one try each: about 5 timeouts, not 9.
    assert [d.tries for d in notifier.outcomes] == [3, 1, 1]
    assert not any(d.ok for d in notifier.outcomes)
    assert took < 0.3 * 7, took
    assert notifier.worst_case_s(3) < 0.3 * 6
    # The webhook is back: the next alarm goes through at its one try.
    hang.hang_s = 0
    hang.release.set()
    [d] = s.send(AlarmEvent(RAISED, a))
    assert d.ok and d.tries == 1
    [d] = s.send(AlarmEvent(CLEARED, a))  # and it is no longer counted as down
    assert d.ok and d.tries == 1


def test_quitting_sends_what_is_queued_and_names_what_could_not_go(
        cache: Cache, hooks: list[Hook]) -> None:
    a = raised_alarm(cache)
    said: list[str] = []
    # A webhook that answers slowly: what the dashboard queued just before quitting
    # still goes out, and the operator is told it is being sent.
    slow = make_hook(hooks, hang_s=0.4)
    notifier = Notifier(sender(slow.url(), timeout_s=2.0).al, cache.path,
                        sender=sender(slow.url(), timeout_s=2.0))
    notifier.submit([AlarmEvent(RAISED, a), AlarmEvent(CLEARED, a)])
    assert len(notifier.untried()) >= 1
    drain_at_quit(notifier, said.append, limit_s=5.0)
    assert said == ["sending 2 alarms raised before quitting (at most 5 s)"]
    assert notifier.untried() == [] and len(slow.bodies) == 2
    assert all(d.ok for d in notifier.outcomes)
    # A webhook that hangs past the bound: the alarm is named as not sent, the wait
    # stays bounded, and the URL's secret is not in anything said.
    said.clear()
    hang = make_hook(hooks, hang_s=10)
    s = sender(hang.url(), timeout_s=3.0, retries=0)
    stuck = Notifier(s.al, cache.path, sender=s)
    stuck.submit([AlarmEvent(RAISED, a)])
    t = time.monotonic()
    drain_at_quit(stuck, said.append, limit_s=0.5)
    assert time.monotonic() - t < 1.5
    assert said[0] == "sending 1 alarm raised before quitting (at most 0.5 s)"
    assert said[-1] == (f"not sent, time ran out: #{a.id} (raised); the alarms screen "
                        "lists them")
    assert not any("SECRET" in line for line in said)
    # Nothing queued: nothing said.
    said.clear()
    drain_at_quit(Notifier(s.al, cache.path, sender=s), said.append)
    assert said == []


def test_trunk_groups_raise_their_own_alarms_once_and_clear(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from noc_tui.cli import main
    from tests.inbound_data import att as delivery
    from tests.inbound_data import group, reg, write_jsonl

    data = tmp_path / "data"
    write_jsonl(data / "trunk_groups.jsonl", [
        group("g1", name="Acme [bold]PBX\x1b[2J"), group("g2"), group("g3")])
    write_jsonl(data / "registrations.jsonl", [
        reg("g2", "trunk1", "2026-11-01T08:00:00Z"), reg("g3", "trunk1", "2026-11-01T08:00:00Z"),
        reg("g3", "trunk2", "2026-11-01T08:00:00Z")])
    # g2: six deliveries, each lost at its only attempt (a 500 from the PBX, trunk2 never
    # tried: the chain ends); g3: six answered at the first try.
    write_jsonl(data / "deliveries.jsonl", [
        delivery(f"{gid}-{i}", 1, code, gid=gid, at=f"2026-11-01T11:0{i}:00Z")
        for gid, code in (("g2", 500), ("g3", 200)) for i in range(6)])
    cfg = tmp_path / "config.toml"
    cfg.write_text("[alarms]\nwindow = \"24h\"\ntrunk_lost_deliveries = 6\n"
                   "trunk_first_try_min_offered = 6\n")
    db = tmp_path / "c.db"
    base = ["--config", str(cfg), "--cache", str(db), "import", str(data)]
    main([*base, "--now", "2026-11-01T12:00:00Z"])
    said = capsys.readouterr().err
    with Cache(db, readonly=True) as c:
        opened = {(a.subject_id, a.kind): a for a in open_alarms(c.conn, "trunk group")}
    assert set(opened) == {("g1", "unregistered"), ("g2", "lost_deliveries"),
                           ("g2", "first_try_floor")}
    assert opened[("g1", "unregistered")].message == \
        "registered on no edge (trunk1, trunk2)"
    assert opened[("g2", "lost_deliveries")].message == "6 deliveries lost (alarm at 6)"
    assert opened[("g2", "first_try_floor")].message == \
        "first try 0% of 6 deliveries, below the floor of 50%"
    # Said once each, naming the trunk group; its name's escape sequence stays inert.
    assert said.count("ALARM trunk group") == 3
    assert "ALARM trunk group Acme [bold]PBX\\x1b[2J (g1): registered on no edge" in said
    assert "\x1b" not in said
    # The same records again, a day later: the lost deliveries left the window, those
    # alarms clear; g1 is still registered nowhere: not raised again.
    main([*base, "--now", "2026-11-02T12:00:00Z"])
    said = capsys.readouterr().err
    assert "ALARM trunk group" not in said
    assert said.count("CLEARED trunk group Group g2 (g2)") == 2
    with Cache(db, readonly=True) as c:
        assert [(a.subject_id, a.kind) for a in open_alarms(c.conn, "trunk group")] == \
            [("g1", "unregistered")]
