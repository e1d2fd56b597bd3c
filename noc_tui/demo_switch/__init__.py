"""The embedded demo switch: a deterministic traffic simulator served as API v1.

No Textual here: this is data layer, used by the CLI (`noc-tui demo-switch`,
`noc-tui --demo`) and by the tests.
"""

from noc_tui.demo_switch.catalogue import CARRIERS
from noc_tui.demo_switch.faults import Faults
from noc_tui.demo_switch.server import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    ROUTES,
    DemoSwitch,
    serve_forever,
)
from noc_tui.demo_switch.simulator import HISTORY_MS, Simulator

__all__ = [
    "CARRIERS",
    "DEFAULT_LIMIT",
    "HISTORY_MS",
    "MAX_LIMIT",
    "ROUTES",
    "DemoSwitch",
    "Faults",
    "Simulator",
    "serve_forever",
]
