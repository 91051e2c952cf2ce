"""Reading ahead: the next chunk is read, validated and serialised in a thread while the database
merges the current one.

Python's share of an import (CSV parsing, validation, building the COPY text) and the database's
share (COPY, merge, index upkeep, commit) are of the same order; psycopg releases the GIL while it
waits on the server, so doing them side by side hides most of the smaller one. The thread never
touches the database, and at most `depth` chunks wait in the queue, so memory stays flat.

While a thread reads ahead for a large file (`bulk=True`), the process is tuned for bulk work,
restored when the last reader ends (not for a small upload imported during a request, where the
collection that starts it would cost more than it saves; figures in bench/NOTES.md):
- the GIL changes hands every half millisecond instead of Python's 5 ms: the thread talking to the
  database needs the GIL back after each statement, and waited up to a whole interval each time
  behind the busy reader: a fifth of a chunk's time went to trivial statements;
- the cyclic garbage collector runs rarely and skips what existed before: a chunk makes about ten
  tracked objects per row (records, rows, their dicts and sets), so the default thresholds ran a
  collection every few dozen rows, and the full ones walked all of Django's objects each time. That
  was about half of Python's cost per row (bench crm_import --profile). Rows are freed by reference counting anyway;
  only reference cycles wait for the next collection, which the thresholds still bound.
"""

import contextlib
import gc
import queue
import sys
import threading
from collections.abc import Iterable, Iterator

_DONE = object()
SWITCH_INTERVAL = 0.0005
GC_THRESHOLD = 50_000
_bulk_lock = threading.Lock()
_bulk_users = 0
_bulk_saved: tuple = ()


@contextlib.contextmanager
def _bulk_mode():
    """Process-wide settings, so counted: they come back when the last reader ends."""
    global _bulk_users, _bulk_saved
    with _bulk_lock:
        if _bulk_users == 0:
            _bulk_saved = (sys.getswitchinterval(), gc.get_threshold())
            sys.setswitchinterval(min(SWITCH_INTERVAL, _bulk_saved[0]))
            gc.collect()  # garbage frozen now would never be collected
            gc.freeze()
            gc.set_threshold(max(GC_THRESHOLD, _bulk_saved[1][0]), *_bulk_saved[1][1:])
        _bulk_users += 1
    try:
        yield
    finally:
        with _bulk_lock:
            _bulk_users -= 1
            if _bulk_users == 0:
                switch_interval, threshold = _bulk_saved
                sys.setswitchinterval(switch_interval)
                gc.set_threshold(*threshold)
                gc.unfreeze()


class _Failed:
    def __init__(self, error: BaseException):
        self.error = error


def read_ahead(items: Iterable, *, depth: int = 1, bulk: bool = False) -> Iterator:
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
    with _bulk_mode() if bulk else contextlib.nullcontext():
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
