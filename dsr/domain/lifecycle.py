"""The request lifecycle as one transition table; any move not in it raises IllegalTransition.

submitted --verify--> verified --start--> in_progress --complete--> completed
verified / in_progress --request_info--> awaiting_requester --requester_replied--> in_progress
submitted --expire--> expired (not verified in time)
any open state --reject--> rejected | --withdraw--> withdrawn
completed / rejected --reopen--> in_progress (inside the reopen window; a service rule)
"""

from enum import StrEnum

from dsr.domain.errors import IllegalTransition


class Status(StrEnum):
    SUBMITTED = "submitted"
    VERIFIED = "verified"
    IN_PROGRESS = "in_progress"
    AWAITING_REQUESTER = "awaiting_requester"
    COMPLETED = "completed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"

    @property
    def is_open(self) -> bool:
        return self in OPEN_STATUSES

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Action(StrEnum):
    VERIFY = "verify"
    EXPIRE = "expire"
    START = "start"
    REQUEST_INFO = "request_info"
    REQUESTER_REPLIED = "requester_replied"
    COMPLETE = "complete"
    REJECT = "reject"
    WITHDRAW = "withdraw"
    REOPEN = "reopen"


OPEN_STATUSES = frozenset({Status.SUBMITTED, Status.VERIFIED, Status.IN_PROGRESS, Status.AWAITING_REQUESTER})
CLOSED_STATUSES = frozenset(Status) - OPEN_STATUSES

TRANSITIONS: dict[tuple[Status, Action], Status] = {
    (Status.SUBMITTED, Action.VERIFY): Status.VERIFIED,
    (Status.SUBMITTED, Action.EXPIRE): Status.EXPIRED,
    (Status.VERIFIED, Action.START): Status.IN_PROGRESS,
    (Status.VERIFIED, Action.REQUEST_INFO): Status.AWAITING_REQUESTER,
    (Status.IN_PROGRESS, Action.REQUEST_INFO): Status.AWAITING_REQUESTER,
    (Status.AWAITING_REQUESTER, Action.REQUESTER_REPLIED): Status.IN_PROGRESS,
    # Consent withdrawal completes straight from verified: it takes effect at once.
    (Status.VERIFIED, Action.COMPLETE): Status.COMPLETED,
    (Status.IN_PROGRESS, Action.COMPLETE): Status.COMPLETED,
    (Status.COMPLETED, Action.REOPEN): Status.IN_PROGRESS,
    (Status.REJECTED, Action.REOPEN): Status.IN_PROGRESS,
    **{(status, Action.REJECT): Status.REJECTED for status in OPEN_STATUSES},
    **{(status, Action.WITHDRAW): Status.WITHDRAWN for status in OPEN_STATUSES},
}


def next_status(status: Status | str, action: Action | str) -> Status:
    """The state a request moves to, or IllegalTransition when the table has no such move."""
    try:
        return TRANSITIONS[(Status(status), Action(action))]
    except (KeyError, ValueError):
        raise IllegalTransition(str(status), str(action)) from None


def allowed_actions(status: Status | str) -> list[Action]:
    """Actions the table allows from a state, in declaration order (used to draw buttons)."""
    return [action for (source, action) in TRANSITIONS if source == Status(status)]
