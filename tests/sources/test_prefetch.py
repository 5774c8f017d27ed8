"""Reading ahead in a thread: same items in the same order, errors surface, and stopping early cleans up."""

import threading

import pytest

from dsr.sources.prefetch import prefetched


def test_items_arrive_in_order_produced_in_another_thread():
    threads = set()

    def source():
        for n in range(50):
            threads.add(threading.current_thread())
            yield n

    assert list(prefetched(source(), depth=3)) == list(range(50))
    assert threading.current_thread() not in threads


def test_an_error_while_reading_reaches_the_reader():
    def source():
        yield 1
        raise LookupError("the database went away")

    items = prefetched(source())
    assert next(items) == 1
    with pytest.raises(LookupError, match="went away"):
        next(items)


def test_stopping_early_closes_the_source():
    closed = threading.Event()

    def source():
        try:
            n = 0
            while True:
                yield n
                n += 1
        finally:
            closed.set()  # where a connector disposes of its database connection

    items = prefetched(source(), depth=2)
    assert [next(items) for _ in range(3)] == [0, 1, 2]
    items.close()
    assert closed.is_set()
