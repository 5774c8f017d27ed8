"""The baseline for the intake benchmark: a bare Flask endpoint, served by the same gunicorn setup and
sent the same form POST (so the ratio isolates what DSR Desk does with it)."""

from flask import Flask, request

app = Flask(__name__)


@app.post("/request")
def bare() -> str:
    return "ok" if request.form else "empty"
