"""The `flask dsr …` commands: accounts, the demo organisation, rules."""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import select

from dsr.domain.actors import Actor
from dsr.domain.errors import DomainError
from dsr.extensions import db
from dsr.models import Role, StaffUser
from dsr.services import users
from dsr.services.rules import seed_default_rules

DEMO_ADMIN_EMAIL = "admin@acme-crm.example"
cli_actor = Actor.system("command line")


def register_cli(app: Flask) -> None:
    from dsr.cli_audit import audit_group

    dsr_group.add_command(audit_group)
    app.cli.add_command(dsr_group)


@click.group("dsr", help="DSR Desk administration.")
def dsr_group() -> None:
    pass


@dsr_group.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.STAFF.value, show_default=True)
@click.password_option(help="Prompted for when not given (at least 12 characters).")
def create_user(email: str, name: str, role: str, password: str) -> None:
    """Create a staff or admin account."""
    try:
        user = users.create_user(db.session, cli_actor, datetime.now(UTC), email, name, Role(role), password)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"Created {user.role} account {user.email}.")


@dsr_group.command("seed-rules")
def seed_rules() -> None:
    """Insert any missing default legal-clock rules (edited rules are left alone)."""
    added = seed_default_rules(db.session)
    db.session.commit()
    click.echo(f"{added} rule(s) added.")


@dsr_group.command("demo")
@click.option("--reset-password", is_flag=True, help="Give the demo admin a new password and print it.")
def demo(reset_password: bool) -> None:
    """Load the demo organisation: default rules, a demo admin whose password is printed once, a sample register."""
    now = datetime.now(UTC)
    seed_default_rules(db.session)
    admin = db.session.scalar(select(StaffUser).where(StaffUser.email == DEMO_ADMIN_EMAIL))
    password = None
    if admin is None:
        password = secrets.token_urlsafe(12)
        admin = users.create_user(db.session, cli_actor, now, DEMO_ADMIN_EMAIL, "Demo Admin", Role.ADMIN, password)
    elif reset_password:
        password = secrets.token_urlsafe(12)
        users.set_password(db.session, cli_actor, now, admin, password)
    db.session.commit()
    # The demo CRM goes where datasets/demo.yaml looks for it: DSR_DEMO_CRM_URL, else instance/.
    from sqlalchemy.engine import make_url

    from dsr.sources.demo_crm import DEFAULT_PATH, create_demo_crm

    crm_url = make_url(os.environ.get("DSR_DEMO_CRM_URL") or f"sqlite:///{DEFAULT_PATH}")
    if crm_url.get_backend_name() != "sqlite" or not crm_url.database:
        click.echo(f"Demo CRM: DSR_DEMO_CRM_URL points at a {crm_url.get_backend_name()} database; not created here.")
    elif Path(crm_url.database).exists():
        click.echo(f"Demo CRM: {crm_url.database} (already there; `flask --app app dsr demo-crm` rebuilds it)")
    else:
        click.echo(f"Demo CRM: created {create_demo_crm(crm_url.database)}")
    from dsr.demo_register import load_sample_register

    samples = load_sample_register(db.session, now, admin)
    db.session.commit()
    if samples:
        click.echo(f"Demo register: {samples} sample requests filed and worked (the queue shows them).")
    click.echo("")
    click.echo("  Demo admin login")
    click.echo(f"    email:    {admin.email}")
    if password:
        click.echo(f"    password: {password}   (shown once: note it now)")
    else:
        click.echo(
            "    password: shown when it was created; run `flask --app app dsr demo --reset-password` for a new one"
        )
    click.echo("    Admins add an authenticator app (TOTP) at their first sign-in.")
    click.echo("")


@dsr_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Development: serve the app with the scheduler running in the same process."""
    from werkzeug.serving import run_simple

    from dsr.jobs.scheduler import start_background

    app = current_app._get_current_object()
    scheduler = start_background(app)
    try:  # Flask.run() refuses to run inside the flask CLI, so use Werkzeug's server directly.
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        scheduler.shutdown(wait=False)


@dsr_group.command("scheduler")
def scheduler_process() -> None:
    """Production: run the scheduled jobs in this process (beside any number of web workers)."""
    from dsr.jobs.scheduler import run_blocking

    click.echo("Scheduler running; press Ctrl+C to stop.")
    run_blocking(current_app._get_current_object())


@dsr_group.command("run-jobs")
@click.option("--once", is_flag=True, required=True, help="Run every job once and exit.")
def run_jobs(once: bool) -> None:
    """Run every job once, each doing only the work that is due (for cron and tests); exit 1 if one failed."""
    from dsr.jobs.tasks import run_all_once

    results = run_all_once(current_app._get_current_object())
    for result in results:
        click.echo(f"ran {result.job_id}: {result.error or result.outcome} ({result.seconds:.2f} s)")
    if any(result.error for result in results):
        raise SystemExit(1)


@dsr_group.command("deliver-outbox")
@click.option("--batch-size", default=50, show_default=True, type=click.IntRange(1, 1000))
def deliver_outbox(batch_size: int) -> None:
    """Send the outbox's due emails and text messages once, through the configured backends."""
    from config import ConfigurationError
    from dsr.notify.delivery import deliver_due, mailer_from_config, sms_from_config

    try:
        mailer, sms = mailer_from_config(current_app.config), sms_from_config(current_app.config)
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None
    report = deliver_due(db.session, datetime.now(UTC), mailer, sms, batch_size)
    db.session.commit()
    click.echo(f"Outbox: {report.sent} sent, {report.retried} to retry, {report.failed} failed.")


@dsr_group.command("demo-crm")
@click.option("--path", type=click.Path(dir_okay=False), help="Where to write it [default: instance/demo_crm.sqlite3].")
@click.option("--people", default=200, show_default=True, type=click.IntRange(0, 100_000), help="Made-up customers.")
@click.option("--seed", default=7, show_default=True, type=int, help="The same seed gives the same people.")
def demo_crm(path: str | None, people: int, seed: int) -> None:
    """(Re)create the demo organisation's CRM: a separate SQLite database of made-up people."""
    from pathlib import Path

    from flask import current_app

    from dsr.sources.demo_crm import DEMO_PEOPLE, create_demo_crm

    target = create_demo_crm(path or Path(current_app.instance_path) / "demo_crm.sqlite3", people=people, seed=seed)
    click.echo(f"Demo CRM written to {target} ({people} made-up customers plus these people to look up):")
    for person in DEMO_PEOPLE:
        click.echo(f"  {person.full_name}: {person.email}, {person.phone}")
    click.echo("datasets/demo.yaml reads it from DSR_DEMO_CRM_URL (default sqlite:///instance/demo_crm.sqlite3).")


@dsr_group.command("export")
@click.option("--email", help="The person's email address.")
@click.option("--phone", help="Their phone number (any format).")
@click.option("--customer-id", help="Their customer id in the organisation's systems.")
@click.option("--portability", is_flag=True, help="The machine-readable part only (data.json and CSV).")
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The ZIP to write."
)
def export(email: str | None, phone: str | None, customer_id: str | None, portability: bool, output: Path) -> None:
    """Export one person's data bundle to a ZIP, recorded as a completed internal request (at least one identifier)."""
    from dsr.domain.dataset import SubjectIdentities
    from dsr.fulfilment.bundle import BundleKind
    from dsr.services.exports import export_bundle
    from dsr.services.inventory import load_dataset
    from dsr.services.organisation import load_profile

    identities = SubjectIdentities.of(email, phone, customer_id)
    if not identities.items():
        raise click.UsageError("Give at least one of --email, --phone, --customer-id.")
    kind = BundleKind.PORTABILITY if portability else BundleKind.ACCESS
    partial = output.with_name(output.name + ".partial")  # a failed export leaves no half-written ZIP
    try:
        profile = load_profile(current_app.config["DSR_PROFILE"])
        inventory = load_dataset(current_app.config["DSR_DATASET"], purposes={p.key for p in profile.purposes})
        with open(partial, "wb") as out:
            result = export_bundle(db.session, cli_actor, datetime.now(UTC), out, inventory, profile, identities, kind)
        os.replace(partial, output)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        db.session.rollback()
        raise click.ClickException(f"Cannot write {output}: {exc.strerror or exc}.") from None
    finally:
        partial.unlink(missing_ok=True)
    db.session.commit()
    click.echo(f"{result.request.reference}: {kind} bundle written to {output}")
    for table, rows in result.summary.row_counts.items():
        click.echo(f"  {table}: {rows} row{'' if rows == 1 else 's'}")


@dsr_group.command("unsubscribe-link")
@click.option("--email", required=True, help="The address the marketing email goes to.")
@click.option("--topic", default="marketing_email", show_default=True, help="The consent topic it withdraws.")
@click.option("--message-id", help="The email's Message-ID, kept as the evidence of the unsubscribe.")
def unsubscribe_link(email: str, topic: str, message_id: str | None) -> None:
    """Print the one-click unsubscribe headers (RFC 8058) for one marketing email."""
    from dsr.web.public.unsubscribe import list_unsubscribe_headers

    try:
        headers = list_unsubscribe_headers(email, topic, message_id)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    for name, value in headers.items():
        click.echo(f"{name}: {value}")


@dsr_group.command("propagate-consent")
def propagate_consent() -> None:
    """Carry consent and restriction changes to the data inventory's systems (webhooks too), once."""
    from dsr.services.propagation import run_due
    from dsr.web.consent import consent_setup
    from dsr.web.sessions import now

    report = run_due(
        db.session, now(), consent_setup(), max_attempts=current_app.config["DSR_PROPAGATION_MAX_ATTEMPTS"]
    )
    db.session.commit()
    click.echo(f"{report.done} done, {report.retried} to retry, {report.failed} failed.")
