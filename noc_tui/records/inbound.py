"""Inbound delivery: the records (issue 15, section 1) and what a delivery is (section 2).

The four kinds (trunk groups, DIDs, registration events, delivery attempts) are validated
by the machinery of ``records.formats``, which this module extends when imported. The
rules that look at a whole delivery (its seqs contiguous from 1, at most one answered
attempt and that the last) are `delivery_problem`, applied by the cache to what it
holds of the delivery together with the new records. The rest of the module derives a
delivery's figures from its attempts and the configuration: each attempt's trigger, the
delivery's outcome, the configured chain and the delivery-based findings. They are
plain functions of plain values, so the cache computes them once per delivery at ingest
and the definitions live in one place (docs/metrics.md, "Inbound").
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Annotated, Any, Literal, NotRequired

from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError
from typing_extensions import TypedDict

from noc_tui.records.formats import Digits, NonEmpty, UtcTime, add_kind
from noc_tui.records.timefmt import dt_to_ms

INBOUND_KINDS = ("trunk_groups", "dids", "registrations", "deliveries")
POLICIES = ("registered_then_trunk2", "backup_then_number", "dial_plan_on_triggers")
TARGET_KINDS = ("primary_pbx", "trunk2", "backup_pbx", "failover_number", "dial_plan")
# The failover target kinds, as the trunk-group export names answered_via.
VIA_KINDS = ("trunk2", "backup_pbx", "failover_number", "dial_plan")
# In the order of the exports' trigger maps (issue 15, section 3).
TRIGGERS = ("not_registered_404", "no_1xx", "pbx_5xx", "channels_full_503", "other")
DIAL_PLAN_TRIGGERS = ("not_registered_404", "no_1xx", "pbx_5xx", "channels_full_503")
EVENTS = ("registered", "refreshed", "unregistered", "expired", "rejected")
FLAP_EVENTS = ("unregistered", "expired")
OUTCOMES = ("answered_first_try", "answered_failover", "refused", "abandoned", "lost")
NUMBER_SOURCES = ("did", "trunk_group")
DEFAULT_EDGES = ("trunk1", "trunk2")
DEFAULT_NO_1XX_TIMEOUT_S = 15.0
RULES = ("F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9", "F10", "F11")
RULE_NAMES = {
    "F1": "number_override", "F2": "backup_before_number", "F3": "trunk2_with_failover",
    "F4": "single_registration", "F5": "one_failure_from_loss",
    "F6": "dial_plan_off_trigger", "F7": "trigger_without_target", "F8": "no_number_fallback",
    "F9": "channel_limit_hit", "F10": "number_loops", "F11": "chain_cut",
}
# The rules a delivery's own attempts decide, kept with the delivery at ingest (F9 is
# kept as the times of its attempts: it counts attempts, not deliveries).
DELIVERY_RULES = ("F1", "F2", "F3", "F6", "F7", "F11")
# Bounds that keep every number a 64-bit integer in SQLite and out of nonsense.
MAX_SEQ = 1000
MAX_EXPIRES_S = 2**32 - 1  # SIP's delta-seconds
MAX_FIRST_1XX_MS = 86_400_000
MAX_DURATION_S = 10**7
MAX_TIMEOUT_S = 300
MAX_CHANNELS = 10**6


# -- field types ----------------------------------------------------------------------


def _no_bool(value: Any) -> Any:
    # pydantic would take true as 1: a flag in a number's place is a mistake.
    if isinstance(value, bool):
        raise PydanticCustomError("number_type", "expected a number, not true or false")
    return value


def _flag(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"  # a CSV cell
    raise PydanticCustomError("bool_type", "expected true or false")


def _names(value: Any) -> Any:
    # CSV cells carry lists as "trunk1;trunk2" or "[trunk1, trunk2]"; "[]" is empty.
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("[") and text.endswith("]"):
            text = text[1:-1]
        return [p.strip().strip("\"'") for p in text.replace(";", ",").split(",") if p.strip()]
    return value


def _distinct(value: list[str]) -> list[str]:
    seen = [v for i, v in enumerate(value) if v in value[:i]]
    if seen:
        raise PydanticCustomError("distinct", "{name} is listed twice", {"name": repr(seen[0])})
    return value


_HOST = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_BACKUP = re.compile(
    rf"(?:sips?:\S+|tg:\S+|{_HOST}(?:\.{_HOST})*(?::[0-9]{{1,5}})?"
    r"|\[[0-9A-Fa-f:.]+\](?::[0-9]{1,5})?)")


def _backup(value: str) -> str:
    if not _BACKUP.fullmatch(value):
        raise PydanticCustomError("backup_pbx", "expected a sip: URI, an FQDN or IP address "
                                  "(optionally with :port), or tg:<trunk group id>")
    return value


def _number(lo: float, hi: float, kind: type = int) -> Any:
    return Annotated[kind, BeforeValidator(_no_bool),
                     Field(ge=lo, le=hi, allow_inf_nan=False) if kind is float
                     else Field(ge=lo, le=hi)]


Flag = Annotated[bool, BeforeValidator(_flag)]
BackupPbx = Annotated[str, AfterValidator(_backup)]
Edges = Annotated[
    Annotated[list[NonEmpty], Field(min_length=1), AfterValidator(_distinct)] | None,
    BeforeValidator(_names)]
Triggers = Annotated[list[Literal[TRIGGERS]] | None, BeforeValidator(_names)]  # type: ignore[valid-type]


class TrunkGroupRecord(TypedDict):
    id: NonEmpty
    name: str
    customer: NotRequired[str | None]
    policy: Literal[POLICIES]  # type: ignore[valid-type]
    edges: NotRequired[Edges]
    backup_pbx: NotRequired[BackupPbx | None]
    global_failover_number: NotRequired[Digits | None]
    dial_plan: NotRequired[NonEmpty | None]
    failover_triggers: NotRequired[Triggers]
    no_1xx_timeout_s: NotRequired[Annotated[float, BeforeValidator(_no_bool),
                                            Field(gt=0, le=MAX_TIMEOUT_S,
                                                  allow_inf_nan=False)] | None]
    channel_limit: NotRequired[_number(0, MAX_CHANNELS) | None]  # type: ignore[valid-type]


class DidRecord(TypedDict):
    did: Digits
    trunk_group_id: NonEmpty
    failover_number: NotRequired[Digits | None]
    backup_pbx: NotRequired[BackupPbx | None]


class RegistrationRecord(TypedDict):
    trunk_group_id: NonEmpty
    edge: NonEmpty
    at: UtcTime
    event: Literal[EVENTS]  # type: ignore[valid-type]
    contact: NotRequired[str | None]
    expires_s: NotRequired[_number(0, MAX_EXPIRES_S) | None]  # type: ignore[valid-type]


class DeliveryAttemptRecord(TypedDict):
    delivery_id: NonEmpty
    seq: _number(1, MAX_SEQ)  # type: ignore[valid-type]
    trunk_group_id: NonEmpty
    did: Digits
    caller: NotRequired[str | None]
    started_at: UtcTime
    target_kind: Literal[TARGET_KINDS]  # type: ignore[valid-type]
    target: NotRequired[str | None]
    edge: NotRequired[str | None]
    sent: Flag
    number_source: NotRequired[Literal[NUMBER_SOURCES] | None]  # type: ignore[valid-type]
    first_1xx_ms: NotRequired[_number(0, MAX_FIRST_1XX_MS) | None]  # type: ignore[valid-type]
    sip_code: _number(100, 699)  # type: ignore[valid-type]
    sip_reason: NotRequired[str | None]
    duration_s: _number(0, MAX_DURATION_S, float)  # type: ignore[valid-type]
    cancelled: Flag


def _not_sent_code(rec: DeliveryAttemptRecord) -> DeliveryAttemptRecord:
    if not rec["sent"] and rec["sip_code"] not in (404, 503):
        raise PydanticCustomError(
            "not_sent_code", "sip_code {code} with sent false: an attempt not sent has code "
            "404 (not registered) or 503 (channel limit)", {"code": rec["sip_code"]})
    return rec


add_kind("trunk_groups", TrunkGroupRecord)
add_kind("dids", DidRecord)
add_kind("registrations", RegistrationRecord)
add_kind("deliveries", DeliveryAttemptRecord,
         Annotated[DeliveryAttemptRecord, AfterValidator(_not_sent_code)])

# The cache's columns of each kind, in order (instants as epoch ms, lists as JSON text).
COLUMNS: dict[str, tuple[str, ...]] = {
    "trunk_groups": ("id", "name", "customer", "policy", "edges", "backup_pbx",
                     "global_failover_number", "dial_plan", "failover_triggers",
                     "no_1xx_timeout_s", "channel_limit"),
    "dids": ("did", "trunk_group_id", "failover_number", "backup_pbx"),
    "registrations": ("trunk_group_id", "edge", "at", "event", "contact", "expires_s"),
    "deliveries": ("delivery_id", "seq", "trunk_group_id", "did", "caller", "ts",
                   "target_kind", "target", "edge", "sent", "number_source", "first_1xx_ms",
                   "sip_code", "sip_reason", "duration_s", "cancelled"),
}
KEYS: dict[str, tuple[str, ...]] = {
    "trunk_groups": ("id",), "dids": ("did",),
    "registrations": ("trunk_group_id", "edge", "at", "event"),
    "deliveries": ("delivery_id", "seq"),
}


def join_names(names: Sequence[str] | None) -> str | None:
    """A list as stored: JSON text (None stays None, so "no list" and [] differ)."""
    return None if names is None else json.dumps(list(names), ensure_ascii=False)


def split_names(text: str | None) -> tuple[str, ...] | None:
    return None if text is None else tuple(json.loads(text))


def to_row(kind: str, rec: dict[str, Any]) -> tuple[Any, ...]:
    """A validated inbound record as a cache row, defaults applied."""
    g = rec.get
    if kind == "trunk_groups":
        edges = g("edges")
        timeout = g("no_1xx_timeout_s")
        return (rec["id"], rec["name"], g("customer"), rec["policy"],
                join_names(edges if edges is not None else DEFAULT_EDGES), g("backup_pbx"),
                g("global_failover_number"), g("dial_plan"), join_names(g("failover_triggers")),
                float(timeout if timeout is not None else DEFAULT_NO_1XX_TIMEOUT_S),
                g("channel_limit"))
    if kind == "dids":
        return (rec["did"], rec["trunk_group_id"], g("failover_number"), g("backup_pbx"))
    if kind == "registrations":
        return (rec["trunk_group_id"], rec["edge"], dt_to_ms(rec["at"]), rec["event"],
                g("contact"), g("expires_s"))
    if kind == "deliveries":
        return (rec["delivery_id"], rec["seq"], rec["trunk_group_id"], rec["did"], g("caller"),
                dt_to_ms(rec["started_at"]), rec["target_kind"], g("target"), g("edge"),
                int(rec["sent"]), g("number_source"), g("first_1xx_ms"), rec["sip_code"],
                g("sip_reason"), float(rec["duration_s"]), int(rec["cancelled"]))
    raise ValueError(f"unknown inbound kind {kind!r}")


# -- a whole delivery -------------------------------------------------------------------


def answered(sip_code: int) -> bool:
    return 200 <= sip_code <= 299


def delivery_problem(delivery_id: str, codes: dict[int, int]) -> str | None:
    """What is wrong with a delivery whose attempts are `codes` (seq -> sip_code), or
    None: its seqs must run 1, 2, ... n, and an answered attempt be the only one and the
    last."""
    seqs = sorted(codes)
    ok = [s for s in seqs if answered(codes[s])]
    if len(ok) > 1:
        return (f"delivery {delivery_id!r}: more than one answered attempt (seq "
                f"{', '.join(map(str, ok))})")
    if ok and ok[0] != seqs[-1]:
        return (f"delivery {delivery_id!r}: answered attempt seq {ok[0]} is not the last "
                f"(seq {seqs[-1]} follows)")
    if seqs != list(range(1, len(seqs) + 1)):
        have = set(seqs)
        missing = [s for s in range(1, seqs[-1]) if s not in have]
        return (f"delivery {delivery_id!r}: seq not contiguous from 1: has "
                f"{_some(seqs)}, missing {_some(missing)}")
    return None


def _some(values: list[int], shown: int = 10) -> str:
    text = ", ".join(map(str, values[:shown]))
    return text + (f" and {len(values) - shown} more" if len(values) > shown else "")


# -- the configuration, as the definitions read it -------------------------------------


@dataclass(frozen=True)
class GroupConfig:
    """A trunk group's configuration (None: a group known only from its data)."""

    policy: str | None = None
    edges: tuple[str, ...] = ()
    backup_pbx: str | None = None
    global_failover_number: str | None = None
    dial_plan: str | None = None
    failover_triggers: frozenset[str] = frozenset()  # effective: defaults applied


@dataclass(frozen=True)
class DidConfig:
    failover_number: str | None = None
    backup_pbx: str | None = None


UNCONFIGURED = GroupConfig()
NO_DID = DidConfig()


def effective_triggers(policy: str | None, listed: Collection[str] | None) -> frozenset[str]:
    """The listed failover triggers; when none are listed, the policy's default (an
    explicit empty list names none)."""
    if listed is not None:
        return frozenset(listed)
    if policy in ("registered_then_trunk2", "backup_then_number"):
        return frozenset(TRIGGERS)
    if policy == "dial_plan_on_triggers":
        return frozenset(DIAL_PLAN_TRIGGERS)
    return frozenset()


def group_config(policy: str, edges: str | None, backup_pbx: str | None,
                 global_failover_number: str | None, dial_plan: str | None,
                 failover_triggers: str | None) -> GroupConfig:
    """From a trunk_groups row's columns."""
    return GroupConfig(policy, split_names(edges) or (), backup_pbx, global_failover_number,
                       dial_plan, effective_triggers(policy, split_names(failover_triggers)))


def effective_number(group: GroupConfig, did: DidConfig) -> tuple[str | None, str | None]:
    """(the DID's failover number, where it comes from: did | trunk_group | None)."""
    if did.failover_number is not None:
        return did.failover_number, "did"
    if group.global_failover_number is not None:
        return group.global_failover_number, "trunk_group"
    return None, None


def effective_backup(group: GroupConfig, did: DidConfig) -> str | None:
    return did.backup_pbx if did.backup_pbx is not None else group.backup_pbx


def chain(group: GroupConfig, did: DidConfig) -> tuple[str, ...]:
    """The configured chain of a DID, as target kinds."""
    steps = ["primary_pbx"]
    if group.policy == "registered_then_trunk2":
        if len(group.edges) >= 2:
            steps.append("trunk2")
    elif group.policy == "backup_then_number":
        if effective_backup(group, did) is not None:
            steps.append("backup_pbx")
        if effective_number(group, did)[0] is not None:
            steps.append("failover_number")
    elif group.policy == "dial_plan_on_triggers" and group.dial_plan is not None:
        steps.append("dial_plan")
    return tuple(steps)


# -- one delivery ------------------------------------------------------------------------


def trigger(sent: bool, sip_code: int, first_1xx_ms: int | None, cancelled: bool) -> str | None:
    """Why an attempt failed; None for an answered or cancelled one."""
    if answered(sip_code) or cancelled:
        return None
    if not sent:
        return "not_registered_404" if sip_code == 404 else "channels_full_503"
    if sip_code == 408 and first_1xx_ms is None:
        return "no_1xx"
    if 500 <= sip_code <= 599:
        return "pbx_5xx"
    return "other"


@dataclass(frozen=True)
class Step:
    """One attempt of a delivery, as the definitions read it."""

    seq: int
    trunk_group_id: str
    did: str
    ts: int
    target_kind: str
    target: str | None
    sent: bool
    first_1xx_ms: int | None
    sip_code: int
    cancelled: bool

    @property
    def trigger(self) -> str | None:
        return trigger(self.sent, self.sip_code, self.first_1xx_ms, self.cancelled)


@dataclass(frozen=True)
class Delivery:
    """What a delivery's attempts amount to."""

    delivery_id: str
    trunk_group_id: str  # its first attempt's
    did: str  # its first attempt's
    started_ms: int  # its first attempt's started_at
    attempts: int
    outcome: str
    via: str | None
    first_trigger: str | None
    last_trigger: str | None
    rules: frozenset[str]  # of DELIVERY_RULES
    full_ts: tuple[int, ...]  # started_at of its channels_full_503 attempts (F9)


def outcome(steps: Sequence[Step], ner: Collection[int]) -> tuple[str, str | None]:
    """(outcome, via) of a delivery's attempts in seq order."""
    last = steps[-1]
    if answered(steps[0].sip_code):
        return "answered_first_try", None
    for s in steps:
        if answered(s.sip_code):
            return "answered_failover", s.target_kind
    if last.cancelled:
        return "abandoned", None
    if last.sent and last.sip_code in ner:
        return "refused", None
    return "lost", None


def delivery_rules(steps: Sequence[Step], result: str, group: GroupConfig,
                   did: DidConfig) -> frozenset[str]:
    """The delivery-based findings (F1, F2, F3, F6, F7, F11) its attempts show."""
    found = set()
    number, _ = effective_number(group, did)
    backup = effective_backup(group, did)
    kinds = [s.target_kind for s in steps]
    tried = set(kinds)
    last_trigger = steps[-1].trigger
    if any(s.target_kind == "failover_number" and (number is None or s.target != number)
           for s in steps):
        found.add("F1")
    if backup is not None:
        for i, k in enumerate(kinds):
            if k == "failover_number" and "backup_pbx" not in kinds[:i]:
                found.add("F2")
                break
    if (backup is not None or number is not None) and "trunk2" in tried:
        found.add("F3")
    for prev, s in pairwise(steps):
        if s.target_kind == "dial_plan" and prev.trigger not in group.failover_triggers:
            found.add("F6")
            break
    steps_of = chain(group, did)
    listed_loss = result == "lost" and last_trigger in group.failover_triggers
    if listed_loss and len(steps_of) == 1:
        found.add("F7")
    skipped = any(c not in tried and any(d in tried for d in steps_of[i + 1:])
                  for i, c in enumerate(steps_of))
    if skipped or (listed_loss and any(c not in tried for c in steps_of)):
        found.add("F11")
    return frozenset(found)


def summarise(delivery_id: str, steps: Sequence[Step], ner: Collection[int],
              group: GroupConfig, did: DidConfig) -> Delivery:
    """A delivery from its attempts in seq order, its group's and its DID's configuration
    (those of its first attempt's trunk group and DID)."""
    first, last = steps[0], steps[-1]
    result, via = outcome(steps, ner)
    return Delivery(
        delivery_id, first.trunk_group_id, first.did, first.ts, len(steps), result, via,
        first.trigger, last.trigger, delivery_rules(steps, result, group, did),
        tuple(s.ts for s in steps if s.trigger == "channels_full_503"))
