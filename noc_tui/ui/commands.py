"""The command palette (`:`): commands named "area: action".

Carrier names are data, so hits are built as literal Content and highlighted here;
Textual's own matcher.highlight would parse them as markup.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import cast

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from noc_tui.ui.cells import clean
from noc_tui.ui.host import PaletteHost

SEARCH_MIN_TYPED = 3
SEARCH_HIT_SCORE = 0.3  # below a command the words match well, above a stray match
PaletteCommand = tuple[str, str, Callable[[], object], bool]  # title, help, run, discover


def palette_commands(app: PaletteHost) -> list[PaletteCommand]:
    cmds: list[PaletteCommand] = [
        ("poll: refresh now", "Poll the source now (or re-read the cache)", app.action_poll_now,
         True),
        ("poll: pause or resume", "Stop or restart scheduled polling", app.action_toggle_pause,
         True),
    ]
    for fmt, what in (("csv", "CSV of the table shown"), ("json", "JSON of the table shown"),
                      ("svg", "SVG screenshot"), ("txt", "plain-text screenshot")):
        cmds.append((f"export: {fmt}", f"Write a {what} to the export folder",
                     partial(app.export_snapshot, fmt), True))
    for w in ("1h", "24h", "7d"):
        cmds.append((f"window: {w}", f"Show metrics over the last {w}",
                     partial(app.set_window, w), True))
    cmds.append(("sort: alarmed first", "Toggle alarmed carriers at the top",
                 app.toggle_alarmed_first, True))
    from noc_tui.ui.carrier_list import LIST_COLS

    for col in LIST_COLS:
        if col.sort:
            cmds.append((f"sort: carriers by {col.label}",
                         "Worst first; again: the other way", partial(app.sort_list, col.key),
                         True))
    for name in sorted(app.theme_names()):
        cmds.append((f"theme: {name}", "Switch to this theme", partial(app.use_theme, name),
                     True))
    cmds.append(("search: find a call", "Calls by dialled number, CLI or Call-ID, all "
                 "carriers (ctrl+f)", app.open_search, True))
    cmds.append(("inbound: trunk groups", "The trunk-group list: inbound delivery to "
                 "customers' PBXs (t on the carrier list)", app.show_trunk_groups, True))
    cmds.append(("alarms: show", "Open alarms, then past ones; acknowledge with a (!)",
                 app.show_alarms, True))
    cmds.append(("help: keys", "Every key of this screen", app.action_help, True))
    for cid, name in app.carrier_names.items():
        label = clean(name) if name and name != cid else ""
        title = f"carrier: jump to {label} ({clean(cid)})" if label else \
            f"carrier: jump to {clean(cid)}"
        cmds.append((title[:160], "Open the carrier screen", partial(app.open_carrier, cid),
                     False))
    cmds.append(("app: quit", "Quit noc-tui", app.action_quit, True))
    return cmds


class NocCommands(Provider):
    async def discover(self) -> Hits:
        app = cast("PaletteHost", self.app)
        for title, help_text, run, discover in palette_commands(app):
            if discover:
                yield DiscoveryHit(Content(title), run, text=title, help=help_text)

    async def search(self, query: str) -> Hits:
        app = cast("PaletteHost", self.app)
        typed = query.strip()
        if len(typed) >= SEARCH_MIN_TYPED:
            # Whatever is typed can be searched for as a call: a number or a Call-ID
            # pasted into the palette finds its calls.
            title = f"search: calls matching {clean(typed)}"[:160]
            yield Hit(SEARCH_HIT_SCORE, Content(title), partial(app.open_search, typed),
                      text=title, help="Calls by dialled number, CLI or Call-ID")
        matcher = self.matcher(query)
        for title, help_text, run, _ in palette_commands(app):
            score, offsets = matcher.fuzzy_search.match(query, title)
            if score > 0:
                shown = Content(title)
                for o in offsets:
                    shown = shown.stylize("bold underline", o, o + 1)
                yield Hit(score, shown, run, text=title, help=help_text)
