"""Stopping a scheduler process cleanly.

A process manager stops `flask dsr scheduler` with SIGTERM (Ctrl+C sends SIGINT). The scheduler then
starts nothing new and each running job stops at its next safe point: the outbox once the message it is
sending has been answered and recorded, the reminder sweeps and minimisation after the batch they are
committing, the fulfilment runner before it claims another job (a bundle or erasure in hand runs to its
end; one killed instead resumes from its checkpoint or starts again). The next run does the rest, so a
stop loses nothing and sends nothing twice.
"""

from __future__ import annotations

import threading

_requested = threading.Event()


def request_stop() -> None:
    _requested.set()


def stopping() -> bool:
    """True once this process was asked to stop: finish the unit of work in hand, start no other."""
    return _requested.is_set()
