"""Time formats shared by records, the cache and the command line.

The cache stores instants as integer milliseconds since the Unix epoch (UTC):
compact, cheap to index and compare. Everything user-facing is ISO 8601 with Z.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


class TimeFormatError(ValueError):
    """A time or duration the user wrote could not be understood."""


def parse_duration(text: str) -> int:
    """'15m', '1h', '24h', '7d', '35d' -> seconds."""
    m = _DURATION.match(text or "")
    if not m or int(m.group(1)) == 0:
        raise TimeFormatError(
            f"bad duration {text!r}: write a positive number and a unit, like 15m, 1h, 24h, 7d"
        )
    return int(m.group(1)) * _UNIT_S[m.group(2)]


def format_duration(seconds: int) -> str:
    for unit in ("w", "d", "h", "m"):
        if seconds % _UNIT_S[unit] == 0:
            return f"{seconds // _UNIT_S[unit]}{unit}"
    return f"{seconds}s"


def parse_iso(text: str) -> datetime:
    """Parse ISO 8601; a value without a zone is taken as UTC."""
    try:
        dt = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except (ValueError, AttributeError) as exc:
        raise TimeFormatError(
            f"bad time {text!r}: write ISO 8601 UTC, like 2026-11-01T12:00:00Z"
        ) from exc
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def dt_to_ms(dt: datetime) -> int:
    # Integer arithmetic, not float timestamp(): exact to the millisecond.
    delta = dt - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000


def ms_to_dt(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


def iso_to_ms(text: str) -> int:
    return dt_to_ms(parse_iso(text))


# The instants a user may give (--now, --since, --until): every window and period
# around them stays within the years a date can hold (1 to 9999).
EARLIEST_MS = 0  # 1970-01-01
LATEST_MS = 221845392000000  # 9000-01-01


def parse_instant(text: str, what: str) -> int:
    """A time the user gave for `what` (an option's name), in ms; TimeFormatError names
    the option when it cannot be read or is out of range."""
    try:
        ms = iso_to_ms(text)
    except TimeFormatError as exc:
        raise TimeFormatError(f"{what}: {exc}") from None
    except OverflowError:  # a zone offset that takes year 1 or 9999 out of range
        ms = -1
    if not EARLIEST_MS <= ms < LATEST_MS:
        raise TimeFormatError(f"{what} {text!r} is out of range: give a time from "
                              "1970-01-01 to 8999-12-31, like 2026-11-01T12:00:00Z")
    return ms


def ms_to_iso(ms: int) -> str:
    """Canonical form: 2026-11-01T12:00:00.123Z (always milliseconds)."""
    dt = ms_to_dt(ms)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def now_ms() -> int:
    return dt_to_ms(datetime.now(UTC))
