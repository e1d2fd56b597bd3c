"""Tab 4 of the trunk-group screen: each finding (F1..F11) in plain words, with its
evidence: the deliveries, DIDs or edges it rests on."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from rich.text import Text

from noc_tui.analytics.inbound import findings
from noc_tui.analytics.trunk_group import RULE_WORDS
from noc_tui.analytics.views import WINDOWS
from noc_tui.records.inbound import RULE_NAMES
from noc_tui.ui import cells as fmt
from noc_tui.ui.carrier.part import CarrierPart
from noc_tui.ui.trunk_list import inbound_now
from noc_tui.ui.widgets import Col, NavTable, Note

if TYPE_CHECKING:
    from textual.widget import Widget

    from noc_tui.store.cache import Cache
    from noc_tui.ui.host import Host

FINDING_COLS = (Col("rule", "Rule", 4, pin=True, sort="asc", field="rule_no"),
                Col("words", "What it means", 40, rank=0, grow=40, grow_rank=0),
                Col("evidence", "Evidence", 24, pin=True, grow=30, sort="desc",
                    field="n_evidence"),
                Col("name", "Name", 22, rank=1))
SHOWN_IDS = 3  # delivery ids named in the evidence cell; the export has them all


def evidence(f: dict[str, Any]) -> str:
    if f["edge"] is not None:
        return f"edge {f['edge']}"
    if f["did"] is not None:
        return f"DID {f['did']}"
    ids = f["delivery_ids"]
    text = f"{len(ids):,} deliver{'y' if len(ids) == 1 else 'ies'}: " + ", ".join(
        ids[:SHOWN_IDS])
    return text + (", …" if len(ids) > SHOWN_IDS else "")


class FindingsPane(CarrierPart):
    PART = "findings"
    LABEL = "4 Findings"
    INFO = "findings-info"

    def widgets(self) -> list[Widget]:
        return [Note("", id="findings-info", classes="info"),
                NavTable(id="t-findings", sort="rule")]

    def read(self, cache: Cache, app: Host, gid: str) -> dict[str, Any]:
        return {"rows": findings(cache, inbound_now(app), WINDOWS[app.window], gid),
                "window": app.window}

    def show_data(self, data: dict[str, Any]) -> None:
        rows = data["rows"]
        n = len(rows)
        info = Text(
            f"{n} finding{'s' if n != 1 else ''}: delivery rules over the {data['window']} "
            "window, registration as of now, DIDs from the configuration. Enter on "
            "deliveries: the first one's chain" if n else
            f"No findings: the deliveries of the {data['window']} window, the registration "
            "and the configuration follow the group's policy.")
        cells = []
        for i, f in enumerate(rows):
            raw = {**f, "rule_no": int(f["rule"][1:]), "n_evidence": len(f["delivery_ids"]),
                   "words": RULE_WORDS[f["rule"]], "name": RULE_NAMES[f["rule"]]}
            cells.append((f"{i}", [Text(f["rule"], style="bold"), fmt.lit(RULE_WORDS[f["rule"]]),
                                   fmt.lit(evidence(f)), Text(RULE_NAMES[f["rule"]])],
                          raw))
        # The words whole when the width allows (an ellipsis when it does not).
        longest = max((len(RULE_WORDS[f["rule"]]) for f in rows), default=0)
        cols = tuple(replace(c, grow=max(0, longest - (c.width or 0))) if c.key == "words"
                     else c for c in FINDING_COLS)
        self.query_one("#t-findings", NavTable).sync(cols, cells, [
            "rule", "trunk_group_id", "did", "edge", "delivery_ids"])
        self.show_info(info)
