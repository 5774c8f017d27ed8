"""Every API answer that is not a success: JSON {error, reason, status}, with a code a program can test
and a reason a person can act on. dsr.web.errors sends every HTTP error under /api/v1/ here."""

from __future__ import annotations

from flask import Response, jsonify, request
from werkzeug.exceptions import HTTPException

API_PREFIX = "/api/v1/"

# The codes the OpenAPI document lists for `error`.
CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "insufficient_scope",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


def api_error(status: int, reason: str, error: str | None = None, **extra) -> Response:
    response = jsonify(error=error or CODES.get(status, "error"), reason=reason, status=status, **extra)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="DSR Desk API"'
    return response


def http_error(error: HTTPException) -> Response:
    """Werkzeug's and Flask-Limiter's errors (no such endpoint, wrong method, too many calls…) as API errors."""
    code = error.code or 500
    if code == 404:
        return api_error(404, "There is no such endpoint. The endpoints are listed in /api/v1/openapi.json.")
    if code == 405:
        allowed = sorted(m for m in (getattr(error, "valid_methods", None) or []) if m not in ("HEAD", "OPTIONS"))
        response = api_error(405, f"{request.method} is not accepted here; use {' or '.join(allowed) or 'another'}.")
        response.headers["Allow"] = ", ".join(allowed)
        return response
    if code == 429:
        return api_error(
            429,
            f"Too many calls from this API key (limit: {error.description}). "
            "Wait for the number of seconds in the Retry-After header, then try again.",
        )
    if code == 413:
        return api_error(413, "The body is larger than this server accepts.")
    return api_error(code, error.description or "The request could not be handled.", CODES.get(code, "error"))


def unexpected_error() -> Response:
    return api_error(500, "Something went wrong on our side and has been logged. Nothing was saved; try again.")
