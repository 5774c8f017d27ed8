"""Security headers on every response, the proxy set-up, and the safe-redirect check for `next` parameters."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def init_app(app: Flask) -> None:
    hops = app.config.get("DSR_TRUSTED_PROXIES", 0)
    if hops:
        # Behind a load balancer or TLS proxy every client would look like the proxy (one shared rate
        # limit for everybody) and HTTPS like HTTP: take both from the X-Forwarded-* headers the last
        # `hops` proxies set. Never on by default, or any client could claim any address.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        # Requester links carry tokens: a Referer never holds more than our origin (strict-origin), which
        # is also what Flask-WTF's CSRF check insists on seeing over HTTPS (no-referrer failed every form).
        headers.setdefault("Referrer-Policy", "strict-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config.get("DSR_HSTS"):
            headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
        if not request.path.startswith("/static/"):
            headers.setdefault("Cache-Control", "no-store")
        return response


def is_safe_next(target: str | None) -> bool:
    """Only same-site relative paths: no scheme, no host, no protocol-relative or backslash tricks."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    if any(ord(char) < 32 for char in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc
