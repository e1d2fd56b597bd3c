"""`noc-tui poll --follow` as an operator runs it: its own process, polling the demo
switch over loopback HTTP into a real cache, stopped by a signal.

The switch runs in the test's process on a clock the test moves: moving it publishes
new calls, which the next poll must bring. Every wait is bounded; the follower is
stopped by its PID, also when a test fails.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from noc_tui.demo_switch import DemoSwitch
from noc_tui.demo_switch.server import ApiError, Payload
from noc_tui.store.cache import Cache, CacheError
from noc_tui.sync.follow import FOLLOW_BACKOFF_CAP_S, backoff_s
from noc_tui.sync.poller import poll_running, poll_status
from tests.test_poller import T0, Clock, assert_exact, assert_inbound_exact

ROOT = Path(__file__).resolve().parent.parent
MINUTE_MS = 60_000
NEW = re.compile(r"Z (?:ok again after \d+ failed polls?: )?\+(\d+) attempts in ")


class Follower:
    """`noc-tui poll --follow` in a child process; its stderr read line by line."""

    def __init__(self, config: Path, cache: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "noc_tui", "--config", str(config), "--cache", str(cache),
             "poll", "--follow"],
            cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self._seen = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._seen:
                self.lines.append(line.rstrip("\n"))
                self._seen.notify_all()

    def wait_for(self, pattern: str, after: int = 0, timeout_s: float = 8.0) -> re.Match[str]:
        """The first line from index `after` on that matches; fails after timeout_s."""
        deadline = time.monotonic() + timeout_s
        with self._seen:
            while True:
                for line in self.lines[after:]:
                    found = re.search(pattern, line)
                    if found:
                        return found
                left = deadline - time.monotonic()
                assert left > 0 and self.proc.poll() is None, \
                    f"no line matching {pattern!r}; said:\n" + "\n".join(self.lines)
                self._seen.wait(min(left, 0.2))

    def wait_until(self, ok: Callable[[], bool], timeout_s: float = 5.0) -> None:
        """Until ok() holds, re-checked as lines arrive; gives up quietly after timeout_s
        (the caller asserts what it needs)."""
        deadline = time.monotonic() + timeout_s
        with self._seen:
            while not ok() and (left := deadline - time.monotonic()) > 0:
                self._seen.wait(min(left, 0.2))

    def signal(self, sig: int) -> tuple[int, float]:
        """Send sig; the exit status and how long the process took to end."""
        sent = time.monotonic()
        os.kill(self.proc.pid, sig)
        status = self.proc.wait(timeout=10)
        took = time.monotonic() - sent
        self._reader.join(timeout=5)
        return status, took

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self._reader.join(timeout=5)
        if self.proc.stderr is not None:
            self.proc.stderr.close()

    def new_attempts(self) -> int:
        return sum(int(m.group(1)) for ln in self.lines if (m := NEW.search(ln)))


@pytest.fixture
def switch() -> Iterator[list[DemoSwitch]]:
    """Demo switches started by the test (a list: one goes down, another comes back)."""
    started: list[DemoSwitch] = []
    yield started
    for sw in started:
        sw.stop()


@pytest.fixture
def follower() -> Iterator[list[Follower]]:
    started: list[Follower] = []
    yield started
    for f in started:
        f.stop()


def _start_switch(started: list[DemoSwitch], clock: Clock, port: int = 0) -> DemoSwitch:
    # Deliveries at 12 a minute: 20 minutes of them at the night's lowest rate are about
    # 40, so each step of the clock brings some whatever the hour (at the default share
    # of 2 calls a minute a night-time step was empty half the time, and failed).
    sw = DemoSwitch(seed=11, port=port, start_ms=T0, clock=clock, calls_per_min=2.0,
                    deliveries_per_min=12.0)
    started.append(sw.start())
    return sw


def _config(tmp_path: Path, url: str, page_limit: int = 200) -> Path:
    path = tmp_path / "config.toml"
    # No retries inside a poll: the loop's own backoff is what is tested.
    path.write_text(f'[source]\nurl = "{url}"\npage_limit = {page_limit}\nretries = 0\n'
                    '[poll]\nbackfill = "3h"\nfollow_interval = "1s"\n')
    return path


def _wait_for_poll_started_after(path: Path, ms: int, timeout_s: float = 10.0) -> None:
    """Until a poll that started at or after `ms` (wall clock) has ended well."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with Cache(path, readonly=True) as cache:
            done = cache.conn.execute(
                "SELECT count(*) FROM poll_runs WHERE started_at >= ? AND status = 'ok'",
                (ms,)).fetchone()[0]
        if done:
            return
        time.sleep(0.1)
    raise AssertionError(f"no poll started after {ms} ended ok within {timeout_s} s")


def _attempts(path: Path) -> int:
    with Cache(path, readonly=True) as cache:
        return int(cache.counts()["attempts"])


def _deliveries(path: Path) -> int:
    with Cache(path, readonly=True) as cache:
        return int(cache.conn.execute("SELECT count(*) FROM deliveries").fetchone()[0])


def test_backoff_doubles_up_to_the_cap() -> None:
    assert [backoff_s(1, n) for n in range(0, 4)] == [1, 2, 4, 8]
    assert backoff_s(5, 10) == FOLLOW_BACKOFF_CAP_S
    assert backoff_s(300, 3) == 300  # never shorter than the interval itself


@pytest.mark.usefixtures("isolated_config")
def test_follow_takes_new_attempts_poll_after_poll_and_stops_on_sigterm(
        tmp_path: Path, switch: list[DemoSwitch], follower: list[Follower]) -> None:
    clock = Clock(T0)
    sw = _start_switch(switch, clock)
    cache = tmp_path / "cache.db"
    f = Follower(_config(tmp_path, sw.url), cache)
    follower.append(f)
    f.wait_for(NEW.pattern)
    first = _attempts(cache)
    assert first > 0 and f.new_attempts() == first
    delivered = _deliveries(cache)
    assert delivered > 0  # the inbound side arrives with the first poll
    for step in (1, 2):
        said = len(f.lines)
        moved_ms = time.time_ns() // 1_000_000
        clock.ms += 20 * MINUTE_MS  # 20 minutes of calls end: the switch publishes them
        f.wait_for(NEW.pattern, after=said)
        # A poll under way when the clock moved may have passed the place of some new
        # calls (they are behind its cursor); the next poll's overlap brings them. Judge
        # the cache once a poll that began after the move has ended.
        _wait_for_poll_started_after(cache, moved_ms)
        assert _attempts(cache) > first
        first = _attempts(cache)
        # What each poll said it brought adds up to what the cache holds, and the cache
        # holds exactly what the switch serves: none lost, none twice.
        f.wait_until(lambda want=first: f.new_attempts() == want)
        assert f.new_attempts() == first, step
        assert_exact(sw, cache)
        # Deliveries ended in those 20 minutes too, and arrived with the attempts.
        assert _deliveries(cache) > delivered, step
        delivered = _deliveries(cache)
        assert_inbound_exact(sw, cache)
    time.sleep(1.5)  # polls that bring nothing say nothing
    quiet = len(f.lines)
    status, took = f.signal(signal.SIGTERM)
    assert status == 0 and took < 1.0, (status, took)
    assert len(f.lines) == quiet + 1 and f.lines[-1].startswith("noc-tui poll: stopped (SIGTERM)")
    # The demo switch serves the inbound listings: no poll skipped them, so nothing was
    # said about inbound at all (a skip would be noted once: test_inbound_poll).
    assert not [ln for ln in f.lines if "inbound" in ln or "does not serve" in ln]
    assert not poll_running(cache)
    with Cache(cache, readonly=True) as c:
        runs = c.conn.execute("SELECT count(*), sum(status = 'ok') FROM poll_runs").fetchone()
        last = poll_status(c)
    assert runs[0] >= 4 and runs[0] == runs[1]  # several polls, all ok, none left running
    assert last.status == "ok" and not last.is_running


@pytest.mark.usefixtures("isolated_config")
def test_sigterm_mid_poll_ends_it_at_once_and_records_it(
        tmp_path: Path, switch: list[DemoSwitch], follower: list[Follower]) -> None:
    sw = _start_switch(switch, Clock(T0))
    sw.faults.latency_ms = 150  # slow pages: the first poll takes seconds
    cache = tmp_path / "cache.db"
    f = Follower(_config(tmp_path, sw.url, page_limit=10), cache)
    follower.append(f)
    deadline = time.monotonic() + 10
    while True:
        assert time.monotonic() < deadline, "the poll made no progress"
        time.sleep(0.1)
        if not (cache.exists() and poll_running(cache)):
            continue
        with contextlib.suppress(CacheError, sqlite3.Error):  # the poll is creating it
            if _attempts(cache) > 0:
                break  # mid-poll, with pages of attempts stored and more to come
    status, took = f.signal(signal.SIGTERM)
    # No poll ended, so none failed: 0. The poll cut short is recorded as such, what it
    # stored stays, and the lock is free for the next poller.
    assert status == 0 and took < 1.0, (status, took)
    assert not poll_running(cache)
    with Cache(cache, readonly=True) as c:
        run = c.conn.execute("SELECT status, error_kind, error, pages FROM poll_runs "
                             "ORDER BY id DESC LIMIT 1").fetchone()
        kept = c.counts()["attempts"]
    assert run[:3] == ("failed", "interrupted", "Terminated") and run[3] >= 2
    assert kept > 0 and f.new_attempts() == 0  # stored, though no poll ended to say so


@pytest.mark.usefixtures("isolated_config")
def test_follow_survives_the_switch_going_down_and_coming_back(
        tmp_path: Path, switch: list[DemoSwitch], follower: list[Follower]) -> None:
    clock = Clock(T0)
    sw = _start_switch(switch, clock)
    port = sw.port
    cache = tmp_path / "cache.db"
    f = Follower(_config(tmp_path, sw.url), cache)
    follower.append(f)
    f.wait_for(NEW.pattern)
    sw.stop()
    said = len(f.lines)
    # Said, and the next try put off (twice the interval: the backoff).
    f.wait_for(r"Z failed \(unreachable\): .*Connection refused.*; polling again in 2 s",
               after=said)
    assert f.proc.poll() is None  # still following
    clock.ms += 20 * MINUTE_MS  # calls ended while it was down
    back = _start_switch(switch, clock, port=port)
    f.wait_for(r"Z ok again after 1 failed poll: \+\d+ attempts", after=said)
    assert f.new_attempts() == _attempts(cache)
    assert_exact(back, cache)
    # Down again and stopped while down: the last poll failed, so the status says 2.
    back.stop()
    f.wait_for(r"Z failed \(unreachable\)", after=len(f.lines))
    status, took = f.signal(signal.SIGTERM)
    assert status == 2 and took < 1.0, (status, took)
    assert "(the last one failed)" in f.lines[-1] and "2 failed" in f.lines[-1]


class OlderSwitch(DemoSwitch):
    """A switch from before the inbound listings: 404 for them, as an unknown path."""

    def page_trunk_groups(self, params: dict[str, str], gz: bool = False) -> Payload:
        raise ApiError(404, "no such endpoint: /api/v1/trunk_groups")


@pytest.mark.usefixtures("isolated_config")
def test_follow_notes_a_skipped_inbound_side_once(
        tmp_path: Path, switch: list[DemoSwitch], follower: list[Follower]) -> None:
    clock = Clock(T0)
    sw = OlderSwitch(seed=11, start_ms=T0, clock=clock, calls_per_min=2.0)
    switch.append(sw.start())
    cache = tmp_path / "cache.db"
    f = Follower(_config(tmp_path, sw.url), cache)
    follower.append(f)
    f.wait_for(NEW.pattern)
    said = len(f.lines)
    clock.ms += 20 * MINUTE_MS
    f.wait_for(NEW.pattern, after=said)  # a later poll, which skipped the same way
    notes = [ln for ln in f.lines if " note: inbound" in ln]
    assert len(notes) == 1 and "does not serve /trunk_groups" in notes[0]
    assert _deliveries(cache) == 0


@pytest.mark.usefixtures("isolated_config")
def test_ctrl_c_ends_with_130_and_bad_use_with_2(
        tmp_path: Path, switch: list[DemoSwitch], follower: list[Follower]) -> None:
    sw = _start_switch(switch, Clock(T0))
    cache = tmp_path / "cache\x1b[2J.db"  # a name that would clear the screen
    config = _config(tmp_path, sw.url)
    f = Follower(config, cache)
    follower.append(f)
    f.wait_for(NEW.pattern)
    status, _ = f.signal(signal.SIGINT)
    assert status == 130 and "interrupted after" in f.lines[-1]
    assert "cache\\x1b[2J.db" in f.lines[0] and not any("\x1b" in ln for ln in f.lines)
    assert not poll_running(cache)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "noc_tui", "--config", str(config),
                               "--cache", str(cache), "poll", "--follow", *args], cwd=ROOT,
                              capture_output=True, text=True, timeout=30, check=False)

    both = run("--since", "2026-01-01T00:00:00Z")
    assert both.returncode == 2 and "leave out --since and --until" in both.stderr
    config.write_text('[poll]\nfollow_interval = "1s"\n')  # no switch URL at all
    none = run()
    assert none.returncode == 2 and "no switch URL configured" in none.stderr
    assert str(config) in none.stderr and "Traceback" not in none.stderr
