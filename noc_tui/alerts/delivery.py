"""Sending alarms out: a configured command and a webhook, each tried `retries` more
times after a failure, each try bounded by `timeout_s`, all in one worker thread.

The webhook's URL may hold a secret (a Slack URL is one): it is never logged, shown or
stored past its scheme and host (`redact_url`), and is taken out of any error text.
How each delivery went is noted on the alarm's row in the cache (store/alarms.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noc_tui.records.printable import printable as clean
from noc_tui.records.timefmt import ms_to_iso
from noc_tui.store.alarms import Alarm, note_delivery

if TYPE_CHECKING:
    from noc_tui.config import AlarmSettings

RAISED, CLEARED = "raised", "cleared"
BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 5.0
DOWN_FOR_S = 60.0  # after failing every try, a target gets one try an alarm this long
STDERR_SHOWN = 200  # characters of a failed command's error output kept in its note
USER_AGENT = "noc-tui alarms"


@dataclass(frozen=True)
class AlarmEvent:
    event: str  # raised | cleared
    alarm: Alarm


def events(raised: Iterable[Alarm], cleared: Iterable[Alarm],
           with_cleared: bool = True) -> list[AlarmEvent]:
    out = [AlarmEvent(RAISED, a) for a in raised]
    if with_cleared:
        out += [AlarmEvent(CLEARED, a) for a in cleared]
    return out


def event_text(ev: AlarmEvent) -> str:
    """One line: 'ALARM carrier Tier One Telecom (tier1): 57 consecutive failures (alarm
    at 50) [1h]', or 'CLEARED carrier ...: <what crossed>'. Control characters escaped."""
    a = ev.alarm
    head = "ALARM" if ev.event == RAISED else "CLEARED"
    return clean(f"{head} {a.subject_kind} {a.subject}: {a.message} [{a.over}]")


def alarm_document(ev: AlarmEvent) -> dict[str, Any]:
    """The alarm as JSON: the webhook's plain body and the command's standard input."""
    a = ev.alarm
    return {
        "source": "noc-tui", "event": ev.event, "id": a.id, "subject_kind": a.subject_kind,
        "subject_id": a.subject_id, "subject_name": a.subject_name, "kind": a.kind,
        "window": a.over, "message": a.message, "now": a.last_message,
        "raised_at": ms_to_iso(a.raised_at),
        "cleared_at": ms_to_iso(a.cleared_at) if a.cleared_at is not None else None,
        "text": event_text(ev),
    }


def _slack_escape(text: str) -> str:
    # Slack reads <...> as links and mentions (<!channel>): data must not ping people.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def webhook_body(ev: AlarmEvent, fmt: str, routing_key: str | None = None) -> dict[str, Any]:
    if fmt == "slack":
        return {"text": _slack_escape(event_text(ev))}
    if fmt == "pagerduty":
        a = ev.alarm
        body: dict[str, Any] = {
            "routing_key": routing_key or "",
            "event_action": "trigger" if ev.event == RAISED else "resolve",
            # One incident per crossing: a new crossing is a new alarm row.
            "dedup_key": f"noc-tui-alarm-{a.id}",
        }
        if ev.event == RAISED:
            body["payload"] = {"summary": event_text(ev)[:1024], "severity": "error",
                               "source": clean(f"noc-tui {a.subject_kind} {a.subject_id}"),
                               "custom_details": alarm_document(ev)}
        return body
    return alarm_document(ev)


def redact_url(url: str) -> str:
    """'https://hooks.slack.com/services/T0/B0/secret' -> 'https://hooks.slack.com/…':
    scheme and host only (a user:password@ is dropped too)."""
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0].rsplit("@", 1)[-1].split("?", 1)[0]
    return f"{scheme}://{host}/…" if rest else "(a URL)"


def _scrub(text: str, secrets: Iterable[str]) -> str:
    """Error text with every secret (the URL, its path, a key) taken out."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "…")
    return clean(text)


@dataclass(frozen=True)
class Delivery:
    alarm_id: int
    event: str
    target: str  # "command" or the redacted webhook URL
    ok: bool
    tries: int
    error: str | None = None

    def note(self) -> str:
        what = "command" if self.target == "command" else "webhook"
        tries = f"{self.tries} tr{'y' if self.tries == 1 else 'ies'}"
        if self.ok:
            return f"{self.event}: {what} ok ({tries})"
        return f"{self.event}: {what} failed after {tries}: {self.error}"


class Sender:
    """One alarm to each configured target, with retries; blocking (the Notifier's
    thread runs it)."""

    def __init__(self, al: AlarmSettings, sleep: Callable[[float], None] = time.sleep,
                 backoff_base_s: float = BACKOFF_BASE_S) -> None:
        self.al = al
        self.sleep = sleep
        self.backoff_base_s = backoff_base_s
        url = al.webhook_url.get_secret_value() if al.webhook_url else None
        self.url = url
        key = al.pagerduty_routing_key
        self.routing_key = key.get_secret_value() if key else None
        self.shown_url = redact_url(url) if url else None
        self._down_until: dict[str, float] = {}  # target -> until when it counts as down
        # What never appears in an error: the URL, its path and query, the key.
        self.secrets = [s for s in (url, url.split("://", 1)[-1].partition("/")[2]
                                     if url else None, self.routing_key) if s]

    @property
    def enabled(self) -> bool:
        return bool(self.url or self.al.command)

    def send(self, ev: AlarmEvent) -> list[Delivery]:
        out = []
        if self.al.command:
            out.append(self._with_retries(ev, "command", self._run_command))
        if self.url:
            out.append(self._with_retries(ev, self.shown_url or "", self._post))
        return out

    def _with_retries(self, ev: AlarmEvent, target: str,
                      attempt: Callable[[AlarmEvent], tuple[str | None, bool]]) -> Delivery:
        error: str | None = None
        tries = 0
        # A target that has just failed every try gets one try per alarm for a while:
        # twenty alarms into a hanging webhook must not keep a poll for twenty times
        # every retry (it is back at the first alarm that goes through).
        down = time.monotonic() < self._down_until.get(target, 0.0)
        for i in range(1 if down else self.al.retries + 1):
            tries += 1
            error, retry = attempt(ev)
            if error is None:
                self._down_until.pop(target, None)
                return Delivery(ev.alarm.id, ev.event, target, True, tries)
            if not retry or down or i == self.al.retries:
                break
            self.sleep(min(BACKOFF_CAP_S, self.backoff_base_s * 2 ** i))
        if retry:
            self._down_until[target] = time.monotonic() + DOWN_FOR_S
        return Delivery(ev.alarm.id, ev.event, target, False, tries,
                        _scrub(error or "failed", self.secrets))

    def _post(self, ev: AlarmEvent) -> tuple[str | None, bool]:
        """(error or None, worth retrying)."""
        import httpx

        body = webhook_body(ev, self.al.webhook_format, self.routing_key)
        try:
            resp = httpx.post(self.url or "", json=body, timeout=self.al.timeout_s,
                              headers={"User-Agent": USER_AGENT}, follow_redirects=False)
        except httpx.TimeoutException:
            return f"no answer in {self.al.timeout_s:g} s", True
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}", True
        if 200 <= resp.status_code <= 299:
            return None, False
        # 4xx but 408/429 will fail the same way again (a wrong URL, a bad key).
        retry = resp.status_code >= 500 or resp.status_code in (408, 429)
        return f"HTTP {resp.status_code} {resp.reason_phrase}", retry

    def _run_command(self, ev: AlarmEvent) -> tuple[str | None, bool]:
        argv = list(self.al.command or [])
        doc = alarm_document(ev)
        env = {**os.environ, "NOC_TUI_ALARM_EVENT": ev.event,
               "NOC_TUI_ALARM_SUBJECT": clean(ev.alarm.subject),
               "NOC_TUI_ALARM_KIND": ev.alarm.kind,
               "NOC_TUI_ALARM_MESSAGE": clean(ev.alarm.message)}
        try:
            done = subprocess.run(argv, input=json.dumps(doc).encode(), capture_output=True,
                                  timeout=self.al.timeout_s, env=env, check=False)
        except subprocess.TimeoutExpired:
            return f"{argv[0]} did not finish in {self.al.timeout_s:g} s (stopped)", True
        except OSError as exc:  # not found, not executable: the same next time
            return f"{argv[0]}: {exc.strerror or exc}", False
        if done.returncode == 0:
            return None, False
        why = done.stderr.decode(errors="replace").strip()[:STDERR_SHOWN]
        return f"{argv[0]} exited with {done.returncode}" + (f": {why}" if why else ""), True


class Notifier:
    """Sends alarms in a worker thread of its own: `submit` never waits. Each outcome
    is noted on the alarm's row in the cache at `cache_path` (when given), kept in
    `outcomes`, and handed to `on_outcome`."""

    def __init__(self, al: AlarmSettings, cache_path: Path | None = None, *,
                 sender: Sender | None = None,
                 on_outcome: Callable[[Delivery], None] | None = None) -> None:
        self.sender = sender or Sender(al)
        self.cache_path = cache_path
        self.on_outcome = on_outcome
        self.outcomes: list[Delivery] = []
        self._queue: queue.Queue[AlarmEvent | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._untried: list[AlarmEvent] = []  # submitted, not yet tried: said at quit

    @property
    def enabled(self) -> bool:
        return self.sender.enabled

    def submit(self, evs: Iterable[AlarmEvent]) -> int:
        """Queue alarms to send; returns how many. Never blocks."""
        evs = list(evs)
        if not evs or not self.enabled:
            return 0
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                # A daemon: a webhook that hangs never keeps the program from ending.
                self._thread = threading.Thread(target=self._work, name="alarm-delivery",
                                                daemon=True)
                self._thread.start()
        with self._lock:
            self._untried.extend(evs)
        for ev in evs:
            self._queue.put(ev)
        return len(evs)

    def untried(self) -> list[AlarmEvent]:
        """What was submitted and not yet tried, oldest first."""
        with self._lock:
            return list(self._untried)

    def wait(self, timeout_s: float) -> bool:
        """Wait until everything submitted was tried (headless use); False if time ran
        out first."""
        deadline = time.monotonic() + timeout_s
        while self._queue.unfinished_tasks:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True

    def worst_case_s(self, n: int) -> float:
        """How long n alarms take to send at most (every try timing out): the first
        with every retry, the others one try each (the target counts as down)."""
        al = self.sender.al
        targets = bool(al.command) + bool(self.sender.url)
        backoff = sum(min(BACKOFF_CAP_S, self.sender.backoff_base_s * 2 ** i)
                      for i in range(al.retries))
        first = (al.retries + 1) * al.timeout_s + backoff
        return targets * (first + max(0, n - 1) * al.timeout_s) if n else 0.0

    def _work(self) -> None:
        while True:
            ev = self._queue.get()
            try:
                if ev is None:
                    return
                for outcome in self.sender.send(ev):
                    self.outcomes.append(outcome)
                    self._note(outcome)
                    if self.on_outcome is not None:
                        self.on_outcome(outcome)
            except Exception as exc:  # a bug must not kill the thread silently
                self.outcomes.append(Delivery(
                    ev.alarm.id if ev else 0, ev.event if ev else "", "?", False, 0,
                    _scrub(f"{type(exc).__name__}: {exc}", self.sender.secrets)))
            finally:
                if ev is not None:
                    with self._lock:
                        self._untried.remove(ev)
                self._queue.task_done()

    def _note(self, outcome: Delivery) -> None:
        if self.cache_path is None:
            return
        # The outcome stays in `outcomes` if the cache cannot take the note.
        with contextlib.suppress(Exception):
            note_delivery(self.cache_path, outcome.alarm_id, outcome.note())

    def close(self) -> None:
        """Let the thread end once what is queued was tried."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                self._queue.put(None)



def drain_at_quit(notifier: Notifier, say: Callable[[str], None],
                  limit_s: float = 10.0) -> None:
    """After the dashboard closed: alarms it raised and had not sent yet get up to
    `limit_s` to go out (the operator quitting is no reason to lose a page), and
    whatever did not go is named, so nobody believes it reached anyone."""
    left = notifier.untried()
    if not left or not notifier.enabled:
        return
    bound = min(limit_s, notifier.worst_case_s(len(left)) + 1.0)
    say(f"sending {len(left)} alarm{'s' if len(left) != 1 else ''} raised before quitting "
        f"(at most {bound:.3g} s)")
    tried_before = len(notifier.outcomes)
    notifier.wait(bound)
    for d in notifier.outcomes[tried_before:]:
        if not d.ok:
            say(f"alarm #{d.alarm_id} ({d.event}) not delivered: {d.error}")
    unsent = notifier.untried()
    if unsent:
        ids = ", ".join(f"#{ev.alarm.id} ({ev.event})" for ev in unsent)
        say(f"not sent, time ran out: {ids}; the alarms screen lists them")


def report_and_wait(notifier: Notifier, evs: list[AlarmEvent],
                    say: Callable[[str], None]) -> None:
    """Headless (`noc-tui poll`, `import`): say each alarm, wait until the notifier has
    tried to send them (they were submitted), and say each delivery that failed."""
    for ev in evs:
        say(event_text(ev))
    if not evs or not notifier.enabled:
        return
    if not notifier.wait(notifier.worst_case_s(len(evs)) + 1.0):
        say("alarm delivery did not finish in time; what was not sent is lost")
    for d in notifier.outcomes:
        if not d.ok:
            target = "command" if d.target == "command" else f"webhook {d.target}"
            say(f"alarm #{d.alarm_id} ({d.event}): {target} failed after {d.tries} "
                f"tr{'y' if d.tries == 1 else 'ies'}: {d.error}")
