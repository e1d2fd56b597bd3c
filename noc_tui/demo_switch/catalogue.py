"""Who the demo switch's carriers and destinations are, and the reference records the
API serves for them (carriers, contacts, rate cards). The traffic they carry is
generated in simulator.py from these tables.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from noc_tui.records.timefmt import DAY_MS, ms_to_iso


@dataclass(frozen=True)
class CarrierSpec:
    id: str
    name: str
    status: str
    channels: int
    cps: int
    currency: str
    halt_codes: tuple[int, ...] | None
    kind: str  # behaviour: tier1, cheap, degrading, down, nf404, fas, mis486, regional, idle
    pdd_ms: int  # median post-dial delay
    tech_fail: float  # share of attempts failing on the carrier's side (5xx / 408)
    domain: str
    billing: tuple[int, int]  # (mcd_s, pulse_s)


CARRIERS: tuple[CarrierSpec, ...] = (
    CarrierSpec("atlantic", "Atlantic Tier1 Voice", "active", 0, 200, "USD", None,
                "tier1", 1800, 0.01, "atlantic-tier1.example", (1, 1)),
    CarrierSpec("nordlink", "Nordlink Carrier Services", "active", 2000, 100, "EUR", None,
                "tier1", 1600, 0.012, "nordlink.example", (60, 60)),
    CarrierSpec("meridian", "Meridian Global Telecom", "active", 0, 150, "USD", None,
                "tier1", 2000, 0.008, "meridian-global.example", (1, 1)),
    CarrierSpec("continental", "Continental Mobile Access", "active", 1000, 80, "EUR", None,
                "tier1", 2600, 0.015, "continental-mobile.example", (30, 6)),
    CarrierSpec("budget", "BudgetRoute VoIP", "active", 30, 10, "USD", None,
                "cheap", 4200, 0.06, "budgetroute.example", (60, 60)),
    CarrierSpec("helios", "Helios Wholesale", "active", 500, 50, "USD", None,
                "degrading", 2200, 0.01, "helios-wholesale.example", (30, 6)),
    CarrierSpec("orbitel", "Orbitel Transit", "active", 300, 40, "EUR", None,
                "down", 1900, 0.015, "orbitel-transit.example", (60, 60)),
    CarrierSpec("quantum", "Quantum Reach Networks", "active", 400, 40, "EUR", None,
                "nf404", 2100, 0.012, "quantumreach.example", (30, 6)),
    CarrierSpec("sunrise", "Sunrise Gold Telecom", "active", 0, 60, "USD", None,
                "fas", 0, 0.03, "sunrise-gold.example", (1, 1)),
    CarrierSpec("pacific", "Pacific Crossing Ltd", "active", 600, 60, "USD", None,
                "mis486", 2300, 0.012, "pacific-crossing.example", (60, 1)),
    CarrierSpec("andes", "Andes Regional Telecom", "active", 200, 30, "USD",
                (404, 480, 486, 603), "regional", 2800, 0.025, "andes-regional.example",
                (60, 6)),
    CarrierSpec("vantage", "Vantage Telecom", "inactive", 100, 20, "GBP", None,
                "idle", 2000, 0.0, "vantage-telecom.example", (60, 60)),
    CarrierSpec("kestrel", "Kestrel Networks", "pending", 150, 20, "EUR", None,
                "idle", 2000, 0.0, "kestrel-networks.example", (1, 1)),
)


@dataclass(frozen=True)
class Destination:
    name: str
    prefix: str  # digits every number of the pool starts with
    length: int  # total digits of a number
    weight: float  # share of calls
    rate_prefix: str  # the rate-card prefix that prices it
    routes: tuple[tuple[float, tuple[str, ...]], ...]  # (weight, LCR order)
    # Pool indices (0 = most dialled) that are unallocated besides the random few:
    # numbers customers keep calling although they do not exist (a recycled block).
    dead: tuple[int, ...] = (0, 3, 7, 12)


# Per destination an ordered LCR list of carriers; some split traffic by ratio, as real
# switches do, so one number reaches several carriers over time.
DESTINATIONS: tuple[Destination, ...] = (
    Destination("USA", "1212", 11, 18, "1",
                ((0.7, ("budget", "atlantic", "nordlink")), (0.3, ("atlantic", "nordlink")))),
    Destination("United Kingdom - London", "4420", 12, 10, "4420",
                ((0.6, ("atlantic", "helios", "nordlink")), (0.4, ("nordlink", "atlantic")))),
    Destination("United Kingdom - Mobile", "447", 12, 12, "447",
                ((0.6, ("pacific", "continental", "atlantic")),
                 (0.4, ("continental", "atlantic")))),
    Destination("Germany - Berlin", "4930", 12, 8, "4930",
                ((0.8, ("orbitel", "nordlink", "meridian")), (0.2, ("nordlink", "orbitel")))),
    Destination("Germany - Mobile", "4917", 12, 8, "4917",
                ((0.75, ("orbitel", "continental", "meridian")),
                 (0.25, ("continental", "orbitel", "meridian")))),
    Destination("France - Paris", "331", 11, 6, "331",
                ((0.6, ("quantum", "nordlink", "atlantic")),
                 (0.4, ("nordlink", "quantum", "atlantic")))),
    Destination("France - Mobile", "336", 11, 6, "336",
                ((0.5, ("quantum", "continental")),
                 (0.5, ("continental", "quantum", "atlantic")))),
    Destination("Mexico - Mexico City", "5255", 12, 5, "52",
                ((1.0, ("andes", "budget", "meridian")),)),
    Destination("Brazil - Sao Paulo", "5511", 13, 5, "55",
                ((1.0, ("andes", "helios", "meridian")),)),
    Destination("Nigeria - Mobile", "234803", 13, 7, "234",
                ((0.6, ("sunrise", "helios", "meridian")), (0.4, ("meridian", "sunrise"))),
                dead=(0, 1, 2, 4, 5, 6, 8, 11)),
    Destination("Philippines - Mobile", "63917", 12, 5, "63",
                ((0.6, ("budget", "sunrise", "meridian")), (0.4, ("meridian", "budget")))),
    Destination("India - Mobile", "9198", 12, 7, "91",
                ((0.7, ("helios", "budget", "nordlink")), (0.3, ("nordlink", "helios")))),
)


def carrier_records() -> list[dict[str, Any]]:
    """The carriers, as the API serves them."""
    return [
        {
            "id": c.id, "name": c.name, "status": c.status, "channels": c.channels,
            "cps": c.cps, "currency": c.currency,
            "halt_codes": list(c.halt_codes) if c.halt_codes is not None else None,
        }
        for c in CARRIERS
    ]


def contact_records() -> list[dict[str, Any]]:
    """Each carrier's NOC and account manager, and a billing desk for some."""
    out: list[dict[str, Any]] = []
    for n, c in enumerate(CARRIERS):
        phone = f"+44 20 7946 0{n:02d}"  # Ofcom's range reserved for drama: fictional
        out.append({
            "carrier_id": c.id, "name": f"{c.name} NOC", "role": "noc",
            "email": f"noc@{c.domain}", "phone": phone + "0",
            "notes": "24/7; open a ticket by email first, call for outages",
        })
        out.append({
            "carrier_id": c.id, "name": _PEOPLE[n % len(_PEOPLE)], "role": "account manager",
            "email": f"{_PEOPLE[n % len(_PEOPLE)].split()[0].lower()}@{c.domain}",
            "phone": phone + "1", "notes": "business hours",
        })
        if c.status == "active" and n % 3 == 0:
            out.append({
                "carrier_id": c.id, "name": "Billing desk", "role": "billing",
                "email": f"billing@{c.domain}", "phone": None,
                "notes": "disputes within 30 days of invoice",
            })
    return out


def rate_records(seed: int, history_start_ms: int, start_ms: int) -> list[dict[str, Any]]:
    """Rate cards: one per carrier, rows for the prefixes it carries, some blocked,
    some superseded by a later price, one change scheduled in the future."""
    rng = random.Random(f"rates-{seed}")
    day0 = history_start_ms // DAY_MS * DAY_MS
    base_from = day0 - 60 * DAY_MS
    change_at = day0 + 20 * DAY_MS
    future_at = (start_ms // DAY_MS + 7) * DAY_MS
    serves: dict[str, list[Destination]] = {c.id: [] for c in CARRIERS}
    for d in DESTINATIONS:
        for _, order in d.routes:
            for cid in order:
                if d not in serves[cid]:
                    serves[cid].append(d)
    extra = (Destination("United Kingdom - Fixed", "44", 12, 0, "44", ()),
             Destination("Germany - Fixed", "49", 12, 0, "49", ()),
             Destination("France - Fixed", "33", 11, 0, "33", ()))
    out: list[dict[str, Any]] = []
    for n, c in enumerate(CARRIERS):
        mcd, pulse = c.billing
        card = f"{c.id}-{c.currency.lower()}-std"
        dests = serves[c.id] or list(DESTINATIONS[n % 4: n % 4 + 3])
        dests = dests + [e for e in extra if e.rate_prefix[:2] in {d.prefix[:2] for d in dests}]
        cheap = 0.7 if c.kind in ("cheap", "fas") else 1.0
        for j, d in enumerate(dests):
            base = _BASE_RATE.get(d.rate_prefix, 0.02)
            rate = round(base * cheap * rng.uniform(0.85, 1.2), 5)
            row = {
                "carrier_id": c.id, "card_id": card,
                "card_name": f"{c.name} standard {c.currency}",
                "prefix": d.rate_prefix, "destination": d.name, "rate": rate,
                "connect_fee": 0.0 if j % 4 else 0.001, "mcd_s": mcd, "pulse_s": pulse,
                "currency": c.currency, "effective_from": ms_to_iso(base_from),
                "status": "active",
            }
            out.append(row)
            if (n + j) % 5 == 0:  # price change part-way through the history
                out.append(row | {"rate": round(rate * 1.08, 5),
                                  "effective_from": ms_to_iso(change_at)})
            if (n + j) % 7 == 3:  # scheduled change, not yet in force
                out.append(row | {"rate": round(rate * 0.95, 5),
                                  "effective_from": ms_to_iso(future_at)})
        # A blocked premium range on every card (fraud-prone destinations).
        out.append({
            "carrier_id": c.id, "card_id": card, "card_name": f"{c.name} standard {c.currency}",
            "prefix": "882", "destination": "International Networks", "rate": 1.25,
            "connect_fee": 0.0, "mcd_s": 60, "pulse_s": 60, "currency": c.currency,
            "effective_from": ms_to_iso(base_from), "status": "blocked",
        })
    return out


_PEOPLE = ("Maria Lindqvist", "Tomasz Wrona", "Aisha Okafor", "James Whitfield",
           "Lucia Ferreira", "Kenji Moriyama", "Priya Raman", "Oliver Brandt",
           "Sofia Marchetti", "Daniel Achterberg", "Grace Mbeki", "Henrik Dahl", "Elena Popescu")
_BASE_RATE = {"1": 0.004, "4420": 0.006, "447": 0.018, "4930": 0.007, "4917": 0.035,
              "331": 0.008, "336": 0.03, "52": 0.012, "55": 0.02, "234": 0.11, "63": 0.16,
              "91": 0.021, "44": 0.009, "49": 0.01, "33": 0.011}
