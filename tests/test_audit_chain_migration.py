"""Migration 0009 chains the events a database already holds, so an upgraded database verifies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import flask_migrate
from sqlalchemy import MetaData, insert, select

from dsr import create_app
from dsr.extensions import db
from dsr.models import AuditEvent
from dsr.services.audit_verify import verify_chain


def test_upgrading_a_populated_database_chains_its_events_in_id_order(tmp_path):
    app = create_app("test", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.sqlite3'}"})
    with app.app_context():
        flask_migrate.upgrade(revision="0008")
        events = MetaData()
        events.reflect(bind=db.engine, only=["audit_event"])
        table = events.tables["audit_event"]
        t0 = datetime(2025, 1, 1, 12, 0, 0, 123456)  # stored naive UTC, microseconds kept
        with db.engine.begin() as connection:
            connection.execute(
                insert(table),
                [
                    {
                        "occurred_at": t0 + timedelta(minutes=n),
                        "actor_kind": "staff" if n % 2 else "system",
                        "actor_label": f"writer {n}",
                        "action": "request.note_added",
                        "details": {"n": n, "note": "café"},
                    }
                    for n in range(5)
                ],
            )
        flask_migrate.upgrade()
        report = verify_chain(db.session)
        assert report.ok and report.checked == 5, report.describe()
        rows = db.session.execute(select(AuditEvent.id, AuditEvent.chain_seq).order_by(AuditEvent.id)).all()
        assert [seq for _, seq in rows] == [1, 2, 3, 4, 5]
        assert rows[0].id < rows[-1].id
        first = db.session.get(AuditEvent, rows[0].id)
        assert first.occurred_at == t0.replace(tzinfo=UTC) and first.details == {"n": 0, "note": "café"}
        db.session.remove()
        flask_migrate.downgrade(revision="0008")  # and back: the revision undoes cleanly
        flask_migrate.upgrade()
        assert verify_chain(db.session).ok
        db.engine.dispose()
