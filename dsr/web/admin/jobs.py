"""Admin → Jobs: each background job, its schedule, last run and outcome, next run, and "run now".

"Run now" runs the job in this request, recorded like any other run: every job is safe to run
beside a scheduler process (dsr.jobs.scheduler), and it works where no scheduler runs at all.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm

from dsr.extensions import db
from dsr.models import JobTrigger
from dsr.services.job_runs import last_runs, next_run_times, recent_runs
from dsr.web.admin.views import bp
from dsr.web.sessions import current_actor, organisation


class RunNowForm(FlaskForm):
    """No fields: the CSRF token is the whole form."""


def _jobs():
    """dsr.jobs is imported when a page needs it: it uses this package's session helpers itself."""
    from dsr.jobs import runs, scheduler, tasks

    return tasks.JOBS, runs.run_recorded, scheduler.schedule_text


@bp.route("/jobs")
def jobs():
    JOBS, _, schedule_text = _jobs()
    timezone = organisation().timezone
    latest = last_runs(db.session, list(JOBS))
    upcoming = next_run_times(db.session)
    rows = [
        {
            "id": job_id,
            "about": (function.__doc__ or "").strip().splitlines()[0] if function.__doc__ else "",
            "schedule": schedule_text(current_app, job_id, timezone),
            "last": latest.get(job_id),
            "scheduled": job_id in upcoming,
            "next": upcoming.get(job_id),
        }
        for job_id, (function, _) in JOBS.items()
    ]
    return render_template("admin/jobs.html", jobs=rows, recent=recent_runs(db.session), form=RunNowForm())


@bp.route("/jobs/<job_id>/run", methods=["POST"])
def run_job(job_id: str):
    JOBS, run_recorded, _ = _jobs()
    if job_id not in JOBS:
        abort(404)
    if not RunNowForm().validate_on_submit():
        abort(400)
    result = run_recorded(
        current_app._get_current_object(), job_id, JOBS[job_id][0], JobTrigger.MANUAL, current_actor()
    )
    if result.error:
        flash(f"{job_id} failed after {result.seconds:.2f} s: {result.error}.", "error")
    else:
        flash(f"{job_id} ran in {result.seconds:.2f} s.", "success")
    return redirect(url_for("admin.jobs"))
