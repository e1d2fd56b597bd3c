"""The numeric fields of the record formats: the range of each, and the precision the
fractional ones are kept to (docs/switch-api.md, "Records").

pydantic (formats.py) and msgspec (attempt_parser.py) both build their checks from this
table, and tests hold the OpenAPI file and the docs to it. A value outside its range,
or a number too big for 64 bits, rejects its record.
"""

from __future__ import annotations

# kind -> field -> (lowest, highest), both allowed. halt_codes: each code of the list.
RANGES: dict[str, dict[str, tuple[int, int]]] = {
    "carriers": {"channels": (0, 10_000_000), "cps": (0, 10_000_000),
                 "halt_codes": (100, 699)},
    "rates": {"rate": (0, 1_000_000), "connect_fee": (0, 1_000_000), "mcd_s": (0, 3_600),
              "pulse_s": (1, 3_600)},
    "attempts": {"seq": (1, 1_000), "sip_code": (100, 699), "pdd_ms": (0, 600_000),
                 "duration_s": (0, 604_800)},
}

# The fields that take a fraction; every other numeric field is an integer.
FRACTIONAL: frozenset[tuple[str, str]] = frozenset({
    ("rates", "rate"), ("rates", "connect_fee"), ("attempts", "pdd_ms"),
    ("attempts", "duration_s"),
})


def bounds(kind: str, name: str) -> dict[str, int]:
    """The range of a field as keyword arguments of pydantic's Field or msgspec's Meta."""
    lo, hi = RANGES[kind][name]
    return {"ge": lo, "le": hi}


# duration_s and pdd_ms are kept to three decimals (a millisecond, a microsecond): a value
# with finer digits is rounded to the nearest. The cache sums them in thousandths, as
# 64-bit integers, so sums are exact and integer inputs give exactly the figures they
# always gave. One attempt adds at most 604,800,000 to such a sum: an overflow would
# take over 15 billion attempts of the longest duration in one sum.


def thousandths(value: float) -> int:
    """A non-negative value in thousandths, to the nearest. THOUSANDTHS_SQL computes
    the same in SQLite, with the same floating-point operations."""
    return int(value * 1000 + 0.5)


def kept(value: float) -> float:
    """The value stored for a duration_s or pdd_ms: to three decimals, a whole value as
    an integer. KEPT_SQL stores the same in SQLite."""
    if isinstance(value, int):
        return value
    k = thousandths(value)
    return k // 1000 if k % 1000 == 0 else k / 1000


def thousandths_sql(expr: str) -> str:
    return f"CAST({expr} * 1000 + 0.5 AS INTEGER)"


def kept_sql(expr: str) -> str:
    # A whole REAL lands in an INTEGER column as an integer (SQLite's affinity).
    return f"CASE typeof({expr}) WHEN 'real' THEN {thousandths_sql(expr)} / 1000.0 ELSE {expr} END"
