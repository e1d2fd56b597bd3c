"""Record formats shared by import files and the switch API (foundation issue, section 4).

Validation runs in pydantic-core (Rust) over whole batches; only a batch that holds a
bad record is re-checked record by record, so the common path stays fast and every
rejection still names its record.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, NotRequired, get_origin, get_type_hints

from pydantic import AwareDatetime, BeforeValidator, Field, TypeAdapter, ValidationError
from typing_extensions import TypedDict

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


NonEmpty = Annotated[str, Field(min_length=1)]
Digits = Annotated[str, Field(pattern=r"^[0-9]+$")]
UtcTime = AwareDatetime  # checked in Rust: a zone is required (write Z for UTC)
SipCode = Annotated[int, Field(ge=100, le=699)]


class CarrierRecord(TypedDict):
    id: NonEmpty
    name: str
    status: Literal["active", "inactive", "pending"]
    channels: Annotated[int, Field(ge=0)]
    cps: Annotated[int, Field(ge=0)]
    currency: str
    halt_codes: NotRequired[Annotated[list[SipCode] | None, BeforeValidator(_code_list)]]


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
    rate: Annotated[float, Field(ge=0)]
    connect_fee: Annotated[float, Field(ge=0)]
    mcd_s: Annotated[int, Field(ge=0)]
    pulse_s: Annotated[int, Field(ge=1)]
    currency: str
    effective_from: UtcTime
    status: Literal["active", "blocked"]


class AttemptRecord(TypedDict):
    call_id: NonEmpty
    seq: Annotated[int, Field(ge=1)]
    carrier_id: NonEmpty
    started_at: UtcTime
    dst: Digits
    cli: NotRequired[str | None]
    sip_code: SipCode
    sip_reason: NotRequired[str | None]
    pdd_ms: NotRequired[Annotated[int, Field(ge=0)] | None]
    duration_s: Annotated[int, Field(ge=0)]
    release_reason: NotRequired[str | None]


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
_ONE = {k: TypeAdapter(t) for k, t in _TYPES.items()}
_MANY = {k: TypeAdapter(list[t]) for k, t in _TYPES.items()}  # type: ignore[valid-type]


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
        try:
            rec = one.validate_json(raw) if from_json else one.validate_python(raw)
            problem = unstorable(rec.items())
        except ValidationError as exc:
            problem = _reason(exc)
        if problem is None:
            out.append(rec)
        else:
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
        # A line like `{...},{...}` would split in two inside the array: recheck singly.
        if len(good) == len(lines) and _storable(good):
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
            rec["dst"], g("cli"), rec["sip_code"], g("sip_reason"), g("pdd_ms"),
            rec["duration_s"], g("release_reason"),
        )
    if kind == "rates":
        return tuple(
            dt_to_ms(rec[f]) if f == "effective_from" else g(f) for f in FIELDS["rates"]
        )
    if kind == "carriers":
        codes = g("halt_codes")
        return tuple(
            (",".join(map(str, codes)) if codes is not None else None) if f == "halt_codes"
            else g(f)
            for f in FIELDS["carriers"]
        )
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
