"""The access and portability bundle a person downloads, built from the demo CRM."""

import csv
import hashlib
import io
import json
import sqlite3
import zipfile
from datetime import UTC, datetime

import pytest

from dsr.domain.dataset import SubjectIdentities
from dsr.encrypted_files import EncryptedFileError
from dsr.fulfilment import bundle_html
from dsr.fulfilment.bundle import BundleKind, BundleRequest, build_bundle, open_bundle
from dsr.sources.demo_crm import ASHA
from dsr.sources.sql_connection import SourceError

KEY = bytes(range(32))
WHEN = datetime(2025, 5, 6, 7, 8, 9, tzinfo=UTC)


def request(kind=BundleKind.ACCESS, email=ASHA.email, **findings) -> BundleRequest:
    return BundleRequest("DSR-2025-0042", kind, WHEN, SubjectIdentities.of(email=email), findings)


def unzip(path, keys=(KEY,)) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(b"".join(open_bundle(path, list(keys)))))


@pytest.fixture
def access_bundle(tmp_path, demo_dataset, demo_profile, crm_environ):
    path = tmp_path / "bundle.zip.enc"
    summary = build_bundle(
        path, demo_dataset, demo_profile, request(events_sheet="Two rows (webinars in March)."), [KEY], crm_environ
    )
    return path, summary


def test_every_file_matches_its_checksum_in_the_manifest(access_bundle):
    path, summary = access_bundle
    archive = unzip(path)
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["request"] == {
        "reference": "DSR-2025-0042",
        "type": "access",
        "generated_at": "2025-05-06T07:08:09+00:00",
        "organisation": "Acme CRM (demo)",
    }
    listed = {f["name"]: f for f in manifest["files"]}
    assert set(listed) | {"manifest.json"} == set(archive.namelist())
    for name, entry in listed.items():
        content = archive.read(name)
        assert (len(content), hashlib.sha256(content).hexdigest()) == (entry["size"], entry["sha256"])
    assert archive.testzip() is None
    assert summary.size == path.stat().st_size


def test_data_json_holds_every_row_with_its_fields(access_bundle):
    data = json.loads(unzip(access_bundle[0]).read("data.json"))
    assert data["request"]["reference"] == "DSR-2025-0042"
    assert data["subject"] == {"email": ASHA.email}
    (crm,) = data["systems"]
    tables = {t["name"]: t for t in crm["tables"]}
    assert {name: t["row_count"] for name, t in tables.items()} == ASHA.rows
    assert all(len(t["rows"]) == t["row_count"] for t in tables.values())
    (customer,) = tables["customers"]["rows"]
    assert customer["full_name"] == "Asha Verma" and customer["account_number"] == "AC-100001"
    email_field = next(f for f in tables["customers"]["fields"] if f["name"] == "email")
    assert email_field == {
        "name": "email",
        "category": "Contact details",
        "purpose": "Providing and supporting the CRM service",
    }
    others = {o["key"]: o["finding"] for o in data["other_systems"]}
    assert others == {"events_sheet": "Two rows (webinars in March).", "billing_partner": ""}
    facts = data["about_processing"]
    assert {r["key"] for r in facts["rights"]} == {"access", "portability", "correction", "deletion",
                                                  "consent_withdrawal", "restriction", "objection"}  # fmt: skip
    assert "Payment processor" in {r["label"] for r in facts["recipients"]}
    assert "Information Commissioner's Office" in {c["name"] for c in facts["complaints"]}


def test_one_csv_per_table_with_a_header_row(access_bundle):
    archive = unzip(access_bundle[0])
    with archive.open("csv/crm/invoices.csv") as raw:
        rows = list(csv.reader(io.TextIOWrapper(raw, encoding="utf-8", newline="")))
    assert rows[0] == ["id", "customer_id", "invoice_number", "issued_at", "amount", "currency", "billing_name",
                       "billing_address", "status"]  # fmt: skip
    assert len(rows) == 1 + ASHA.rows["invoices"]
    assert {r[6] for r in rows[1:]} == {"Asha Verma"}
    names = [n for n in archive.namelist() if n.startswith("csv/")]
    assert len(names) == 8 and "csv/crm/ticket_replies.csv" in names


def test_index_html_reads_as_a_page_about_the_person(access_bundle):
    page = unzip(access_bundle[0]).read("index.html").decode()
    assert "Your data held by Acme CRM (demo)" in page
    assert "<h2>Acme CRM database</h2>" in page and "<dt>Contact details</dt>" in page
    assert "12 rows" in page  # the call logs
    assert "Two rows (webinars in March)." in page
    assert "How long we keep it" in page and "8 years after the end of the financial year" in page
    assert "Data Protection Board of India" in page


def test_hostile_values_are_shown_as_text_never_run(tmp_path, crm_path, demo_dataset, demo_profile):
    copy = tmp_path / "crm.sqlite3"
    copy.write_bytes(crm_path.read_bytes())
    with sqlite3.connect(copy) as db:
        db.execute("UPDATE support_tickets SET subject = ? WHERE customer_id = 1", ('<script>alert("x")</script>',))
    path = tmp_path / "bundle"
    build_bundle(path, demo_dataset, demo_profile, request(), [KEY], {"DSR_DEMO_CRM_URL": f"sqlite:///{copy}"})
    page = unzip(path).read("index.html").decode()
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "default-src 'none'" in page  # and the page forbids scripts anyway


def test_big_tables_show_their_first_rows_and_point_to_the_csv(tmp_path, demo_dataset, demo_profile, crm_environ,
                                                              monkeypatch):  # fmt: skip
    monkeypatch.setattr(bundle_html, "PREVIEW_ROWS", 5)
    path = tmp_path / "bundle"
    build_bundle(path, demo_dataset, demo_profile, request(), [KEY], crm_environ)
    archive = unzip(path)
    page = archive.read("index.html").decode()
    assert (
        "30 rows;\n    the first 5 are shown here and all of them are in <code>csv/crm/usage_events.csv</code>" in page
    )
    assert len(archive.read("csv/crm/usage_events.csv").decode().splitlines()) == 31


def test_portability_is_the_machine_readable_part_only(tmp_path, demo_dataset, demo_profile, crm_environ):
    path = tmp_path / "portable"
    build_bundle(path, demo_dataset, demo_profile, request(BundleKind.PORTABILITY), [KEY], crm_environ)
    archive = unzip(path)
    assert "index.html" not in archive.namelist()
    assert {n.split("/")[0] for n in archive.namelist()} == {"data.json", "csv", "manifest.json"}
    data = json.loads(archive.read("data.json"))
    assert "about_processing" not in data
    assert data["request"]["type"] == "portability"


def test_the_stored_file_is_encrypted_and_refused_when_tampered_with(access_bundle, tmp_path):
    path, _ = access_bundle
    stored = path.read_bytes()
    assert not zipfile.is_zipfile(path)
    assert b"Asha" not in stored and b"asha.verma" not in stored
    tampered = tmp_path / "tampered"
    tampered.write_bytes(stored[:500] + bytes([stored[500] ^ 1]) + stored[501:])
    with pytest.raises(EncryptedFileError, match="altered"):
        b"".join(open_bundle(tampered, [KEY]))
    with pytest.raises(EncryptedFileError, match="no longer configured"):
        b"".join(open_bundle(path, [bytes(32)]))


def test_a_failed_build_leaves_no_file_behind(tmp_path, demo_dataset, demo_profile):
    path = tmp_path / "bundle"
    with pytest.raises(SourceError):
        build_bundle(path, demo_dataset, demo_profile, request(), [KEY], {"DSR_DEMO_CRM_URL": "sqlite:///nowhere.db"})
    assert list(tmp_path.iterdir()) == []
