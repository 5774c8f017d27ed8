"""Blueprint registration and the cross-cutting web concerns (sessions, headers, errors)."""

from __future__ import annotations

from flask import Flask

from dsr.web import errors, filters, security, sessions
from dsr.web.admin.views import bp as admin_bp
from dsr.web.api.views import bp as api_bp
from dsr.web.auth.views import bp as auth_bp
from dsr.web.hooks import bp as hooks_bp
from dsr.web.public.views import bp as public_bp
from dsr.web.staff.views import bp as staff_bp


def register_web(app: Flask) -> None:
    # A doubled slash (or an encoded one, /requests/%2F0) is not found rather than redirected: machine
    # callers of the API and the webhooks get their JSON 404, never an HTML 308 to some other path.
    app.url_map.merge_slashes = False
    sessions.init_app(app)
    security.init_app(app)
    filters.init_app(app)
    errors.init_app(app)
    app.register_blueprint(public_bp)
    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(staff_bp, url_prefix="/staff")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(hooks_bp)
    app.register_blueprint(api_bp, url_prefix="/api/v1")
