"""Friendly error pages (HTML for people, JSON under /api) for every HTTP error and crashes."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from dsr.extensions import db
from dsr.web.api import errors as api_errors

log = logging.getLogger(__name__)
# Programs call these (API clients, signed webhooks): they get JSON errors, never an HTML page.
MACHINE_PATHS = ("/api/", "/hooks/")

MESSAGES = {
    400: ("Bad request", "The request could not be understood. Please go back and try again."),
    403: ("Not allowed", "Your account does not have access to this page."),
    404: ("Page not found", "There is nothing at this address. Check the link, or start again from the home page."),
    405: ("Not allowed", "This page cannot be used that way."),
    413: ("Too large", "What you sent is larger than this site accepts."),
    429: ("Too many attempts", "You have tried this too often. Please wait a little and try again."),
    500: (
        "Something went wrong",
        "The error has been logged. Nothing you entered was saved half-way; please try again.",
    ),
    503: ("Temporarily unavailable", "The service is briefly unavailable. Please try again in a minute."),
}


def render_error(code: int, message: str | None = None):
    title, default_message = MESSAGES.get(code, ("Error", "Something went wrong."))
    if request.path.startswith(MACHINE_PATHS):
        return jsonify(error=title, reason=message or default_message, status=code), code
    return render_template("errors/error.html", code=code, title=title, message=message or default_message), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        # The route, not the path: paths carry tokens (/verify/<token>) that must not reach the logs.
        rule = request.url_rule or "unmatched route"
        log.info("CSRF check refused %s %s: %s", request.method, rule, error.description)
        return render_error(
            400, "This form has expired or was not sent from this site. Please reload the page and try again."
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = error.code or 500
        if code in (301, 302, 303, 307, 308):
            return error
        if request.path.startswith(api_errors.API_PREFIX):
            return api_errors.http_error(error)
        return render_error(code)

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError):
        """The database is down, locked or unreachable: say so, and that nothing was half-saved."""
        db.session.rollback()
        log.warning(
            "Database unavailable on %s %s: %s",
            request.method,
            request.url_rule or "unmatched route",
            type(error.orig).__name__ if error.orig is not None else "OperationalError",
        )
        reason = "We could not reach our database just now, so nothing was saved. Please try again in a minute."
        if request.path.startswith(api_errors.API_PREFIX):
            return api_errors.api_error(503, reason)
        return render_error(503, reason)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        db.session.rollback()
        # The traceback goes to the log; request data (which may be personal) does not.
        log.exception("Unhandled error on %s %s", request.method, request.url_rule or "unmatched route")
        if request.path.startswith(api_errors.API_PREFIX):
            return api_errors.unexpected_error()
        return render_error(InternalServerError.code)
