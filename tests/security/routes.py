"""Every route the app registers, sorted into the classes the access rules are written for.

A route that fits no class fails the suite: deciding who may use a new route is part of adding it.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from dsr import create_app

# Public API endpoints are marked @public (dsr.web.api.auth); every other API endpoint needs a key.
PUBLIC_API_MARK = "public"


@dataclass(frozen=True)
class Route:
    endpoint: str
    rule: str
    method: str
    arguments: tuple[str, ...]
    area: str

    def __str__(self) -> str:
        return f"{self.method} {self.rule}"


def area_of(app: Flask, endpoint: str, rule: str) -> str:
    blueprint = endpoint.split(".")[0] if "." in endpoint else endpoint
    if endpoint == "static":
        return "static"
    if blueprint in ("staff", "admin", "auth"):
        return blueprint
    if blueprint == "hooks" or "/hooks/" in rule:  # signed callbacks: /hooks/…, /api/hooks/…
        return "hooks"
    if rule.startswith("/api/"):
        view = app.view_functions[endpoint]
        return "api-public" if getattr(view, "api_scope", None) == PUBLIC_API_MARK else "api"
    if blueprint == "public":
        if rule.startswith("/my-request/"):
            return "requester"  # reached through a status grant for that very request
        if "<token>" in rule:
            return "token"  # the signed token in the path is the credential
        return "public"
    raise AssertionError(f"classify {rule} ({endpoint}) in tests/security/routes.py and give it access rules")


def all_routes() -> list[Route]:
    app = create_app("test")
    found = []
    for rule in app.url_map.iter_rules():
        area = area_of(app, rule.endpoint, rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append(Route(rule.endpoint, rule.rule, method, tuple(sorted(rule.arguments)), area))
    return sorted(found, key=lambda r: (r.rule, r.method))


ROUTES = all_routes()
