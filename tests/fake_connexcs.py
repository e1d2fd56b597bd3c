"""A fake ConnexCS account on 127.0.0.1: the control-panel API as ConnexCS's public
documents and its own tools describe it (issue 13), with its quirks.

The account holds noc-tui records (the truth a poll must reproduce exactly) and serves
them the ConnexCS way: CDR rows with dt in UTC without a zone, branch_idx from 0,
fractional durations, provider ids; carriers, contacts and rate cards as bare arrays,
single objects or {"result": [...]}; CSV when asked; HTML error pages; 429 bursts; JWTs
that expire; a 500 for a CDR query that does not bound dt. Written from those
descriptions, apart from noc_tui's mapping, so that the two check each other.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import random
import re
import ssl
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

USER, PASSWORD = "noc-reader", "pa55-w0rd!x"
PASTED_TOKEN = "cx-long-lived-9f8e7d6c5b4a"
PREFIX = "/api/cp/"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iso(ms: int) -> str:
    dt = EPOCH + timedelta(milliseconds=ms)
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"


def cx_dt(ms: int) -> str:
    return f"{EPOCH + timedelta(milliseconds=ms):%Y-%m-%d %H:%M:%S}"


def from_cx_dt(text: str) -> int:
    dt = datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    return int((dt - EPOCH).total_seconds()) * 1000


def jwt(claims: dict[str, Any]) -> str:
    def part(doc: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


@dataclass
class Account:
    """What the account holds, as noc-tui records, and how they are served."""

    carriers: list[dict[str, Any]] = field(default_factory=list)
    contacts: list[dict[str, Any]] = field(default_factory=list)
    cards: list[dict[str, Any]] = field(default_factory=list)  # id, name, carrier, currency, rev
    rules: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # card id -> rates
    attempts: list[dict[str, Any]] = field(default_factory=list)
    # CDR rows that are not carrier attempts (no provider): the source skips them.
    unrouted: list[dict[str, Any]] = field(default_factory=list)

    def rates(self) -> list[dict[str, Any]]:
        return [r for rules in self.rules.values() for r in rules]


def make_account(seed: int, start_ms: int, hours: int, *, calls_per_hour: int = 40,
                 failures: bool = True, fractional: bool = True) -> Account:
    """Four carriers over `hours` hours from start_ms: calls of one to three attempts
    (failovers), codes of every kind, durations with fractions, PDDs and none."""
    rng = random.Random(seed)
    acc = Account()
    for i, (name, status) in enumerate([("Nordlink", "active"), ("Cheap Trunk", "active"),
                                        ("Legacy", "inactive"), ("New One", "pending")]):
        cid = str(101 + i)
        acc.carriers.append({"id": cid, "name": name, "status": status,
                             "channels": [0, 30, 120, 60][i], "cps": [10, 5, 20, 1][i],
                             "currency": ["USD", "EUR", "USD", "GBP"][i]})
        acc.contacts.append({"carrier_id": cid, "name": f"NOC of {name}", "role": "noc",
                             "email": f"noc{i}@example.net", "phone": f"+4420700000{i}",
                             "notes": None})
        card = {"id": f"C{i}-xk1B", "name": f"{name} A-Z", "carrier": cid,
                "currency": acc.carriers[-1]["currency"], "rev": 3 + i}
        acc.cards.append(card)
        acc.rules[card["id"]] = [
            {"carrier_id": cid, "card_id": card["id"], "card_name": card["name"],
             "prefix": p, "destination": dest, "rate": round(0.004 + 0.001 * i + j * 0.01, 4),
             "connect_fee": 0.0 if j else 0.01, "mcd_s": [0, 30, 60][j % 3],
             "pulse_s": [1, 6, 60][j % 3], "currency": card["currency"],
             "effective_from": iso(start_ms - 86_400_000 * (j + 1)),
             "status": "blocked" if (i, j) == (1, 2) else "active"}
            for j, (p, dest) in enumerate([("44", "UK"), ("4420", "UK London"),
                                           ("1", "USA"), ("49", "Germany")])]
    ids = [c["id"] for c in acc.carriers]
    codes_failed = [503, 503, 486, 404, 408, 480, 500, 403, 487]
    n = 0
    for h in range(hours):
        for _ in range(calls_per_hour):
            n += 1
            started = start_ms + h * 3_600_000 + rng.randrange(0, 3_600) * 1000
            dst = rng.choice(["44", "4420", "1", "49"]) + f"{rng.randrange(10**8):08d}"
            route = rng.sample(ids, rng.choice([1, 1, 2, 3]))
            for k, carrier in enumerate(route):
                last = k == len(route) - 1
                ok = last and (not failures or rng.random() < 0.6)
                if failures:
                    code = 200 if ok else rng.choice(codes_failed)
                    if not last and code in (404, 486, 487):
                        code = 503
                else:
                    if not ok:
                        continue  # the CDR holds the connected call only
                    code = 200
                duration: float | int = 0
                if ok:
                    duration = rng.randrange(0, 600)
                    if fractional and rng.random() < 0.7:
                        duration = round(duration + rng.randrange(1, 1000) / 1000, 3)
                pdd = None if rng.random() < 0.1 else rng.randrange(300, 6000)
                acc.attempts.append({
                    "call_id": f"cx-{seed}-{n}", "seq": k + 1, "carrier_id": carrier,
                    "started_at": iso(started + k * 2000), "dst": dst,
                    "cli": None if rng.random() < 0.1 else f"4479{rng.randrange(10**8):08d}",
                    "sip_code": code, "sip_reason": {200: "OK", 503: "Service Unavailable",
                                                     486: "Busy Here"}.get(code),
                    "pdd_ms": pdd, "duration_s": duration,
                    "release_reason": "caller hangup" if ok else None})
            if rng.random() < 0.05:
                acc.unrouted.append({"callid": f"cx-{seed}-{n}-x", "branch_idx": 0,
                                     "provider_id": 0, "dt": cx_dt(started),
                                     "dest_number": dst, "duration": 0, "sip_code": 403})
    return acc


# -- the account as ConnexCS serves it -----------------------------------------------------


def cdr_row(a: dict[str, Any]) -> dict[str, Any]:
    """An attempt as a ConnexCS CDR row (the columns ConnexCS's tools name)."""
    return {
        "dt": cx_dt(_ms(a["started_at"])), "callid": a["call_id"], "branch_idx": a["seq"] - 1,
        "provider_id": int(a["carrier_id"]), "customer_id": 9001,
        "dest_number": "+" + a["dst"] if a["seq"] == 1 else a["dst"],
        "dest_cli": a["cli"] if a["cli"] is not None else "",
        "duration": a["duration_s"], "pdd_in": 0, "pdd_out": a["pdd_ms"] or 0,
        "ring_duration": 0, "sip_code": a["sip_code"], "sip_reason": a["sip_reason"] or "",
        "release_reason": a["release_reason"] or "", "provider_charge": 0.0,
        "provider_card_currency": "USD",
    }


def _ms(text: str) -> int:
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return int((dt - EPOCH).total_seconds() * 1000)


def card_rule(r: dict[str, Any]) -> dict[str, Any]:
    return {"id": zlib.crc32((r["card_id"] + r["prefix"]).encode()), "prefix": r["prefix"],
            "name": r["destination"], "cost": r["rate"], "connection": r["connect_fee"],
            "initial": r["mcd_s"], "interval": r["pulse_s"],
            "effective": cx_dt(_ms(r["effective_from"])),
            "status": "blocked" if r["status"] == "blocked" else "active"}


SPEC_PATHS = ["/setup/account", "/carrier", "/carrier/{id}", "/card", "/card/{id}",
              "/card/{id}/rev/{rev}/rule", "/cdr", "/setup/query/{id}/run", "/auth/jwt",
              "/auth/jwt/refresh", "/log"]
_SELECT = re.compile(r"^\s*SELECT\s+(.*?)\s+FROM\s+cdr\.cdr\s+WHERE\s+(.*)$",
                     re.IGNORECASE | re.DOTALL)


class FakeConnexCS:
    """The server. Quirk switches are plain attributes, set by a test before it polls."""

    def __init__(self, account: Account, *, access_lifetime_s: float = 600,
                 tls: tuple[Path, Path] | None = None) -> None:
        self.account = account
        self.tls = tls  # (certificate, key): serve HTTPS
        self.access_lifetime_s = access_lifetime_s
        self.shape = "array"  # array | result | single (lists of one item as an object)
        self.burst_429 = 0  # the next N requests get 429
        self.retry_after = "0"
        self.errors_500 = 0  # the next N CDR queries get a 500 with an HTML page
        self.html_200 = False  # every answer a 200 login page (a wrong base URL)
        self.refuse = False  # every request 401 (a wrong password)
        self.forbid: set[str] = set()  # paths answered 403 (no permission)
        self.missing: set[str] = set()  # paths answered 404 with an HTML page
        self.cdr_columns: list[str] | None = None  # the account's CDR columns (None: all)
        self.ignore_paging = False
        self.spec = True
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.statuses: list[int] = []  # of every answer, in order
        self.in_flight = 0
        self.max_in_flight = 0
        self.cdr_delay_s = 0.0
        self.issued: list[str] = []  # every token handed out
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeConnexCS:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        if self.tls is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*self.tls)
            self._server.socket = ctx.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self._server.server_address[1]}{PREFIX}"

    # -- requests ----------------------------------------------------------------------------

    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(h.path)
        path = parts.path.removeprefix(PREFIX)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        with self._lock:
            self.requests.append((method, path, dict(h.headers), body))
        status, headers, out = self._answer(h, method, path, query, body)
        with self._lock:
            self.statuses.append(status)
        try:
            h.send_response(status)
            for k, v in headers.items():
                h.send_header(k, v)
            h.send_header("Content-Length", str(len(out)))
            h.end_headers()
            h.wfile.write(out)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a deadline test)

    def _answer(self, h: BaseHTTPRequestHandler, method: str, path: str,
                query: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            if self.burst_429 > 0:
                self.burst_429 -= 1
                return 429, {"Retry-After": self.retry_after}, b'{"error": "slow down"}'
        if self.html_200:
            return 200, {"Content-Type": "text/html"}, b"<html><title>Login</title></html>"
        if path.split("/")[0] == "auth":
            return self._auth(h, method, path, body)
        if not self._authorised(h):
            return 401, {"Content-Type": "application/json"}, b'{"error": "Unauthorized"}'
        if path in self.forbid:
            return 403, {"Content-Type": "application/json"}, b'{"error": "Forbidden"}'
        if path in self.missing:
            return 404, {"Content-Type": "text/html"}, \
                b"<html><head><title>404 Not Found</title></head><body>nope</body></html>"
        if path == "setup/account":
            return self._json({"id": 77, "name": "Example Telecom Ltd"})
        if path == "api-spec/v3":
            if not self.spec:
                return 404, {"Content-Type": "text/html"}, b"<html>404</html>"
            return self._json({"openapi": "3.0.0", "info": {"title": "ConnexCS"},
                               "paths": {p: {"get": {}} for p in SPEC_PATHS}})
        if path == "carrier":
            return self._list([self._carrier(c) for c in self.account.carriers], query)
        if path == "contact":
            return self._list([self._contact(c) for c in self.account.contacts], query)
        if path == "card":
            return self._list([{"id": c["id"], "name": c["name"],
                                "provider_id": int(c["carrier"]), "currency": c["currency"]}
                               for c in self.account.cards]
                              + [{"id": "CUST-1", "name": "Customer card",
                                  "provider_id": None, "currency": "USD"}], query)
        m = re.fullmatch(r"card/([^/]+)", path)
        if m:
            card = next((c for c in self.account.cards if c["id"] == m.group(1)), None)
            if card is None:
                return 404, {}, b'{"error": "no such card"}'
            return self._json({"id": card["id"], "name": card["name"],
                               "active_rev": card["rev"], "currency": card["currency"]})
        m = re.fullmatch(r"card/([^/]+)/rev/(\d+)/rule", path)
        if m:
            card = next((c for c in self.account.cards if c["id"] == m.group(1)), None)
            if card is None or int(m.group(2)) != card["rev"]:
                return 404, {}, b'{"error": "no such revision"}'
            rules = [card_rule(r) for r in self.account.rules[card["id"]]]
            limit, offset = int(query.get("limit", 1000)), int(query.get("offset", 0))
            return self._shaped(rules[offset:offset + limit])
        if path == "setup/query/0/run" and method == "POST":
            return self._sql(json.loads(body))
        if path == "cdr" and method == "POST":
            return self._structured(json.loads(body))
        return 404, {"Content-Type": "text/html"}, b"<html><title>Not Found</title></html>"

    def _carrier(self, c: dict[str, Any]) -> dict[str, Any]:
        return {"id": int(c["id"]), "name": c["name"], "status": c["status"].capitalize(),
                "channels": c["channels"], "cps": c["cps"], "currency": c["currency"],
                "company_id": 77}

    def _contact(self, c: dict[str, Any]) -> dict[str, Any]:
        return {"id": zlib.crc32(c["name"].encode()) % 1000, "company_id": int(c["carrier_id"]),
                "name": c["name"], "role": c["role"], "email": c["email"],
                "phone": c["phone"], "notes": c["notes"] or ""}

    # -- auth --------------------------------------------------------------------------------

    def _basic_ok(self, h: BaseHTTPRequestHandler) -> bool:
        value = h.headers.get("Authorization", "")
        want = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        return not self.refuse and value == f"Basic {want}"

    def _bearer(self, h: BaseHTTPRequestHandler, kind: str) -> bool:
        value = h.headers.get("Authorization", "")
        if self.refuse or not value.startswith("Bearer "):
            return False
        token = value.removeprefix("Bearer ")
        if kind == "access" and token == PASTED_TOKEN:
            return True
        if token not in self.issued:
            return False
        claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
        return claims.get("typ") == kind and claims["exp"] > time.time()

    def _authorised(self, h: BaseHTTPRequestHandler) -> bool:
        return self._basic_ok(h) or self._bearer(h, "access")

    def _auth(self, h: BaseHTTPRequestHandler, method: str, path: str,
              body: bytes) -> tuple[int, dict[str, str], bytes]:
        if path == "auth/jwt/refresh" and method == "POST":
            if not self._basic_ok(h):
                return 401, {}, b'{"error": "Unauthorized"}'
            lifetime = json.loads(body or b"{}").get("lifetime", 3600)
            token = jwt({"typ": "refresh", "exp": time.time() + lifetime,
                         "n": len(self.issued)})
        elif path == "auth/jwt" and method == "GET":
            if not self._bearer(h, "refresh"):
                return 401, {}, b'{"error": "Unauthorized"}'
            token = jwt({"typ": "access", "exp": time.time() + self.access_lifetime_s,
                         "n": len(self.issued)})
        else:
            return 404, {}, b"<html>no</html>"
        with self._lock:
            self.issued.append(token)
        return self._json({"token": token})

    # -- shapes ------------------------------------------------------------------------------

    @staticmethod
    def _json(doc: Any) -> tuple[int, dict[str, str], bytes]:
        return 200, {"Content-Type": "application/json"}, json.dumps(doc).encode()

    def _shaped(self, rows: list[dict[str, Any]]) -> tuple[int, dict[str, str], bytes]:
        if self.shape == "result":
            return self._json({"result": rows})
        if self.shape == "single" and len(rows) == 1:
            return self._json(rows[0])
        return self._json(rows)

    def _list(self, rows: list[dict[str, Any]], query: dict[str, str]
              ) -> tuple[int, dict[str, str], bytes]:
        if not self.ignore_paging and "_startRow" in query:
            rows = rows[int(query["_startRow"]):int(query["_endRow"])]
        return self._shaped(rows)

    # -- the CDR -----------------------------------------------------------------------------

    def _rows(self) -> Iterator[dict[str, Any]]:
        for a in self.account.attempts:
            yield cdr_row(a)
        yield from self.account.unrouted

    def _project(self, row: dict[str, Any], cols: list[str]) -> dict[str, Any]:
        have = self.cdr_columns
        return {c: row.get(c) for c in cols if have is None or c in have}

    def _enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        time.sleep(self.cdr_delay_s)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _error_500(self) -> tuple[int, dict[str, str], bytes] | None:
        with self._lock:
            if self.errors_500 > 0:
                self.errors_500 -= 1
                return 500, {"Content-Type": "text/html"}, (
                    b"<!DOCTYPE html><html><head><title>500 Internal Server Error</title>"
                    b"</head><body><h1>Whoops</h1></body></html>")
        return None

    def _sql(self, req: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        self._enter()
        try:
            err = self._error_500()
            if err:
                return err
            m = _SELECT.match(req.get("_query", ""))
            if req.get("_src") != "cdr" or not m or ":since" not in m.group(2) \
                    or ":until" not in m.group(2):
                # ConnexCS: a CDR query not bounded by date fails.
                return 500, {"Content-Type": "application/json"}, \
                    b'{"error": "Query too large: add a date range"}'
            cols = [c.strip() for c in m.group(1).split(",")]
            since, until = from_cx_dt(req["since"]), from_cx_dt(req["until"])
            rows = [self._project(r, cols) for r in self._rows()
                    if since <= from_cx_dt(r["dt"]) < until]
            if req.get("_format") == "csv":
                out = io.StringIO()
                names = [c for c in cols if self.cdr_columns is None or c in self.cdr_columns]
                w = csv.DictWriter(out, names, lineterminator="\n")
                w.writeheader()
                w.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in rows)
                return 200, {"Content-Type": "text/csv"}, out.getvalue().encode()
            return self._json(rows)
        finally:
            self._leave()

    def _structured(self, req: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        self._enter()
        try:
            err = self._error_500()
            if err:
                return err
            rules = req.get("where", {}).get("rules", [])
            bounds = {r["condition"]: from_cx_dt(r["data"]) for r in rules
                      if r["field"] == "dt"}
            if ">=" not in bounds:
                return 500, {}, b'{"error": "Query too large"}'
            rows = [r for r in self._rows()
                    if bounds[">="] <= from_cx_dt(r["dt"]) < bounds.get("<", 2**62)]
            rows.sort(key=lambda r: r["dt"], reverse=True)
            rows = [self._project(r, req["field"]) for r in rows[:int(req["limit"])]]
            return self._shaped(rows)
        finally:
            self._leave()
