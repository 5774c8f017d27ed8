"""Reading ahead in a background thread, so waiting on the database overlaps with writing the bundle."""

from __future__ import annotations

import threading
from collections.abc import Generator, Iterable
from queue import Empty, Full, Queue
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetched(items: Iterable[T], depth: int = 2) -> Generator[T, None, None]:
    """Yield `items`, produced up to `depth` ahead in another thread (so at most depth+1 in memory).

    The producer owns `items` from start to end (a database connection stays in one thread); if
    the consumer stops early, the producer is told to stop and `items` is closed.
    """
    queue: Queue = Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item: object) -> bool:
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.05)
                return True
            except Full:
                continue
        return False

    def produce() -> None:
        iterator = iter(items)
        try:
            for item in iterator:
                if not offer(item):
                    return
            offer(_DONE)
        except BaseException as error:  # handed to the consumer, who raises it
            offer(_Failure(error))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    producer = threading.Thread(target=produce, name="prefetch", daemon=True)
    producer.start()
    try:
        while True:
            try:
                item = queue.get(timeout=0.05)
            except Empty:
                if not producer.is_alive() and queue.empty():
                    raise RuntimeError("The reading thread stopped without a word.") from None
                continue
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stop.set()
        producer.join()
