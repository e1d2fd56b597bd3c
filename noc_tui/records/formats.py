"""Record formats shared by import files and the switch API (foundation issue, section 4).

Validation runs in pydantic-core (Rust) over whole batches; only a batch that holds a
bad record is re-checked record by record, so the common path stays fast and every
rejection still names its record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, NotRequired, get_origin, get_type_hints

from pydantic import AwareDatetime, BeforeValidator, Field, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError
from typing_extensions import TypedDict

from noc_tui.records.json_keys import repeated_key, repeats_among
from noc_tui.records.ranges import RANGES, bounds, kept
from noc_tui.records.timefmt import dt_to_ms

KINDS = ("carriers", "contacts", "rates", "attempts")


def _code_list(value: Any) -> Any:
    # CSV cells carry lists as "404;486" or "[404, 486]".
    if isinstance(value, str):
        text = value.strip().strip("[]")
        if not text:
            return None
        return [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
    return value


_BARE_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")
# Errors of a field found before pydantic looks at the record; their message names it.
_PLAIN_ERRORS = ("bool_not_number", "bare_number_time")


def _plain_values(numbers: tuple[str, ...], times: tuple[str, ...]) -> Any:
    """A check of a whole record, before pydantic's own, against coercions of its lax
    mode that would change a value's meaning: it reads true as 1, and a number (or the
    text of one) as a time in Unix seconds. One call a record, not one a field: the
    pydantic path is the CSV import's."""

    def check(rec: Any) -> Any:
        if type(rec) is not dict:
            return rec  # pydantic says what is wrong with it
        for name in numbers:
            value = rec.get(name)
            if value is True or value is False or (
                    type(value) is list and (True in value or False in value)
                    and any(v is True or v is False for v in value)):
                raise PydanticCustomError("bool_not_number",
                                          "{field}: a boolean is not a number",
                                          {"field": name})
        for name in times:
            value = rec.get(name)
            if type(value) is str:
                # An ISO time starts YYYY-: only other texts can be numbers.
                if value[4:5] == "-" or not _BARE_NUMBER.fullmatch(value):
                    continue
            elif not isinstance(value, int | float):
                continue
            raise PydanticCustomError(
                "bare_number_time",
                "{field}: a time is ISO 8601 with a zone, like 2026-11-01T12:00:00Z (a "
                "bare number has no unit)", {"field": name})
        return rec

    return BeforeValidator(check)


def _int(kind: str, name: str) -> Any:
    """An integer field, in its documented range (ranges.RANGES)."""
    return Annotated[int, Field(**bounds(kind, name))]


def _real(kind: str, name: str) -> Any:
    """A number that may hold a fraction, in its documented range (ranges.RANGES)."""
    return Annotated[float, Field(allow_inf_nan=False, **bounds(kind, name))]


NonEmpty = Annotated[str, Field(min_length=1)]
Digits = Annotated[str, Field(pattern=r"^[0-9]+$")]
UtcTime = AwareDatetime  # checked in Rust: a zone is required (write Z for UTC)
# The numeric fields, each in its documented range.
SipCode = _int("attempts", "sip_code")
HaltCode = _int("carriers", "halt_codes")
Channels = _int("carriers", "channels")
Cps = _int("carriers", "cps")
Rate = _real("rates", "rate")
ConnectFee = _real("rates", "connect_fee")
McdS = _int("rates", "mcd_s")
PulseS = _int("rates", "pulse_s")
Seq = _int("attempts", "seq")
PddMs = _real("attempts", "pdd_ms")
DurationS = _real("attempts", "duration_s")


class CarrierRecord(TypedDict):
    """Only the id is required: a switch may not know the rest. A missing or null name
    is the id; any other field missing or null is unknown (shown as such, never as 0
    or unlimited); halt_codes unknown means the default halt set."""

    id: NonEmpty
    name: NotRequired[str | None]
    status: NotRequired[Literal["active", "inactive", "pending"] | None]
    channels: NotRequired[Channels | None]
    cps: NotRequired[Cps | None]
    currency: NotRequired[str | None]
    halt_codes: NotRequired[Annotated[list[HaltCode] | None, BeforeValidator(_code_list)]]


class ContactRecord(TypedDict):
    carrier_id: NonEmpty
    name: NonEmpty
    role: NotRequired[str | None]
    email: NotRequired[str | None]
    phone: NotRequired[str | None]
    notes: NotRequired[str | None]


class RateRecord(TypedDict):
    carrier_id: NonEmpty
    card_id: NonEmpty
    card_name: NotRequired[str | None]
    prefix: Digits
    destination: NotRequired[str | None]
    rate: Rate
    connect_fee: ConnectFee
    mcd_s: McdS
    pulse_s: PulseS
    currency: str
    effective_from: UtcTime
    status: Literal["active", "blocked"]


class AttemptRecord(TypedDict):
    call_id: NonEmpty
    seq: Seq
    carrier_id: NonEmpty
    started_at: UtcTime
    dst: Digits
    cli: NotRequired[str | None]
    sip_code: SipCode
    sip_reason: NotRequired[str | None]
    pdd_ms: NotRequired[PddMs | None]
    duration_s: DurationS
    release_reason: NotRequired[str | None]


_TIMES = ("started_at", "effective_from")
_TYPES: dict[str, type] = {
    "carriers": CarrierRecord,
    "contacts": ContactRecord,
    "rates": RateRecord,
    "attempts": AttemptRecord,
}
FIELDS: dict[str, tuple[str, ...]] = {k: tuple(t.__annotations__) for k, t in _TYPES.items()}
# The fields a record cannot go without (a CSV header must name them all). Read from
# the resolved hints: with postponed annotations __required_keys__ holds every field.
def _required(t: type) -> frozenset[str]:
    return frozenset(name for name, hint in get_type_hints(t, include_extras=True).items()
                     if get_origin(hint) is not NotRequired)


REQUIRED: dict[str, frozenset[str]] = {k: _required(t) for k, t in _TYPES.items()}
_CHECKED = {k: Annotated[t, _plain_values(tuple(RANGES.get(k, ())),  # type: ignore[valid-type]
                                          tuple(f for f in FIELDS[k] if f in _TIMES))]
            for k, t in _TYPES.items()}
_ONE = {k: TypeAdapter(t) for k, t in _CHECKED.items()}
_MANY = {k: TypeAdapter(list[t]) for k, t in _CHECKED.items()}  # type: ignore[valid-type]


@dataclass(frozen=True)
class Rejection:
    """A record that failed validation: where it came from and why."""

    where: str  # "attempts.jsonl:17" or "page 3 item 12"
    reason: str
    raw: Any = None


def _reason(exc: ValidationError, strip_index: bool = False) -> str:
    parts = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = err["loc"][1:] if strip_index else err["loc"]
        if err["type"] in _PLAIN_ERRORS:
            parts.append(err["msg"])  # it names its field
            continue
        field = ".".join(str(p) for p in loc) or "record"
        msg = {"missing": "missing field", "json_invalid": "not valid JSON"}.get(
            err["type"], err["msg"])
        if err["type"] == "json_invalid":
            field = "line"
            msg = f"not valid JSON ({err['msg'].removeprefix('Invalid JSON: ')})"
        parts.append(f"{field}: {msg}")
    return "; ".join(parts)


def unstorable(values: Iterable[tuple[str, Any]]) -> str | None:
    """Why a valid record cannot be stored, or None: JSON and CSV numbers have no size
    limit, the cache's integers have 64 bits. `values`: (field, value) pairs."""
    for name, v in values:
        if type(v) is int and not -(2**63) <= v < 2**63:
            return f"{name}: number too big (more than 64 bits)"
    return None


def _each(
    kind: str, raws: Sequence[Any], wheres: Sequence[str], from_json: bool
) -> list[dict[str, Any] | Rejection]:
    """Each record on its own, in order: the record, or the Rejection naming what is
    wrong (with the raw JSON text shown as text)."""
    one = _ONE[kind]
    out: list[dict[str, Any] | Rejection] = []
    for raw, where in zip(raws, wheres, strict=True):
        twice = repeated_key(raw) if from_json else None
        if twice is not None:
            problem = f"{twice}: given twice in one object (which value is meant cannot be told)"
        else:
            try:
                rec = one.validate_json(raw) if from_json else one.validate_python(raw)
                problem = unstorable(rec.items())
            except ValidationError as exc:
                problem = _reason(exc)
        if problem is None:
            out.append(rec)
            continue
        shown = raw.decode("utf-8", "replace").rstrip() if from_json else raw
        out.append(Rejection(where, problem, shown))
    return out


def _storable(good: list[dict[str, Any]]) -> bool:
    return not any(unstorable(r.items()) for r in good)


def _one_by_one(
    kind: str, raws: Sequence[Any], wheres: Sequence[str], from_json: bool
) -> tuple[list[dict[str, Any]], list[Rejection]]:
    good: list[dict[str, Any]] = []
    bad: list[Rejection] = []
    for r in _each(kind, raws, wheres, from_json):
        (bad if isinstance(r, Rejection) else good).append(r)  # type: ignore[arg-type]
    return good, bad


def validate(
    kind: str, raws: Sequence[Any], wheres: Sequence[str]
) -> tuple[list[dict[str, Any]], list[Rejection]]:
    """Validate a batch of parsed records. Returns the good ones (in order) and rejections."""
    if kind not in _TYPES:
        raise ValueError(f"unknown record kind {kind!r}; expected one of {', '.join(KINDS)}")
    try:
        good = _MANY[kind].validate_python(raws)
        if _storable(good):
            return good, []
    except ValidationError:
        pass
    return _one_by_one(kind, raws, wheres, from_json=False)


def validate_json_lines(
    kind: str, lines: Sequence[bytes], wheres: Sequence[str]
) -> tuple[list[dict[str, Any]], list[Rejection]]:
    """Parse and validate JSON lines in one pass through pydantic-core."""
    try:
        good = _MANY[kind].validate_json(b"[" + b",".join(lines) + b"]")
        # A line like `{...},{...}` would split in two inside the array, and pydantic
        # keeps the last value of a repeated key: recheck singly.
        if len(good) == len(lines) and not any(repeats_among(lines)) and _storable(good):
            return good, []
    except ValidationError:
        pass
    return _one_by_one(kind, lines, wheres, from_json=True)


def validate_json_each(
    kind: str, lines: Sequence[bytes], wheres: Sequence[str]
) -> list[dict[str, Any] | Rejection]:
    """Each JSON text on its own: the record, or the Rejection naming what is wrong."""
    return _each(kind, lines, wheres, from_json=True)


def to_row(kind: str, rec: dict[str, Any]) -> tuple[Any, ...]:
    """A validated record as a cache row (instants as epoch milliseconds)."""
    g = rec.get
    if kind == "attempts":
        return (
            rec["call_id"], rec["seq"], rec["carrier_id"], dt_to_ms(rec["started_at"]),
            rec["dst"], g("cli"), rec["sip_code"], g("sip_reason"),
            None if g("pdd_ms") is None else kept(rec["pdd_ms"]), kept(rec["duration_s"]),
            g("release_reason"),
        )
    if kind == "rates":
        return tuple(
            dt_to_ms(rec[f]) if f == "effective_from" else g(f) for f in FIELDS["rates"]
        )
    if kind == "carriers":
        codes = g("halt_codes")
        name = g("name")
        return (rec["id"], rec["id"] if name is None else name, g("status"), g("channels"),
                g("cps"), g("currency"),
                ",".join(map(str, codes)) if codes is not None else None)
    return tuple(g(f) for f in FIELDS[kind])


def batched(items: Iterable[Any], size: int) -> Iterable[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# -- kinds defined in other modules -------------------------------------------------------
# The inbound records (records/inbound.py) go through the same validation machinery: a
# module adds its kinds here when it is imported.


def add_kind(kind: str, fields: type, checked: Any = None) -> None:
    """Validate `kind` as the TypedDict `fields` (its field order is the kind's), or as
    `checked`, the same TypedDict with checks across its fields (Annotated)."""
    typ = checked if checked is not None else fields
    _TYPES[kind] = typ
    FIELDS[kind] = tuple(fields.__annotations__)
    REQUIRED[kind] = _required(fields)
    _ONE[kind] = TypeAdapter(typ)
    _MANY[kind] = TypeAdapter(list[typ])  # type: ignore[valid-type]


def validate_each(
    kind: str, raws: Sequence[Any], wheres: Sequence[str]
) -> list[dict[str, Any] | Rejection]:
    """Each parsed record on its own: the record, or the Rejection naming what is wrong."""
    return _each(kind, raws, wheres, from_json=False)
