"""Errors raised by domain rules; services let them through and views turn them into messages."""


class DomainError(Exception):
    """A business rule refused the operation; the message is safe to show to staff."""


class IllegalTransition(DomainError):
    def __init__(self, status: str, action: str) -> None:
        super().__init__(f"A request that is {status.replace('_', ' ')} cannot be {action.replace('_', ' ')}.")
        self.status = status
        self.action = action


class ClockError(DomainError):
    """The legal clock refused a pause, resume or extension."""
