"""The same subject lookup against the demo CRM in SQLite, PostgreSQL and MariaDB (see tests/servers.py)."""

import json

import pytest

from dsr.domain.dataset import SubjectIdentities
from dsr.services.inventory import load_dataset
from dsr.sources.demo_crm import DEMO_PEOPLE, populate_demo_crm
from dsr.sources.sql import count_subject_rows, find_subject
from tests.servers import database_url, server_kinds
from tests.sources.crm_fixtures import DEMO_DATASET


@pytest.fixture(scope="module", params=["sqlite", *server_kinds()])
def crm(request, tmp_path_factory):
    kind = request.param
    url = (
        f"sqlite:///{tmp_path_factory.mktemp('crm')}/crm.sqlite3"
        if kind == "sqlite"
        else database_url(kind, "dsr_crm_lookup_test")
    )
    populate_demo_crm(url, people=30, seed=3)
    environ = {"DSR_DEMO_CRM_URL": url}
    return load_dataset(DEMO_DATASET, environ=environ), environ


@pytest.mark.parametrize("person", DEMO_PEOPLE, ids=lambda p: p.full_name.split()[0])
def test_lookup_finds_exactly_each_demo_persons_rows(crm, person):
    dataset, environ = crm
    identities = SubjectIdentities.of(email=person.email, phone=person.phone, customer_id=person.account_number)
    records = find_subject(dataset, identities, environ)
    rows = [(batch.table.name, row) for batch in records for row in batch.rows]
    found = {table: sum(1 for t, _ in rows if t == table) for table in person.rows}
    assert found == person.rows
    text = json.dumps([list(map(str, row)) for _, row in rows])
    for other in DEMO_PEOPLE:
        if other is not person:
            assert other.email not in text.lower()
    counts = count_subject_rows(dataset, identities, environ)
    assert {table: n for (_, table), n in counts.items() if table in person.rows} == person.rows


def test_lookup_by_phone_and_customer_id(crm):
    dataset, environ = crm
    asha = DEMO_PEOPLE[0]
    by_id = count_subject_rows(dataset, SubjectIdentities.of(customer_id=asha.account_number), environ)
    by_phone = count_subject_rows(dataset, SubjectIdentities.of(phone=asha.phone), environ)
    assert by_id[("crm", "customers")] == 1 and by_phone[("crm", "customers")] == 1
