import logging

from dsr.logs import RedactTokens


def test_tokens_in_request_paths_are_redacted():
    record = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        '%s - - "%s" %s',
        ("127.0.0.1", "GET /status/IkRTUi0yMDI2.awO8uQ.0RHKjs HTTP/1.1", "302"),
        None,
    )
    RedactTokens().filter(record)
    assert record.getMessage() == '127.0.0.1 - - "GET /status/[redacted] HTTP/1.1" 302'


def test_ordinary_paths_are_left_alone():
    record = logging.LogRecord(
        "werkzeug", logging.INFO, __file__, 1, "GET /request HTTP/1.1 /my-request/DSR-2026-AB", (), None
    )
    RedactTokens().filter(record)
    assert record.getMessage() == "GET /request HTTP/1.1 /my-request/DSR-2026-AB"


def test_gunicorn_access_lines_are_redacted_not_broken():
    """gunicorn logs its access line with one mapping of atoms; the filter must keep it a mapping."""
    atoms = {"h": "10.0.0.1", "r": "GET /verify/Zm9vYmFyYmF6cXV4cXV1eA HTTP/1.1", "s": "200", "q": "q=ada%40x.org"}
    line = '%(h)s "%(r)s" %(s)s %(q)s'
    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, line, (atoms,), None)
    RedactTokens().filter(record)
    assert record.getMessage() == '10.0.0.1 "GET /verify/[redacted] HTTP/1.1" 200 q=[redacted]'


def test_what_staff_searched_for_is_redacted_from_access_lines():
    line = ("127.0.0.1", "GET /staff/?status=open&q=ada@example.org&overdue=y HTTP/1.1", "200")
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '%s - - "%s" %s', line, None)
    RedactTokens().filter(record)
    assert record.getMessage() == '127.0.0.1 - - "GET /staff/?status=open&q=[redacted]&overdue=y HTTP/1.1" 200'
