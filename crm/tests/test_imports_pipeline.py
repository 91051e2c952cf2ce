import gc
import sys
import threading

import pytest

from crm.imports.pipeline import GC_THRESHOLD, SWITCH_INTERVAL, read_ahead


def _read_ahead_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "crm-import-read-ahead"]


def test_read_ahead_yields_every_item_in_order():
    assert list(read_ahead(iter(range(50)), depth=2)) == list(range(50))


def test_an_error_while_reading_ahead_surfaces_in_the_reader_after_the_items_before_it():
    def source():
        yield "first chunk"
        raise ValueError("broken file")

    seen = []
    with pytest.raises(ValueError, match="broken file"):
        for item in read_ahead(source()):
            seen.append(item)
    assert seen == ["first chunk"]
    assert _read_ahead_threads() == []


def test_a_reader_that_stops_early_ends_the_thread_and_reads_no_further():
    produced = []

    def source():
        for n in range(1000):
            produced.append(n)
            yield n

    items = read_ahead(source(), depth=1)
    assert next(items) == 0
    items.close()
    assert _read_ahead_threads() == []
    # The item being read, one in the queue and one waiting to be offered at most.
    assert len(produced) <= 3


def test_while_reading_ahead_the_gil_changes_hands_more_often_and_the_collector_runs_less_until_the_last_ends():
    interval, threshold = sys.getswitchinterval(), gc.get_threshold()
    outer = read_ahead(iter(range(3)), bulk=True)
    assert next(outer) == 0
    assert sys.getswitchinterval() == min(SWITCH_INTERVAL, interval) < 0.005
    assert gc.get_threshold()[0] >= GC_THRESHOLD and gc.get_freeze_count() > 0
    inner = read_ahead(iter(range(3)), bulk=True)
    assert next(inner) == 0
    outer.close()
    assert sys.getswitchinterval() == min(SWITCH_INTERVAL, interval)  # the inner reader still runs
    assert gc.get_threshold()[0] >= GC_THRESHOLD
    inner.close()
    assert (sys.getswitchinterval(), gc.get_threshold(), gc.get_freeze_count()) == (interval, threshold, 0)


def test_a_small_read_ahead_leaves_the_process_settings_alone():
    interval, threshold = sys.getswitchinterval(), gc.get_threshold()
    items = read_ahead(iter(range(3)))
    assert next(items) == 0
    assert (sys.getswitchinterval(), gc.get_threshold(), gc.get_freeze_count()) == (interval, threshold, 0)
    items.close()


@pytest.mark.django_db
def test_an_import_of_more_than_one_chunk_reads_ahead_in_bulk_mode(settings, monkeypatch):
    from crm.imports import run as run_module
    from crm.tests.test_imports import run_import

    seen = []
    real = run_module.read_ahead
    monkeypatch.setattr(run_module, "read_ahead", lambda items, **kw: seen.append(kw["bulk"]) or real(items, **kw))
    settings.CRM_IMPORT_CHUNK_ROWS = 2
    run_import("email\na@example.com\nb@example.com\n")
    run_import("email\na@example.com\nb@example.com\nc@example.com\n")
    assert seen == [False, True]
