"""Checks on an exported bundle ZIP that a person receiving it would care about."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

from dsr.sources.demo_crm import DemoPerson
from tests.sources.test_sql_lookup import expected_ids


def open_checked_bundle(content: bytes, crm_path: Path, person: DemoPerson) -> zipfile.ZipFile:
    """A valid ZIP whose manifest checksums match and whose data.json holds exactly the person's rows."""
    archive = zipfile.ZipFile(io.BytesIO(content))
    assert archive.testzip() is None
    manifest = json.loads(archive.read("manifest.json"))
    listed = {entry["name"]: entry for entry in manifest["files"]}
    assert set(listed) | {"manifest.json"} == set(archive.namelist())
    for name, entry in listed.items():
        data = archive.read(name)
        assert (len(data), hashlib.sha256(data).hexdigest()) == (entry["size"], entry["sha256"]), name
    (crm,) = json.loads(archive.read("data.json"))["systems"]
    found = {table["name"]: {row["id"] for row in table["rows"]} for table in crm["tables"] if table["rows"]}
    assert found == expected_ids(crm_path, person.account_number, person.email, person.phone)
    return archive
