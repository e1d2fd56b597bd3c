"""sources: one module per kind of switch, each behind the one small interface the
poller uses, so the poller never knows which switch it talks to. `apiv1` is noc-tui's
own switch API v1 over HTTP, `kamailio` a Kamailio's accounting and dispatcher state,
`connexcs` a ConnexCS account's API (over `http`, the requests, retries and redaction
HTTP sources share); a new kind of switch (FreeSWITCH, ...) is a new module here. A
source may import `records` and `config`; never `store`,
`analytics`, `sync` or `ui`: it hands records to its caller, it does not store them.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from noc_tui.config import SourceSettings
    from noc_tui.sources.base import Deadline, Source


def open_source(settings: SourceSettings, *, url: str | None = None, token: str | None = None,
                backoff_base_s: float = 0.5, retry_after_cap_s: float = 60.0,
                cancel: threading.Event | None = None, state_path: Path | None = None,
                deadline: Deadline | None = None) -> Source:
    """The source the settings name, ready for one poll, which must be over by
    `deadline` (the poller also checks it between pages). ValueError on a bad setting.
    `state_path`: the cache the poll fills; a source keeping state of its own (the
    Kamailio mqueue spool) keeps it beside it."""
    # Imported here: a source's client library loads only when that source is used.
    if settings.kind == "kamailio":
        if settings.kamailio.inbound_db_url:
            from noc_tui.sources.kamailio_inbound import KamailioInboundSource

            return KamailioInboundSource(settings, state_path=state_path, cancel=cancel)
        from noc_tui.sources.kamailio import KamailioSource

        return KamailioSource(settings, state_path=state_path, cancel=cancel)
    if settings.kind == "connexcs":
        from noc_tui.sources.connexcs import ConnexCSSource

        return ConnexCSSource(settings, url=url, token=token, backoff_base_s=backoff_base_s,
                              retry_after_cap_s=retry_after_cap_s, cancel=cancel,
                              deadline=deadline)
    from noc_tui.sources.apiv1 import SourceClient

    return SourceClient(settings, url=url, token=token, backoff_base_s=backoff_base_s,
                        retry_after_cap_s=retry_after_cap_s, cancel=cancel, deadline=deadline)
