"""Money as a currency counts it: rounded to its minor unit (cents, for most).

ISO 4217 gives most currencies two decimals; these have none or three. A currency the
table does not know (or none given) is taken as two, as most are.
"""

from __future__ import annotations

DECIMALS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF",
                     "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}


def decimals(currency: str | None) -> int:
    """The number of decimals an amount in `currency` is shown with."""
    return DECIMALS.get((currency or "").strip().upper(), 2)


def in_cents(amount: float | None, currency: str | None) -> str:
    """An amount rounded to the currency's minor unit, as text ("12.30"); "" for none."""
    if amount is None:
        return ""
    return f"{amount:.{decimals(currency)}f}"
