"""The Textual dashboard (issue 4). Import-light: the app is loaded on demand.

app.py is the application; each screen has its module (carrier_list, call_screen,
number_calls, help, export), the carrier screen a package of its parts (carrier/), the
shared widgets one (widgets/). terminal.py keeps the dashboard to a terminal (and ends
it when the terminal goes), saved_state.py what it remembers between runs. Screens and
the palette reach the app through host.py's protocols, never by importing it, so the
app can import them without a loop. The
dashboard may import every layer but demo_switch; nothing outside ui/ and the
command line imports it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from noc_tui.ui.app import NocApp, run_dashboard
    from noc_tui.ui.render import render_view

__all__ = ["NocApp", "render_view", "run_dashboard"]


def __getattr__(name: str) -> Any:
    # Lazy so `noc-tui import` never pays for importing Textual.
    if name in ("NocApp", "run_dashboard"):
        from noc_tui.ui import app

        return getattr(app, name)
    if name == "render_view":
        from noc_tui.ui.render import render_view

        return render_view
    raise AttributeError(name)
