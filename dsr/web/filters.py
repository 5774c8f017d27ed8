"""Template filters: dates in the organisation's time zone, labels for domain values."""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from dsr.domain.requests import RequestType, jurisdiction_label
from dsr.web.sessions import clock


def local_date(moment: datetime | None) -> str:
    return moment.astimezone(clock().tz).strftime("%-d %B %Y") if moment else ""


def local_datetime(moment: datetime | None) -> str:
    return moment.astimezone(clock().tz).strftime("%-d %B %Y, %H:%M") if moment else ""


def init_app(app: Flask) -> None:
    app.add_template_filter(local_date)
    app.add_template_filter(local_datetime)
    app.add_template_filter(jurisdiction_label)
    app.add_template_filter(lambda value: RequestType(value).help, "request_type_help")
