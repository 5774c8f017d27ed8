"""The erasure engine stopped part-way — by an error, or by losing its checkpoint store just after a
batch committed — resumes from its checkpoint and ends exactly as an uninterrupted run would, with no
batch applied twice. (test_erasure_job_restart.py kills the app's real erasure job in its own process.)

Runs on every source database, like test_erasure.py (DSR_SERVER_TESTS picks the servers).
"""

from collections import defaultdict

import pytest

from dsr.fulfilment.erasure import MemoryCheckpoint, execute_erasure
from dsr.fulfilment.erasure_plan import plan_erasure
from dsr.sources.demo_crm import ASHA
from tests.fulfilment.erasure_helpers import SECRET, identities_of
from tests.sources.source_databases import source_crm_fixture  # noqa: F401


class Interrupted(Exception):
    pass


def reference_run(crm, dataset):
    """The end state and counts of an uninterrupted erasure of Asha; leaves the CRM as it was before."""
    identities = identities_of(ASHA)
    plan = plan_erasure(dataset, identities, crm.environ)
    result = execute_erasure(
        plan, dataset, identities, MemoryCheckpoint(), secret=SECRET, batch_size=2, environ=crm.environ
    )
    checksums = crm.checksums()
    crm.reset()
    return plan, result, checksums


def assert_no_batch_twice(batches) -> None:
    ranges = defaultdict(list)
    for batch in batches:
        ranges[batch.table].append((batch.first_key, batch.last_key))
    for table, spans in ranges.items():
        spans.sort()
        for (_, previous_last), (first, _) in zip(spans, spans[1:], strict=False):
            assert first > previous_last, f"{table}: batches overlap: {spans}"


def test_an_erasure_stopped_by_an_error_resumes_where_it_stopped(source_crm, demo_dataset):
    plan, reference, checksums = reference_run(source_crm, demo_dataset)
    identities, environ = identities_of(ASHA), source_crm.environ
    assert plan_erasure(demo_dataset, identities, environ) == plan  # the same rows, the same plan
    checkpoint, batches = MemoryCheckpoint(), []

    def stop_after_five(batch) -> None:
        batches.append(batch)
        if len(batches) == 5:
            raise Interrupted

    with pytest.raises(Interrupted):
        execute_erasure(
            plan, demo_dataset, identities, checkpoint, secret=SECRET, batch_size=2, environ=environ,
            progress=stop_after_five,
        )  # fmt: skip
    saved = checkpoint.load()
    assert saved["in_flight"] is None and sum(t["batches"] for t in saved["tables"].values()) == 5
    assert source_crm.checksums() != checksums

    result = execute_erasure(
        plan, demo_dataset, identities, checkpoint, secret=SECRET, batch_size=2, environ=environ,
        progress=batches.append,
    )  # fmt: skip

    assert result.resumed and result.tables == reference.tables
    assert source_crm.checksums() == checksums
    assert_no_batch_twice(batches)
    assert sum(b.deleted + b.updated for b in batches) == plan.totals["rows_to_delete"] + plan.totals["rows_to_update"]
    assert batches[-1].rows_done == batches[-1].rows_planned == 65


class LosesTheCountAfterCommit(MemoryCheckpoint):
    """The app database goes away just after the third batch committed in the source database."""

    def __init__(self) -> None:
        super().__init__()
        self.committed = 0

    def save(self, state: dict) -> None:
        if self.state and self.state["in_flight"] and state["in_flight"] is None:
            self.committed += 1
            if self.committed == 3:
                raise ConnectionError("the app database went away")
        super().save(state)


def test_a_batch_committed_but_not_counted_is_counted_on_resume_not_repeated(source_crm, demo_dataset):
    plan, reference, checksums = reference_run(source_crm, demo_dataset)
    identities, environ = identities_of(ASHA), source_crm.environ
    checkpoint, batches = LosesTheCountAfterCommit(), []
    with pytest.raises(ConnectionError):
        execute_erasure(
            plan, demo_dataset, identities, checkpoint, secret=SECRET, batch_size=2, environ=environ,
            progress=batches.append,
        )  # fmt: skip
    assert checkpoint.load()["in_flight"] is not None  # what the store last heard: a batch about to commit
    result = execute_erasure(
        plan, demo_dataset, identities, checkpoint, secret=SECRET, batch_size=2, environ=environ,
        progress=batches.append,
    )  # fmt: skip
    assert result.tables == reference.tables  # the lost batch is counted once, from its in-flight record
    assert source_crm.checksums() == checksums
    assert len(batches) == sum(t.batches for t in reference.tables) - 1  # it was not done again
    assert_no_batch_twice(batches)
