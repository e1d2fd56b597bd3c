"""`noc-tui doctor`: what works with the configured source, check by check.

Each kind of source has its checker in CHECKERS (a new kind of source adds one): it
yields one Check per thing it tried (reachability, TLS, credentials, each endpoint or
table), each ok, a warning, or a problem with what to change in which config key. The
checks only read: a doctor run never changes the switch or the cache. Messages carry no
secret (the sources redact theirs; the runner removes the configured ones again) and
the caller escapes control characters before they reach a terminal.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from noc_tui.records.formats import validate
from noc_tui.records.timefmt import HOUR_MS, ms_to_iso, now_ms
from noc_tui.sources.base import CLIENT_ERROR, UNAUTHORISED, UNREACHABLE, SourceError
from noc_tui.sources.http import Redactor, basic_value
from noc_tui.store.poll_status import NO_FAILURES

if TYPE_CHECKING:
    from noc_tui.config import Settings, SourceSettings

OK, WARN, PROBLEM = "ok", "warn", "PROBLEM"
SAMPLE = 5  # rows asked of each listing
# How long the doctor retries a failing request: it says what fails, it does not wait it out.
DOCTOR_RETRIES = 1
DOCTOR_RETRY_AFTER_CAP_S = 5.0


@dataclass(frozen=True)
class Check:
    status: str  # ok | warn | PROBLEM
    what: str  # the thing checked
    detail: str  # what was seen
    fix: str = ""  # what to change, and in which config key

    def line(self) -> str:
        text = f"{self.status:<7} {self.what}: {self.detail}"
        return f"{text} — fix: {self.fix}" if self.fix else text


Checker = Callable[["Settings", int], Iterator[Check]]


def _ok(what: str, detail: str) -> Check:
    return Check(OK, what, detail)


def _warn(what: str, detail: str, fix: str = "") -> Check:
    return Check(WARN, what, detail, fix)


def _problem(what: str, detail: str, fix: str) -> Check:
    return Check(PROBLEM, what, detail, fix)


def _quick(source: SourceSettings) -> SourceSettings:
    """The settings with few retries: the doctor reports a failure, it does not wait."""
    return source.model_copy(update={"retries": min(source.retries, DOCTOR_RETRIES)})


def _tls(url: str, source: SourceSettings) -> Check:
    host = httpx.URL(url).host
    if url.startswith("http://"):
        return _warn("TLS", f"plain HTTP to {host}: credentials and records travel "
                            "unencrypted", "use an https:// address in source.url")
    if not source.verify_tls:
        return _warn("TLS", f"the certificate of {host} is not checked",
                     "set source.verify_tls = true (and source.ca_bundle for a private CA)")
    ca = f" with source.ca_bundle {source.ca_bundle}" if source.ca_bundle else ""
    return _ok("TLS", f"the certificate of {host} was verified{ca}")


def _connection(exc: SourceError, url: str, credentials: str) -> Check:
    """The check a first request's failure fails: reachability, TLS or credentials."""
    text = exc.message
    if exc.kind == UNREACHABLE and any(w in text for w in ("SSL", "certificate", "TLS")):
        return _problem("TLS", text, "give your CA in source.ca_bundle, or check that the "
                                     "host name in source.url is the certificate's")
    if exc.kind == UNREACHABLE:
        return _problem("reachability", text, "check source.url and that this machine "
                                              "reaches it (DNS, firewall, proxy)")
    if exc.kind == UNAUTHORISED and exc.status == 403:
        return _problem("permissions", text, f"give the user of {credentials} the right to "
                                             "use the API, or use another in those settings")
    if exc.kind == UNAUTHORISED:
        return _problem("credentials", text, f"check {credentials}")
    return _problem("reachability", text, f"check that source.url ({url}) is the API base "
                                          "address")


def _fields_check(what: str, rows: list[dict[str, Any]], mapping: dict[str, str],
                  required: Iterable[str], key: str) -> Iterator[Check]:
    """The fields a sample of rows has, against the mapping of `key`."""
    if not rows:
        yield _warn(what, "no rows to check the field mapping against")
        return
    seen: set[str] = set()
    for r in rows:
        seen.update(r)
    shown = ", ".join(sorted(seen))[:300]
    missing = {f: c for f, c in mapping.items() if c and c not in seen}
    req = set(required)
    for field, column in sorted(missing.items()):
        fix = f"set {key}.{field} to the field that holds it (the answer has: {shown})"
        if field in req:
            yield _problem(what, f"no field {column!r} for {field} ({key}.{field})", fix)
        else:
            yield _warn(what, f"no field {column!r} for {field} ({key}.{field}): it will be "
                              "unknown", fix)
    if not missing:
        used = sum(1 for c in mapping.values() if c)
        yield _ok(what, f"{len(rows)} rows read; all {used} mapped fields present "
                        f"(of {len(seen)} in the answer)")


def _valid(what: str, kind: str, records: list[dict[str, Any]]) -> Iterator[Check]:
    if not records:
        return
    _, rejected = validate(kind, records, [f"{what} row {i + 1}" for i in range(len(records))])
    if rejected:
        yield _problem(what, f"{len(rejected)} of {len(records)} sample rows would be "
                             f"quarantined; the first: {rejected[0].reason}",
                       "map that field to another column, or fix the data at the switch")


# -- ConnexCS -------------------------------------------------------------------------------


_CX_PATHS = ("account_path", "spec_path", "jwt_refresh_path", "jwt_access_path",
             "carriers_path", "contacts_path", "cards_path", "card_path", "card_rules_path",
             "query_path", "cdr_path")


def _segments(path: str) -> list[str]:
    return ["*" if s.startswith("{") or s.isdigit() else s
            for s in path.strip("/").split("/") if s]


def _in_spec(path: str, spec_paths: list[list[str]]) -> bool:
    want = _segments(path)
    return any(len(p) == len(want) and all(a == b or "*" in (a, b) for a, b in zip(
        p, want, strict=True)) for p in spec_paths)


def check_connexcs(settings: Settings, now: int) -> Iterator[Check]:
    from noc_tui.sources.connexcs import (
        ConnexCSSource,
        attempt_record,
        carrier_record,
        contact_record,
        rate_record,
    )

    source = _quick(settings.source)
    cx = source.connexcs
    try:
        src = ConnexCSSource(source, backoff_base_s=0.2,
                             retry_after_cap_s=DOCTOR_RETRY_AFTER_CAP_S)
    except ValueError as exc:
        yield _problem("configuration", str(exc), "set the settings it names")
        return
    creds = ("source.token" if src.auth_mode == "token"
             else "source.username and source.password")
    yield _ok("configuration", f"ConnexCS at {src.display_url}, auth = {src.auth_mode!r} "
                               f"({creds}), cdr_mode = {cx.cdr_mode!r}")
    with src:
        try:
            rows = src.rows("GET", cx.account_path, "the account", "account_path")
        except SourceError as exc:
            yield _connection(exc, src.display_url, creds)
            return
        yield _ok("reachability", f"{src.display_url} answered")
        yield _tls(src.display_url, source)
        name = rows[0].get("name") if rows else None
        if isinstance(name, str) and name:
            yield _ok("credentials", f"accepted: account {name!r}")
        else:
            yield _warn("credentials", f"accepted, but {cx.account_path} named no account",
                        "check source.connexcs.account_path")
        yield from _cx_spec(src)
        fields = (("carriers_path", "carrier list", "carrier_fields", cx.carrier_fields,
                   ("id",), carrier_record, "carriers"),
                  ("contacts_path", "contact list", "contact_fields", cx.contact_fields,
                   ("carrier_id", "name"), contact_record, "contacts"))
        for key, what, fkey, mapping, required, mapper, kind in fields:
            path = getattr(cx, key)
            if not path:
                yield _warn(what, f"not read (source.connexcs.{key} = \"\")")
                continue
            try:
                got = src.rows("GET", path, f"the {what}", key,
                               params={"_startRow": 0, "_endRow": SAMPLE})
            except SourceError as exc:
                yield _problem(what, exc.message, f"set source.connexcs.{key} to the "
                                                  f"account's path, or \"\" to leave {kind} out")
                continue
            yield from _fields_check(what, got, mapping, required, f"source.connexcs.{fkey}")
            yield from _valid(what, kind, [mapper(r, mapping) for r in got[:SAMPLE]])
        yield from _cx_rates(src, rate_record)
        yield from _cx_cdr(src, now, attempt_record)


def _cx_spec(src: Any) -> Iterator[Check]:
    cx = src.cx
    try:
        answer = src.call("GET", cx.spec_path, "the API document", "spec_path")
        paths = json.loads(answer.body).get("paths")
        if not isinstance(paths, dict):
            raise ValueError("no paths")
    except (SourceError, ValueError, AttributeError) as exc:
        why = exc.message if isinstance(exc, SourceError) else "it is not an OpenAPI document"
        yield _warn("API document", f"cannot read {cx.spec_path}: {why}; the paths are "
                                    "checked by trying them below")
        return
    spec = [_segments(p) for p in paths]
    configured = [(k, getattr(cx, k)) for k in _CX_PATHS if getattr(cx, k)]
    absent = [f"source.connexcs.{k} = {p!r}" for k, p in configured if not _in_spec(p, spec)]
    if absent:
        yield _warn("API document", f"{len(configured) - len(absent)} of {len(configured)} "
                                    f"configured paths are in it; not in it: "
                                    f"{', '.join(absent)} (tried below)")
    else:
        yield _ok("API document", f"all {len(configured)} configured paths are in it "
                                  f"({len(spec)} paths)")


def _cx_rates(src: Any, rate_record: Callable[..., dict[str, Any]]) -> Iterator[Check]:
    cx = src.cx
    if not cx.cards_path:
        yield _warn("rate cards", "not read (source.connexcs.cards_path = \"\")")
        return
    try:
        cards = src.rows("GET", cx.cards_path, "the rate card list", "cards_path",
                         params={"_startRow": 0, "_endRow": 200})
    except SourceError as exc:
        yield _problem("rate cards", exc.message, "set source.connexcs.cards_path to the "
                                                  "account's path, or \"\" to leave rates out")
        return
    theirs = [c for c in cards if c.get(cx.card_carrier_field) not in (None, "", 0, "0")]
    if not cards:
        yield _warn("rate cards", "the account lists no rate card")
        return
    if not theirs:
        seen = ", ".join(sorted({k for c in cards for k in c}))[:300]
        yield _problem("rate cards", f"{len(cards)} cards, none with a carrier in "
                                     f"{cx.card_carrier_field!r}",
                       f"set source.connexcs.card_carrier_field to the card field naming its "
                       f"carrier (the cards have: {seen})")
        return
    yield _ok("rate cards", f"{len(theirs)} of {len(cards)} cards name a carrier "
                            f"({cx.card_carrier_field})")
    card = theirs[0]
    try:
        rev = card.get("active_rev")
        if rev in (None, ""):
            one = src.rows("GET", cx.card_path.format(card_id=card.get("id")),
                           f"rate card {card.get('id')}", "card_path")
            rev = (one[0] if one else {}).get("active_rev")
        if rev in (None, ""):
            yield _warn("rate card rules", f"card {card.get('id')!r} has no active revision "
                                           "(active_rev)")
            return
        rules = src.rows("GET", cx.card_rules_path.format(card_id=card.get("id"), rev=rev),
                         "the rules of a rate card", "card_rules_path",
                         params={"limit": SAMPLE, "offset": 0})
    except SourceError as exc:
        yield _problem("rate card rules", exc.message, "set source.connexcs.card_path or "
                                                       "card_rules_path to the account's paths")
        return
    yield from _fields_check("rate card rules", rules, cx.rate_fields, ("prefix", "rate"),
                             "source.connexcs.rate_fields")
    carrier = str(card.get(cx.card_carrier_field))
    yield from _valid("rate card rules", "rates",
                      [rate_record(r, card, carrier, cx.rate_fields) for r in rules])


_CDR_REQUIRED = ("call_id", "seq", "carrier_id", "started_at", "dst", "sip_code",
                 "duration_s")


def _cx_cdr(src: Any, now: int, attempt_record: Callable[..., Any]) -> Iterator[Check]:
    cx = src.cx
    until = now // HOUR_MS * HOUR_MS
    rows: list[dict[str, Any]] = []
    span = ""
    for hours in (1, 24):  # the last whole hour; the last day when that hour was empty
        since = until - hours * HOUR_MS
        span = f"{ms_to_iso(since)} .. {ms_to_iso(until)}"
        try:
            rows = src.cdr_rows(since, until)
        except SourceError as exc:
            key = "cdr_query" if cx.cdr_mode == "sql" else "cdr_path"
            yield _problem("CDR query", exc.message, f"check source.connexcs.{key} (run it in "
                                                     "the control panel with these times)")
            return
        if rows:
            break
    if not rows:
        yield _warn("CDR query", f"answered, but no rows in {span}: columns not checked")
        return
    yield _ok("CDR query", f"{len(rows):,} rows for {span}")
    yield from _fields_check("CDR columns", rows, cx.cdr_columns, _CDR_REQUIRED,
                             "source.connexcs.cdr_columns")
    records = [r for r in (attempt_record(row, cx.cdr_columns, cx.seq_offset,
                                          cx.pdd_zero_is_none) for row in rows) if r]
    skipped = len(rows) - len(records)
    if skipped:
        yield _warn("CDR rows", f"{skipped:,} of {len(rows):,} rows name no provider "
                                f"({cx.cdr_columns['carrier_id']}): not carrier attempts, "
                                "not taken")
    yield from _valid("CDR rows", "attempts", records[:1000])
    codes = [r.get("sip_code") for r in records]
    connected = sum(1 for c in codes if isinstance(c, int) and 200 <= c <= 299)
    failed = sum(1 for c in codes if isinstance(c, int) and not 200 <= c <= 299)
    if failed:
        yield _ok("failed attempts", f"{failed:,} of {len(records):,} attempts failed: "
                                     "failure figures can be computed")
    elif connected:
        yield _warn("failed attempts", f"none in {span} ({connected:,} connected): "
                                       f"{NO_FAILURES}",
                    "if the account's CDR leaves failed attempts out, nothing in noc-tui "
                    "can add them: ask ConnexCS to record them")


# -- API v1 ------------------------------------------------------------------------------


def check_apiv1(settings: Settings, now: int) -> Iterator[Check]:
    from noc_tui.sources.apiv1 import SourceClient

    source = _quick(settings.source)
    if not source.url:
        yield _problem("configuration", "no switch URL", "set source.url")
        return
    try:
        client = SourceClient(source, backoff_base_s=0.2,
                              retry_after_cap_s=DOCTOR_RETRY_AFTER_CAP_S)
    except ValueError as exc:
        yield _problem("configuration", str(exc), "correct source.url")
        return
    creds = ("source.token" if source.token else "source.username and source.password"
             if source.username else "source.token (the switch may need one)")
    yield _ok("configuration", f"switch API v1 at {client.display_url}")
    asks = (("carriers", {}), ("contacts", {}), ("rates", {"limit": SAMPLE}),
            ("attempts", {"since": ms_to_iso(now - HOUR_MS), "until": ms_to_iso(now),
                          "limit": SAMPLE}))
    with client:
        for i, (kind, params) in enumerate(asks):
            try:
                page = next(iter(client.pages(kind, params)))
            except SourceError as exc:
                if i == 0 and exc.kind in (UNREACHABLE, UNAUTHORISED):
                    yield _connection(exc, client.display_url, creds)
                    return
                fix = ("check that source.url is the switch's API v1 address"
                       if exc.kind == CLIENT_ERROR else
                       "the switch must answer as docs/switch-api.md says")
                yield _problem(f"GET /api/v1/{kind}", exc.message, fix)
                continue
            if i == 0:
                yield _ok("reachability", f"{client.display_url} answered")
                yield _tls(client.display_url, source)
                yield _ok("credentials", "accepted" if (source.token or source.username)
                          else "none configured, none asked")
            yield _ok(f"GET /api/v1/{kind}", f"a page of {page.count} "
                                            f"{'items' if page.count != 1 else 'item'}, "
                                            "shaped as docs/switch-api.md says")
            yield from _valid(f"GET /api/v1/{kind}", kind, page.items[:SAMPLE])


# -- Kamailio ------------------------------------------------------------------------------


def check_kamailio(settings: Settings, now: int) -> Iterator[Check]:
    from noc_tui.sources.kamailio import QUEUES, REQUIRED, SETTING, KamailioSource, destinations

    try:
        src = KamailioSource(settings.source)
    except ValueError as exc:
        yield _problem("configuration", str(exc), "set the setting it names")
        return
    yield _ok("configuration", f"Kamailio, accounting from {src.k.accounting}: "
                               f"{src.display_url}")
    with src:
        if src.db is not None:
            try:
                conn = src.db.connect()
            except SourceError as exc:
                yield _problem("accounting database", exc.message,
                               f"check {SETTING}.db_url (and that noc-tui may read it)")
                conn = None
            if conn is not None:
                try:
                    yield _ok("accounting database", f"{src.db.shown} opened read-only")
                    for table, needed in REQUIRED.items():
                        have = src.db.columns(conn, table)
                        missing = [c for c in needed if c not in have]
                        if not have:
                            yield _problem(f"table {table}", "missing",
                                           "create the tables with integrations/kamailio/"
                                           "schema")
                        elif missing:
                            yield _problem(f"table {table}", "no column "
                                           f"{', '.join(missing)} (kamailio.cfg's extra "
                                           "columns)", "add them as integrations/kamailio/"
                                           "schema does, and load kamailio.cfg's acc settings")
                        else:
                            yield _ok(f"table {table}", f"has the {len(needed)} columns "
                                                        "noc-tui reads")
                finally:
                    conn.close()
        if src.rpc is None:
            yield _warn("JSON-RPC", "no jsonrpc_url: carriers and their gateways' live state "
                                    "are not read", f"set {SETTING}.jsonrpc_url")
            return
        try:
            dests = destinations(src.rpc.call("dispatcher.list"))
        except SourceError as exc:
            yield _problem("JSON-RPC dispatcher.list", exc.message,
                           f"check {SETTING}.jsonrpc_url and that kamailio.cfg loads "
                           "xhttp, jsonrpcs and dispatcher")
            return
        carriers = {d.carrier_id for d in dests}
        active = sum(1 for d in dests if d.state == "active")
        yield _ok("JSON-RPC dispatcher.list", f"{len(dests)} destinations of "
                                              f"{len(carriers)} carriers, {active} active")
        if src.k.accounting == "mqueue":
            try:
                sizes = src.rpc.call("mqueue.get_sizes")
            except SourceError as exc:
                yield _problem("JSON-RPC mqueue", exc.message, "load kamailio.cfg's mqueue "
                                                               "settings")
                return
            names = {q.get("name") for q in sizes if isinstance(q, dict)} \
                if isinstance(sizes, list) else set()
            missing = [q for q in QUEUES if q not in names]
            if missing:
                yield _problem("JSON-RPC mqueue", f"no queue {', '.join(missing)}",
                               "define them as integrations/kamailio/kamailio.cfg does")
            else:
                yield _ok("JSON-RPC mqueue", f"queues {', '.join(QUEUES)} present")


# A new kind of source adds its checker here.
CHECKERS: dict[str, Checker] = {"apiv1": check_apiv1, "connexcs": check_connexcs,
                                "kamailio": check_kamailio}


def _secrets(source: SourceSettings) -> Redactor:
    redact = Redactor()
    token = source.token.get_secret_value() if source.token else None
    password = source.password.get_secret_value() if source.password else None
    redact.add(token, password)
    if source.username and password:
        redact.add(basic_value(source.username, password))
    return redact


def doctor(settings: Settings, now: int | None = None) -> Iterator[Check]:
    """The checks of the configured source, as they are made; none raises. A check that
    fails unexpectedly (a bug, a driver's error) is a problem line, not a traceback."""
    kind = settings.source.kind
    checker = CHECKERS.get(kind)
    redact = _secrets(settings.source)
    if checker is None:
        yield _problem("configuration", f"no checks for source.kind {kind!r}",
                       "noc-tui doctor knows " + ", ".join(sorted(CHECKERS)))
        return
    try:
        for check in checker(settings, now if now is not None else now_ms()):
            yield Check(check.status, check.what, redact(check.detail), redact(check.fix))
    except Exception as exc:  # a driver's or the switch's surprise: a line, not a traceback
        text = exc.message if isinstance(exc, SourceError) else f"{type(exc).__name__}: {exc}"
        yield _problem("doctor", redact(text)[:300], "see the message; the checks stopped "
                                                     "here")

