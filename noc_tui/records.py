"""Record formats shared by import files and the switch API (foundation issue, section 4).

Validation runs in pydantic-core (Rust) over whole batches; only a batch that holds a
bad record is re-checked record by record, so the common path stays fast and every
rejection still names its record.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, TypeAdapter, ValidationError
from typing_extensions import TypedDict

from noc_tui.timefmt import dt_to_ms

KINDS = ("carriers", "contacts", "rates", "attempts")


def _utc(dt: datetime) -> datetime:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("must carry a zone: write UTC with Z, like 2026-11-01T12:00:00Z")
    return dt


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
UtcTime = Annotated[datetime, AfterValidator(_utc)]
SipCode = Annotated[int, Field(ge=100, le=699)]


class CarrierRecord(TypedDict):
    id: NonEmpty
    name: str
    status: Literal["active", "inactive", "pending"]
    channels: Annotated[int, Field(ge=0)]
    cps: Annotated[int, Field(ge=0)]
    currency: str
    halt_codes: Annotated[list[SipCode] | None, BeforeValidator(_code_list)]


class ContactRecord(TypedDict):
    carrier_id: NonEmpty
    name: NonEmpty
    role: str | None
    email: str | None
    phone: str | None
    notes: str | None


class RateRecord(TypedDict):
    carrier_id: NonEmpty
    card_id: NonEmpty
    card_name: str | None
    prefix: Digits
    destination: str | None
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
    cli: str | None
    sip_code: SipCode
    sip_reason: str | None
    pdd_ms: Annotated[int, Field(ge=0)] | None
    duration_s: Annotated[int, Field(ge=0)]
    release_reason: str | None


# Fields that may be left out (or empty in CSV) and mean null.
OPTIONAL: dict[str, frozenset[str]] = {
    "carriers": frozenset({"halt_codes"}),
    "contacts": frozenset({"role", "email", "phone", "notes"}),
    "rates": frozenset({"card_name", "destination"}),
    "attempts": frozenset({"cli", "sip_reason", "pdd_ms", "release_reason"}),
}

_TYPES: dict[str, type] = {
    "carriers": CarrierRecord,
    "contacts": ContactRecord,
    "rates": RateRecord,
    "attempts": AttemptRecord,
}
FIELDS: dict[str, tuple[str, ...]] = {k: tuple(t.__annotations__) for k, t in _TYPES.items()}
_ONE = {k: TypeAdapter(t) for k, t in _TYPES.items()}
_MANY = {k: TypeAdapter(list[t]) for k, t in _TYPES.items()}  # type: ignore[valid-type]


@dataclass(frozen=True)
class Rejection:
    """A record that failed validation: where it came from and why."""

    where: str  # "attempts.jsonl:17" or "page 3 item 12"
    reason: str
    raw: Any = None


def _fill_optional(kind: str, raw: dict[str, Any]) -> dict[str, Any]:
    opt = OPTIONAL[kind]
    missing = [f for f in opt if f not in raw]
    if missing:
        raw = dict(raw)
        for f in missing:
            raw[f] = None
    return raw


def _reason(exc: ValidationError, strip_index: bool = False) -> str:
    parts = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = err["loc"][1:] if strip_index else err["loc"]
        field = ".".join(str(p) for p in loc) or "record"
        msg = "missing field" if err["type"] == "missing" else err["msg"]
        parts.append(f"{field}: {msg}")
    return "; ".join(parts)


def validate(
    kind: str, raws: Sequence[Any], wheres: Sequence[str]
) -> tuple[list[dict[str, Any]], list[Rejection]]:
    """Validate a batch. Returns the good records (in order) and the rejections."""
    if kind not in _TYPES:
        raise ValueError(f"unknown record kind {kind!r}; expected one of {', '.join(KINDS)}")
    prepared = [_fill_optional(kind, r) if isinstance(r, dict) else r for r in raws]
    try:
        return _MANY[kind].validate_python(prepared), []
    except ValidationError:
        pass
    good: list[dict[str, Any]] = []
    bad: list[Rejection] = []
    one = _ONE[kind]
    for raw, where in zip(prepared, wheres, strict=True):
        if not isinstance(raw, dict):
            bad.append(Rejection(where, f"not a record object: {type(raw).__name__}", raw))
            continue
        try:
            good.append(one.validate_python(raw))
        except ValidationError as exc:
            bad.append(Rejection(where, _reason(exc), raw))
    return good, bad


def to_row(kind: str, rec: dict[str, Any]) -> tuple[Any, ...]:
    """A validated record as a cache row (instants as epoch milliseconds)."""
    if kind == "attempts":
        return (
            rec["call_id"], rec["seq"], rec["carrier_id"], dt_to_ms(rec["started_at"]),
            rec["dst"], rec["cli"], rec["sip_code"], rec["sip_reason"], rec["pdd_ms"],
            rec["duration_s"], rec["release_reason"],
        )
    if kind == "rates":
        return tuple(
            dt_to_ms(rec[f]) if f == "effective_from" else rec[f] for f in FIELDS["rates"]
        )
    if kind == "carriers":
        codes = rec["halt_codes"]
        return tuple(
            (",".join(map(str, codes)) if codes is not None else None) if f == "halt_codes"
            else rec[f]
            for f in FIELDS["carriers"]
        )
    return tuple(rec[f] for f in FIELDS[kind])


def batched(items: Iterable[Any], size: int) -> Iterable[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
