import itertools

import pytest

from dsr.domain.errors import IllegalTransition
from dsr.domain.lifecycle import OPEN_STATUSES, TRANSITIONS, Action, Status, allowed_actions, next_status

EXPECTED = {
    (Status.SUBMITTED, Action.VERIFY): Status.VERIFIED,
    (Status.SUBMITTED, Action.EXPIRE): Status.EXPIRED,
    (Status.VERIFIED, Action.START): Status.IN_PROGRESS,
    (Status.VERIFIED, Action.REQUEST_INFO): Status.AWAITING_REQUESTER,
    (Status.IN_PROGRESS, Action.REQUEST_INFO): Status.AWAITING_REQUESTER,
    (Status.AWAITING_REQUESTER, Action.REQUESTER_REPLIED): Status.IN_PROGRESS,
    (Status.VERIFIED, Action.COMPLETE): Status.COMPLETED,
    (Status.IN_PROGRESS, Action.COMPLETE): Status.COMPLETED,
    (Status.COMPLETED, Action.REOPEN): Status.IN_PROGRESS,
    (Status.REJECTED, Action.REOPEN): Status.IN_PROGRESS,
    **{(s, Action.REJECT): Status.REJECTED for s in OPEN_STATUSES},
    **{(s, Action.WITHDRAW): Status.WITHDRAWN for s in OPEN_STATUSES},
}


def test_table_is_exactly_the_designed_lifecycle():
    assert TRANSITIONS == EXPECTED


@pytest.mark.parametrize(("status", "action"), list(itertools.product(Status, Action)))
def test_every_pair_either_moves_as_designed_or_raises(status, action):
    if (status, action) in EXPECTED:
        assert next_status(status, action) == EXPECTED[(status, action)]
    else:
        with pytest.raises(IllegalTransition) as raised:
            next_status(status, action)
        assert status.value.replace("_", " ") in str(raised.value)


def test_unknown_names_are_illegal_not_crashes():
    with pytest.raises(IllegalTransition):
        next_status("submitted", "teleport")
    with pytest.raises(IllegalTransition):
        next_status("limbo", "verify")


def test_closed_requests_cannot_be_rejected_or_withdrawn():
    for status in (Status.COMPLETED, Status.REJECTED, Status.WITHDRAWN, Status.EXPIRED):
        assert Action.REJECT not in allowed_actions(status)
        assert Action.WITHDRAW not in allowed_actions(status)


def test_expired_and_withdrawn_are_final():
    assert allowed_actions(Status.EXPIRED) == []
    assert allowed_actions(Status.WITHDRAWN) == []


def test_allowed_actions_from_submitted():
    assert allowed_actions("submitted") == [Action.VERIFY, Action.EXPIRE, Action.REJECT, Action.WITHDRAW]
