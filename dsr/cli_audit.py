"""`flask dsr audit …`: checking the audit trail's hash chain."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from sqlalchemy.exc import SQLAlchemyError

from dsr.domain.actors import Actor
from dsr.extensions import db
from dsr.services.audit_log import record_verification
from dsr.services.audit_verify import verify_chain

cli_actor = Actor.system("command line")


@click.group("audit", help="The audit trail.")
def audit_group() -> None:
    pass


@audit_group.command("verify")
@click.option("--batch-size", default=5000, show_default=True, type=click.IntRange(100, 100_000))
def verify(batch_size: int) -> None:
    """Walk the hash chain; print OK with the count, or the first broken link (exit status 1)."""
    report = verify_chain(db.session, batch=batch_size)
    db.session.rollback()  # end the walk's read transaction; the record goes in a fresh one
    if report.ok:
        click.echo(f"OK: {report.checked} events, chain intact.")
        click.echo(f"Head: event {report.head_seq} of the chain, sha256 {report.head_hash}")
    else:
        click.echo(f"BROKEN: {report.broken.describe()}")
        click.echo(f"The {report.checked} events before it verified.")
    try:
        record_verification(db.session, cli_actor, datetime.now(UTC), report)
        db.session.commit()
    except SQLAlchemyError as exc:  # e.g. a forged row sits where the next event belongs
        db.session.rollback()
        click.echo(f"This check could not be recorded in the audit trail: {exc.__class__.__name__}.", err=True)
    if not report.ok:
        raise SystemExit(1)
