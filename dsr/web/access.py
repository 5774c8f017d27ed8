"""Role checks installed on a whole blueprint, so every new route is protected by default."""

from __future__ import annotations

from flask import Blueprint, abort, current_app
from flask_login import current_user

from dsr.models import Role


def require_roles(blueprint: Blueprint, *roles: Role) -> None:
    @blueprint.before_request
    def check_role():
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()
        if current_user.role not in roles:
            abort(403)
