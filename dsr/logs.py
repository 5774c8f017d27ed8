"""Logging set-up: no personal data and no credentials in logs.

Requester links carry signed tokens in their paths, and the staff queue's search puts what was searched
for (an email address, a name) in the query string; access logs (Werkzeug's, gunicorn's) would otherwise
keep working credentials and personal data, so both are redacted.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

TOKEN_PATHS = re.compile(r"/(status|verify|request|unsubscribe)/([A-Za-z0-9._~-]{16,})")
# The staff queue's search box is a GET form (shareable filters): its value is an email address or a name.
PERSONAL_QUERY = re.compile(r"(^|[?&])(q|email|phone|name)=[^&\s\"]*")


def redact(value: object) -> object:
    if not isinstance(value, str):
        return value
    return PERSONAL_QUERY.sub(r"\1\2=[redacted]", TOKEN_PATHS.sub(r"/\1/[redacted]", value))


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # Werkzeug logs with positional arguments; gunicorn's access log with one mapping of atoms.
        if isinstance(record.args, Mapping):
            record.args = {key: redact(value) for key, value in record.args.items()}
        elif record.args:
            record.args = tuple(redact(value) for value in record.args)
        record.msg = redact(record.msg)
        return True


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in ("werkzeug", "gunicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
    # One line per job run is noise; failures still come through as warnings and errors.
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, logging.getLevelName(level)))
