"""What every tab of the carrier screen is (CarrierPart), and what the parts share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.widgets import TabPane

from noc_tui.analytics.views import WINDOWS, carrier_list, with_health
from noc_tui.store.alarms import open_alarms
from noc_tui.store.destinations import load as load_routing
from noc_tui.store.poll_status import failures_recorded
from noc_tui.ui import cells as fmt
from noc_tui.ui.widgets import NavTable, Note

if TYPE_CHECKING:
    from textual.widget import Widget

    from noc_tui.store.cache import Cache
    from noc_tui.ui.host import Host


def carrier_row(cache: Cache, app: Host, carrier_id: str) -> dict[str, Any] | None:
    """The carrier's row of the carrier list: the list's own if it is of the current
    window, else read for it as the list reads it, health and alarms included (the
    head then shows the list's own row when it arrives: CarrierHead.show_list_row)."""
    rows = app.list_rows()
    if rows is not None:
        return rows.get(carrier_id)
    _, all_rows, _ = carrier_list(cache, WINDOWS[app.window], app.now())
    mine = [r for r in all_rows if r["id"] == carrier_id]
    routing = load_routing(cache.conn, carrier_id)
    known = failures_recorded(cache) is not False
    return with_health(mine, app.settings, routing, known,
                       opened=open_alarms(cache.conn))[0] if mine else None


class CarrierPart(TabPane):
    """One tab of the carrier screen, for the carrier the screen shows.

    Its widgets are mounted the first time the tab is needed: a screen with fewer
    widgets opens faster (Enter on a carrier). `read` runs in a worker thread and
    returns what `show_data` then shows, in the UI thread; the screen runs both.
    """

    PART: ClassVar[str] = ""  # the tab's id and worker group; its table is #t-{PART}
    LABEL: ClassVar[str] = ""
    INFO: ClassVar[str] = ""  # the id of the info line above the table (show_info)
    last_data: Any = None  # what show_data was last given (the parts that keep it)
    info: Text | None = None  # the info line as show_data last gave it

    DEFAULT_CSS = """
    CarrierPart NavTable { height: 1fr; }
    CarrierPart .info { height: auto; max-height: 6; padding: 0 1; background: $surface; }
    """

    def __init__(self) -> None:
        super().__init__(self.LABEL, id=self.PART)

    def widgets(self) -> list[Widget]:
        """What the tab holds, mounted the first time it is needed."""
        return []

    async def ensure_mounted(self) -> None:
        if not self.query(f"#t-{self.PART}"):
            await self.mount_all(self.widgets())

    def show_info(self, info: Text) -> None:
        """Show the info line; with a `/` filter on the tab's table it also says how many
        of the rows read the filter leaves, the count the line gives being of them all.
        Called after the table's sync, and again as the filter changes."""
        self.info = info
        table = next(iter(self.query(f"#t-{self.PART}").results(NavTable)), None)
        if table is not None and table.filter_text and table.rows_given:
            info = info.copy()
            info.append_text(Text("  filter ") + fmt.lit(table.filter_text, style="italic")
                             + Text(f": {len(table.raw):,} of {table.rows_given:,} shown",
                                    style="bold"))
        self.query_one(f"#{self.INFO}", Note).update(info)

    def filter_changed(self) -> None:
        """The tab's `/` filter changed: the info line counts what it leaves."""
        if self.info is not None and self.INFO:
            self.show_info(self.info)

    def end_look(self) -> None:
        """The operator has left this tab: what it listed counts as seen from now on."""

    def shown_again(self) -> None:
        """The tab is shown again with the data it had (nothing newer to read)."""

    def reset(self) -> None:
        """Another carrier is shown: no row or line of the previous one stays."""
        self.end_look()
        self.last_data = None
        self.info = None
        for table in self.query(NavTable):
            table.reset()
        for note in self.query(".info").results(Note):
            note.update("")

    def read(self, cache: Cache, app: Host, carrier_id: str) -> Any:
        """This part's data, read from the cache (in a worker thread)."""
        raise NotImplementedError

    def show_data(self, data: Any) -> None:
        raise NotImplementedError
