"""A real Kamailio routing real SIP calls between SIPp processes, all on 127.0.0.1.

Kamailio runs the shipped reference configuration (integrations/kamailio/kamailio.cfg)
unchanged, with the test's ports, paths and timers given as `-A` defines. Each carrier is
a SIPp UAS with one behaviour (200 after ringing, 503, ...); the caller is a SIPp UAC
dialling numbers from a CSV file. SIPp's own per-message counters (-trace_counts) are
the test's ground truth. Every process is started here and stopped by its PID, also
when the test fails; every wait is bounded.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
INTEGRATION = REPO / "integrations" / "kamailio"
CONFIG = INTEGRATION / "kamailio.cfg"
INBOUND_CONFIG = INTEGRATION / "inbound.cfg"
SQLITE_SCHEMA = INTEGRATION / "schema" / "sqlite.sql"
INBOUND_SQLITE_SCHEMA = INTEGRATION / "schema" / "inbound-sqlite.sql"
POSTGRES_SCHEMA = INTEGRATION / "schema" / "postgres.sql"
INSTALL_DEPS = INTEGRATION / "install-deps.sh"
LOOPBACK = "127.0.0.1"


# -- what the test needs on the machine --------------------------------------------------

def _missing() -> list[str]:
    missing = [b for b in ("kamailio", "sipp", "sqlite3") if shutil.which(b) is None]
    for module in ("db_sqlite", "db_postgres", "acc_json", "dispatcher", "jsonrpcs", "xhttp",
                   "mqueue", "sqlops", "usrloc", "registrar"):
        if not glob.glob(f"/usr/lib/*/kamailio/modules/{module}.so"):
            missing.append(f"kamailio module {module}")
    return missing


def ensure_installed() -> str | None:
    """None when Kamailio, its modules and SIPp are there (installing them with
    install-deps.sh when missing and allowed); else why they cannot be."""
    missing = _missing()
    if not missing:
        return None
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return (f"missing {', '.join(missing)}; install them as root with "
                f"{INSTALL_DEPS.relative_to(REPO)}")
    done = subprocess.run(["sh", str(INSTALL_DEPS)], capture_output=True, text=True,
                          timeout=900, check=False)
    missing = _missing()
    if missing:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return f"{INSTALL_DEPS.relative_to(REPO)} could not install {', '.join(missing)}: " \
               + " / ".join(tail)
    return None


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    """A port free on 127.0.0.1 for UDP (SIP) or TCP (HTTP) right now."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


# -- processes --------------------------------------------------------------------------

class Proc:
    """One process started by the test, in its own process group (Kamailio forks its
    workers into it), stopped by its PID."""

    def __init__(self, name: str, args: list[str], cwd: Path, log: Path,
                 user: str | None = None) -> None:
        self.name = name
        self.args = args
        self.log = log
        self._out = log.open("wb")
        self.popen = subprocess.Popen(args, cwd=cwd, stdin=subprocess.DEVNULL,
                                      stdout=self._out, stderr=subprocess.STDOUT,
                                      start_new_session=True, user=user)
        self.pid = self.popen.pid

    def running(self) -> bool:
        return self.popen.poll() is None

    def stop(self, sig: int = signal.SIGTERM, wait_s: float = 10.0) -> int | None:
        """Signal the process, wait for it (bounded), then kill its group if anything
        of it is left. Returns its exit status."""
        if self.running():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)
            try:
                self.popen.wait(wait_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGKILL)
                self.popen.wait(5)
        # Children of the group (Kamailio's workers) that outlived their parent.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        self._out.close()
        return self.popen.returncode

    def output(self) -> str:
        self._out.flush()
        return self.log.read_text(errors="replace")


# -- SIPp scenarios ---------------------------------------------------------------------

_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="{name}">
"""
_REPLY = """  <send{retrans}><![CDATA[
SIP/2.0 {code} {reason}
[last_Via:]
[last_Record-Route:]
[last_From:]
[last_To:]{tag}
[last_Call-ID:]
[last_CSeq:]
{extra}Content-Length: {length}

{body}]]></send>
"""
_SDP = """v=0
o=sipp 1 1 IN IP4 [local_ip]
s=-
c=IN IP4 [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000
"""
_TAG = ";tag=[pid]SIPpTag01[call_number]"
_CONTACT = "Contact: <sip:[local_ip]:[local_port];transport=[transport]>\n"


def _reply(code: int, reason: str, *, tag: bool = True, sdp: bool = False,
           retrans: bool = False) -> str:
    return _REPLY.format(
        retrans=' retrans="500"' if retrans else "", code=code, reason=reason,
        tag=_TAG if tag else "",
        extra=(_CONTACT + ("Content-Type: application/sdp\n" if sdp else "")) if tag else "",
        length="[len]" if sdp else "0", body=_SDP if sdp else "")


@dataclass(frozen=True)
class Behaviour:
    """What a carrier does with every INVITE."""

    code: int | None  # final reply; None: no reply at all
    reason: str = ""
    ring_ms: int | None = None  # 180 Ringing, then the final reply this much later

    def scenario(self, name: str) -> str:
        parts = [_HEAD.format(name=name), '  <recv request="INVITE" crlf="true"/>\n']
        if self.code is None:
            # Silent: absorb the INVITE's retransmissions until tm gives up on us.
            parts.append('  <label id="1"/>\n'
                         '  <recv request="INVITE" timeout="3000" ontimeout="2" next="1"/>\n'
                         '  <label id="2"/>\n</scenario>\n')
            return "".join(parts)
        parts.append(_reply(100, "Trying", tag=False))
        if self.ring_ms is not None:
            parts.append(_reply(180, "Ringing"))
            parts.append(f'  <pause milliseconds="{self.ring_ms}"/>\n')
        if self.code == 200:
            parts.append(_reply(200, "OK", sdp=True, retrans=True))
            parts.append('  <recv request="ACK" crlf="true"/>\n  <recv request="BYE"/>\n')
            parts.append(_reply(200, "OK", tag=False))
        else:
            parts.append(_reply(self.code, self.reason))
            parts.append('  <recv request="ACK"/>\n')
        parts.append("</scenario>\n")
        return "".join(parts)


# The caller's possible final replies besides 200, each ending the call with an ACK.
CALLER_FAILURES = (404, 408, 480, 486, 503)

_CALLER = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="caller">
  <send retrans="500"><![CDATA[
INVITE sip:[field0]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[field1]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[field0]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:caller@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

{sdp}]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
{failures}  <recv response="200" rrs="true">
    <action>
      <assignstr assign_to="holds" value="[field2]"/>
      <todouble assign_to="hold" variable="holds"/>
    </action>
  </recv>
  <send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
From: <sip:[field1]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Contact: <sip:caller@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0

]]></send>
  <pause variable="hold"/>
  <send retrans="500"><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
[routes]
From: <sip:[field1]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 2 BYE
Contact: <sip:caller@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200" next="done"/>
  <label id="failed"/>
  <send><![CDATA[
ACK sip:[field0]@[remote_ip]:[remote_port] SIP/2.0
[last_Via:]
From: <sip:[field1]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
  <label id="done"/>
</scenario>
"""


def caller_scenario() -> str:
    failures = "".join(f'  <recv response="{c}" optional="true" next="failed"/>\n'
                       for c in CALLER_FAILURES)
    return _CALLER.format(sdp=_SDP, failures=failures)


def read_counts(path: Path) -> dict[str, int]:
    """The last line of a SIPp -trace_counts file: {"<i>_<msg>_<what>": count}."""
    lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
    header = lines[0].rstrip(";").split(";")
    values = lines[-1].rstrip(";").split(";")
    return {h: int(v) for h, v in zip(header[2:], values[2:], strict=True)}


@dataclass
class Sipp:
    """A SIPp process and its scenario's message counters (after it stopped)."""

    proc: Proc
    scenario: Path
    counts: dict[str, int] = field(default_factory=dict)

    def finish(self, *, wait_s: float) -> None:
        """Ask SIPp to end gracefully (SIGUSR1: no new calls, counters written) unless
        it ended by itself, then read its counters."""
        if self.proc.running():
            self.proc.stop(signal.SIGUSR1, wait_s=wait_s)
        else:
            self.proc.stop()
        files = list(self.scenario.parent.glob(f"{self.scenario.stem}_{self.proc.pid}_counts.csv"))
        if files:
            self.counts = read_counts(files[0])

    def count(self, index: int, message: str, what: str = "Recv") -> int:
        return self.counts.get(f"{index}_{message}_{what}", 0)

    def first(self, message: str, what: str) -> int:
        """The count of the scenario's first step that is `message` `what` (Recv,
        Sent): a caller receives 200 for its INVITE, then for its BYE."""
        steps = sorted((int(k.split("_")[0]), v) for k, v in self.counts.items()
                       if k.endswith(f"_{message}_{what}"))
        return steps[0][1] if steps else 0


# -- the rig ----------------------------------------------------------------------------

@dataclass
class CarrierSpec:
    name: str | None  # the dispatcher attrs carrier=NAME; None: no attrs (shown by URI)
    behaviour: Behaviour | None  # None: nothing listens on its port at all
    port: int = 0

    @property
    def uri(self) -> str:
        return f"sip:{LOOPBACK}:{self.port}"


class Rig:
    """Kamailio plus SIPp processes in one directory; a context manager that stops
    every process it started, by PID, on the way out."""

    def __init__(self, workdir: Path) -> None:
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.procs: list[Proc] = []
        self.carriers: dict[str, Sipp] = {}
        self.kamailio: Proc | None = None
        self.sip_port = free_port()
        self.http_port = free_port(socket.SOCK_STREAM)
        self.acc_db = self.dir / "acc.db"

    def __enter__(self) -> Rig:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()

    def _start(self, name: str, args: list[str]) -> Proc:
        proc = Proc(name, args, self.dir, self.dir / f"{name}.log")
        self.procs.append(proc)
        return proc

    # SQLite accounting database, from the shipped schema (WAL set there, once).
    def create_sqlite_db(self) -> Path:
        subprocess.run(["sqlite3", str(self.acc_db)], input=SQLITE_SCHEMA.read_text(),
                       text=True, check=True, capture_output=True, timeout=30)
        return self.acc_db

    def start_carrier(self, spec: CarrierSpec, label: str) -> None:
        spec.port = spec.port or free_port()
        if spec.behaviour is None:
            return
        scenario = self.dir / f"carrier_{label}.xml"
        scenario.write_text(spec.behaviour.scenario(f"carrier {label}"))
        proc = self._start(f"sipp_{label}", [
            "sipp", "-sf", str(scenario), "-i", LOOPBACK, "-p", str(spec.port),
            "-trace_counts", "-nostdin", "-timeout", "600s", "-max_recv_loops", "10000"])
        self.carriers[label] = Sipp(proc, scenario)

    def write_dispatcher_list(self, sets: dict[int, list[tuple[CarrierSpec, int, int]]]
                              ) -> Path:
        """sets: {setid: [(carrier, flags, priority), ...]}."""
        path = self.dir / "dispatcher.list"
        lines = []
        for setid, members in sets.items():
            for spec, flags, priority in members:
                attrs = f" carrier={spec.name}" if spec.name else ""
                lines.append(f"{setid} {spec.uri} {flags} {priority}{attrs}")
        path.write_text("\n".join(lines) + "\n")
        return path

    def start_kamailio(self, ds_list: Path, *, fr_timer_ms: int, ping_s: int = 1,
                       acc_db: bool = True, acc_json: bool = False,
                       mqueue_size: int = 100_000, db_url: str | None = None,
                       children: int = 1) -> Proc:
        defines = {
            "SIP_PORT": str(self.sip_port), "HTTP_PORT": str(self.http_port),
            "DS_LIST": f'"{ds_list}"', "FR_TIMER": str(fr_timer_ms),
            "DS_PING_INTERVAL": str(ping_s), "MQUEUE_SIZE": str(mqueue_size),
            "CHILDREN": str(children),
        }
        args = ["kamailio", "-DD", "-E", "-f", str(CONFIG), "-Y", str(self.dir),
                "-w", str(self.dir),
                "-m", "64", "-M", "8"]
        if acc_db:
            # Four slashes: sqlite://, an empty host, /, then the absolute path. (Three
            # would name a path relative to Kamailio's working directory.)
            defines["ACC_DB_URL"] = f'"{db_url or self.acc_db_url}"'
            if db_url and db_url.startswith("postgres"):
                args += ["-A", "ACC_DB_POSTGRES"]
        else:
            args += ["-A", "WITHOUT_ACC_DB"]
        if acc_json:
            args += ["-A", "WITH_ACC_JSON"]
        for key, value in defines.items():
            args += ["-A", f"{key}={value}"]
        self.kamailio = self._start("kamailio", args)
        self._wait_for_rpc()
        return self.kamailio

    @property
    def acc_db_url(self) -> str:
        return f"sqlite:///{self.acc_db}"

    @property
    def rpc_url(self) -> str:
        return f"http://{LOOPBACK}:{self.http_port}/RPC"

    def rpc(self, method: str, *params: object) -> object:
        resp = httpx.post(self.rpc_url, json={"jsonrpc": "2.0", "method": method,
                                              "params": list(params), "id": 1}, timeout=5)
        return (resp.status_code, resp.json())

    def _wait_for_rpc(self, timeout_s: float = 15.0) -> None:
        deadline = time.monotonic() + timeout_s
        assert self.kamailio is not None
        while time.monotonic() < deadline:
            if not self.kamailio.running():
                raise RuntimeError("kamailio exited at start:\n" + self.kamailio.output()[-3000:])
            with contextlib.suppress(httpx.HTTPError):
                self.rpc("core.version")
                return
            time.sleep(0.1)
        raise RuntimeError("kamailio's JSON-RPC did not answer in time:\n"
                           + self.kamailio.output()[-3000:])

    def run_caller(self, calls: list[tuple[str, str, int]], *, rate: int, limit: int,
                   timeout_s: int, name: str = "calls") -> Sipp:
        """Place the calls (number, cli, hold ms), at most `limit` in flight; returns
        after the last one ended (or timeout_s)."""
        caller = self.start_caller(calls, rate=rate, limit=limit, timeout_s=timeout_s,
                                   name=name)
        with contextlib.suppress(subprocess.TimeoutExpired):
            caller.proc.popen.wait(timeout_s + 5)
        caller.finish(wait_s=5)
        return caller

    def start_caller(self, calls: list[tuple[str, str, int]], *, rate: int, limit: int,
                     timeout_s: int, name: str = "calls", rate_period_ms: int = 1000,
                     trace_msg: bool = False) -> Sipp:
        """Start placing the calls: `rate` new calls every `rate_period_ms`; with
        trace_msg, SIPp logs every message with its time (Sipp.messages())."""
        csv = self.dir / f"{name}.csv"
        csv.write_text("SEQUENTIAL\n" + "".join(f"{n};{c};{h}\n" for n, c, h in calls))
        scenario = self.dir / f"caller_{name}.xml"
        scenario.write_text(caller_scenario())
        proc = self._start(f"sipp_caller_{name}", [
            "sipp", "-sf", str(scenario), "-inf", str(csv), "-i", LOOPBACK,
            "-p", str(free_port()), f"{LOOPBACK}:{self.sip_port}", "-m", str(len(calls)),
            "-r", str(rate), "-rp", str(rate_period_ms), "-l", str(limit), "-trace_counts",
            "-nostdin", "-timeout", f"{timeout_s}s", "-max_recv_loops", "10000",
            *(["-trace_msg"] if trace_msg else [])])
        return Sipp(proc, scenario)

    def acc_rows(self, sql: str) -> list[tuple[object, ...]]:
        with contextlib.closing(sqlite3.connect(f"file:{self.acc_db}?mode=ro", uri=True)) as c:
            return c.execute(sql).fetchall()

    def kamailio_errors(self) -> list[str]:
        if self.kamailio is None:
            return []
        return [ln for ln in self.kamailio.output().splitlines() if " ERROR: " in ln]



# -- the inbound side (inbound.cfg) ------------------------------------------------------

# A PBX that answers 100 Trying and nothing more: a CANCEL gets its 200, the INVITE never
# a final reply (tm ends the branch itself). (Its 487 would need the INVITE's Vias, which
# SIPp cannot copy: its header search gives the first Via only.)
HUNG_PBX = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="100 only">
  <recv request="INVITE" crlf="true"/>
""" + _reply(100, "Trying", tag=False) + """  <recv request="CANCEL"/>
""" + _reply(200, "OK", tag=False) + """</scenario>
"""

# A PBX registering: -key aor NAME -key cport PORT -key exp SECONDS. Plain Call-ID:
# SIPp matches the 200 by its own [call_id] (kamailio-inbound reference, traps).
REGISTER = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="PBX REGISTER">
  <send retrans="500"><![CDATA[
REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[aor]@[remote_ip]:[remote_port]>;tag=[pid]reg[call_number]
To: <sip:[aor]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 REGISTER
Contact: <sip:[aor]@127.0.0.1:[cport]>
Expires: [exp]
Max-Forwards: 70
User-Agent: noc-tui-test-pbx-[aor]
Content-Length: 0

]]></send>
  <recv response="200"/>
</scenario>
"""

# A caller that hangs up (CANCEL) this long after its INVITE's first provisional reply.
_CANCELLER = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="canceller">
  <send retrans="500"><![CDATA[
INVITE sip:[field0]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[field1]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[field0]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:caller@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="100"/>
  <pause milliseconds="{pause_ms}"/>
  <send><![CDATA[
CANCEL sip:[field0]@[remote_ip]:[remote_port] SIP/2.0
[last_Via:]
From: <sip:[field1]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[field0]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 CANCEL
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200"/>
  <recv response="487"/>
  <send><![CDATA[
ACK sip:[field0]@[remote_ip]:[remote_port] SIP/2.0
[last_Via:]
From: <sip:[field1]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
</scenario>
"""


class InboundRig(Rig):
    """Kamailio running inbound.cfg: trunk1 on `sip_port`, trunk2 on `trunk2_port`; SIPp
    PBXs, targets and callers around it."""

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir)
        self.trunk2_port = free_port()
        self.acc_db = self.dir / "inbound.db"

    def create_inbound_db(self, provisioning: str) -> Path:
        """The schema, then the trunk groups and DIDs (SQL)."""
        subprocess.run(["sqlite3", str(self.acc_db)],
                       input=INBOUND_SQLITE_SCHEMA.read_text() + provisioning,
                       text=True, check=True, capture_output=True, timeout=30)
        return self.acc_db

    def start_inbound_kamailio(self, *, number_gw: str, fr_inv_ms: int, min_expires: int = 1,
                               ul_timer_s: int = 1, children: int = 2) -> Proc:
        defines = {
            "TRUNK1_PORT": str(self.sip_port), "TRUNK2_PORT": str(self.trunk2_port),
            "HTTP_PORT": str(self.http_port), "INBOUND_DB": f'"db=>{self.acc_db_url}"',
            "NUMBER_GW": f'"{number_gw}"', "FR_INV_TIMER": str(fr_inv_ms),
            "MIN_EXPIRES": str(min_expires), "UL_TIMER_INTERVAL": str(ul_timer_s),
            "CHILDREN": str(children),
        }
        args = ["kamailio", "-DD", "-E", "-f", str(INBOUND_CONFIG), "-Y", str(self.dir),
                "-w", str(self.dir), "-m", "64", "-M", "8"]
        for key, value in defines.items():
            args += ["-A", f"{key}={value}"]
        self.kamailio = self._start("kamailio", args)
        self._wait_for_rpc()
        return self.kamailio

    def start_uas(self, label: str, scenario_text: str, port: int | None = None, *,
                  trace: bool = False) -> int:
        """A SIPp UAS on its own port (returned), playing the scenario for every call;
        `trace`: it also logs every message (Sipp.messages)."""
        port = port or free_port()
        scenario = self.dir / f"uas_{label}.xml"
        scenario.write_text(scenario_text)
        proc = self._start(f"sipp_{label}", [
            "sipp", "-sf", str(scenario), "-i", LOOPBACK, "-p", str(port), "-trace_counts",
            "-nostdin", "-timeout", "600s", "-max_recv_loops", "10000",
            *(["-trace_msg"] if trace else [])])
        self.carriers[label] = Sipp(proc, scenario)
        return port

    def register(self, aor: str, contact_port: int, *, trunk2: bool = False,
                 expires: int = 60, timeout_s: int = 10, contact: str = "port") -> None:
        """One REGISTER of the AOR with that contact, to trunk1 or trunk2; waits for its
        200 (RuntimeError if it does not come). `contact`: "port" (the contact on
        contact_port), "*" (remove every binding) or "none" (a query)."""
        line = "Contact: <sip:[aor]@127.0.0.1:[cport]>\n"
        text = REGISTER.replace(line, {"port": line, "*": "Contact: *\n", "none": ""}[contact])
        scenario = self.dir / f"register_{'star' if contact == '*' else contact}.xml"
        scenario.write_text(text)
        port = self.trunk2_port if trunk2 else self.sip_port
        name = f"reg_{aor}_{'t2' if trunk2 else 't1'}_{expires}_{scenario.stem}"
        proc = self._start(f"sipp_{name}", [
            "sipp", "-sf", str(scenario), "-i", LOOPBACK, "-p", str(free_port()),
            f"{LOOPBACK}:{port}", "-m", "1", "-key", "aor", aor, "-key", "cport",
            str(contact_port), "-key", "exp", str(expires), "-nostdin",
            "-timeout", f"{timeout_s}s", "-timeout_error"])
        try:
            rc = proc.popen.wait(timeout_s + 5)
        except subprocess.TimeoutExpired:
            rc = None
        proc.stop()
        if rc != 0:
            raise RuntimeError(f"REGISTER {aor} to port {port} failed (sipp {rc}):\n"
                               + proc.output()[-1500:])

    def start_canceller(self, calls: list[tuple[str, str]], *, pause_ms: int,
                        timeout_s: int, name: str = "cancels") -> Sipp:
        """Calls (number, cli) that the caller cancels pause_ms after the 100 Trying."""
        csv = self.dir / f"{name}.csv"
        csv.write_text("SEQUENTIAL\n" + "".join(f"{n};{c}\n" for n, c in calls))
        scenario = self.dir / f"caller_{name}.xml"
        scenario.write_text(_CANCELLER.replace("{pause_ms}", str(pause_ms)))
        proc = self._start(f"sipp_caller_{name}", [
            "sipp", "-sf", str(scenario), "-inf", str(csv), "-i", LOOPBACK,
            "-p", str(free_port()), f"{LOOPBACK}:{self.sip_port}", "-m", str(len(calls)),
            "-r", "10", "-l", str(len(calls)), "-trace_counts", "-nostdin",
            "-timeout", f"{timeout_s}s", "-max_recv_loops", "10000"])
        return Sipp(proc, scenario)


# -- PostgreSQL, started by the test ---------------------------------------------------

def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    return Path(found[-1]).parent if found else None


class Postgres:
    """A PostgreSQL server of the test's own, on 127.0.0.1 and a free port, its data in
    a fresh directory (as the postgres user when the test runs as root: initdb refuses
    root). Roles: kamailio (owner, writes) and noc_ro (may only read)."""

    PASSWORD = "kam-test-pw"
    RO_PASSWORD = "noc-ro-pw"

    def __init__(self, bindir: Path, log_dir: Path) -> None:
        self.bin = bindir
        self.port = free_port(socket.SOCK_STREAM)
        self.user = "postgres" if os.geteuid() == 0 else None
        # Not under pytest's tmp dir: that is private to root, and the server may not be.
        self.dir = Path(tempfile.mkdtemp(prefix="noc-tui-pg-"))
        if self.user:
            shutil.chown(self.dir, self.user, self.user)
        self.log_dir = log_dir
        self.proc: Proc | None = None

    def _run(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run(list(args), input=stdin, capture_output=True, text=True,
                              timeout=60, check=False, user=self.user, cwd=self.dir)
        if done.returncode:
            raise RuntimeError(f"{args[0]} failed: {done.stderr.strip()[-500:]}")
        return done.stdout

    def start(self) -> None:
        data = self.dir / "data"
        self._run(str(self.bin / "initdb"), "-D", str(data), "-U", "postgres",
                  "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8")
        self.proc = Proc("postgres", [
            str(self.bin / "postgres"), "-D", str(data), "-k", str(self.dir),
            "-h", LOOPBACK, "-p", str(self.port), "-c", "fsync=off",
            "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
            self.dir, self.log_dir / "postgres.log", user=self.user)
        deadline = time.monotonic() + 20
        while True:
            ready = subprocess.run([str(self.bin / "pg_isready"), "-h", str(self.dir), "-p",
                                    str(self.port)], capture_output=True, check=False)
            if ready.returncode == 0:
                break
            if time.monotonic() > deadline or not self.proc.running():
                raise RuntimeError("PostgreSQL did not start:\n" + self.proc.output()[-2000:])
            time.sleep(0.2)
        self.psql("postgres", f"CREATE ROLE kamailio LOGIN PASSWORD '{self.PASSWORD}'; "
                              f"CREATE ROLE noc_ro LOGIN PASSWORD '{self.RO_PASSWORD}'; "
                              "CREATE DATABASE kamailio OWNER kamailio;")

    def psql(self, db: str, sql: str, user: str = "postgres") -> str:
        return self._run(str(self.bin / "psql"), "-h", str(self.dir), "-p", str(self.port),
                         "-U", user, "-d", db, "-v", "ON_ERROR_STOP=1", "-q", "-A", "-t",
                         stdin=sql)

    def url(self, user: str, password: str) -> str:
        return f"postgres://{user}:{password}@{LOOPBACK}:{self.port}/kamailio"

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop(signal.SIGINT)  # fast shutdown
        shutil.rmtree(self.dir, ignore_errors=True)
