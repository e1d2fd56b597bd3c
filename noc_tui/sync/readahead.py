"""Run a producer one step ahead of its consumer, in a thread of its own.

Used where the producer's work (an HTTP request, decoding a batch into SQLite) and the consumer's
(storing in SQLite) both release the GIL, so on two cores they run at the same time.
At most ``depth`` items wait, so memory stays bounded; an exception in the producer is
raised in the consumer, after the items produced before it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

_JOIN_S = 5.0


def read_ahead(items: Iterator[T], depth: int = 1,
               name: str = "read-ahead") -> Generator[T, None, None]:
    q: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(("item", item)):
                    return
            put(("end", None))
        except BaseException as exc:  # handed to the consumer, raised there
            put(("error", exc))

    worker = threading.Thread(target=produce, name=name, daemon=True)
    worker.start()
    try:
        while True:
            tag, value = q.get()
            if tag == "item":
                yield value
            elif tag == "end":
                return
            else:
                raise value
    finally:
        # The consumer stopped (done, failed or closed): the producer stops at its next
        # item; wait for it a bounded time.
        stop.set()
        worker.join(timeout=_JOIN_S)
