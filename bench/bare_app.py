"""The baseline for the intake benchmark: a bare Flask endpoint, served by the same gunicorn setup."""

from flask import Flask

app = Flask(__name__)


@app.post("/")
def bare() -> str:
    return "ok"
