"""Reading ahead: the next chunk is read, validated and serialised in a thread while the database
merges the current one.

Python's share of an import (CSV parsing, validation, building the COPY text) and the database's
share (COPY, merge, index upkeep, commit) are of the same order; psycopg releases the GIL while it
waits on the server, so doing them side by side hides most of the smaller one. The thread never
touches the database, and at most `depth` chunks wait in the queue, so memory stays flat.

While a thread reads ahead, the GIL changes hands every half millisecond instead of Python's 5 ms:
the thread talking to the database needs the GIL back after each statement, and waited up to a
whole interval each time behind the busy reader (about 150 ms of a 20,000-row chunk's 730 ms went to
trivial statements; with the shorter interval they take 1 to 4 ms).
"""

import contextlib
import queue
import sys
import threading
from collections.abc import Iterable, Iterator

_DONE = object()
SWITCH_INTERVAL = 0.0005
_switch_lock = threading.Lock()
_switch_users = 0
_switch_saved = 0.0


@contextlib.contextmanager
def _short_switch_interval():
    """Process-wide, so counted: the interval comes back when the last reader ends."""
    global _switch_users, _switch_saved
    with _switch_lock:
        if _switch_users == 0:
            _switch_saved = sys.getswitchinterval()
            sys.setswitchinterval(min(SWITCH_INTERVAL, _switch_saved))
        _switch_users += 1
    try:
        yield
    finally:
        with _switch_lock:
            _switch_users -= 1
            if _switch_users == 0:
                sys.setswitchinterval(_switch_saved)


class _Failed:
    def __init__(self, error: BaseException):
        self.error = error


def read_ahead(items: Iterable, *, depth: int = 1) -> Iterator:
    """Yields what `items` yields, producing the next ones in a thread; its errors surface here."""
    waiting: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item) -> bool:
        while not stop.is_set():
            try:
                waiting.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not offer(item):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed over to the consumer, which re-raises it
            offer(_Failed(exc))
            return
        offer(_DONE)

    thread = threading.Thread(target=produce, name="crm-import-read-ahead", daemon=True)
    with _short_switch_interval():
        thread.start()
        try:
            while True:
                item = waiting.get()
                if item is _DONE:
                    return
                if isinstance(item, _Failed):
                    raise item.error
                yield item
        finally:
            # The consumer stopped (finished, superseded, interrupted): let the thread end, so the file
            # it reads can be closed.
            stop.set()
            thread.join()
