"""DSR Desk: the application factory. It only wires; no I/O, migration or scheduler start here."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import event

from config import INSTANCE_DIR, config_for
from dsr.encryption import Cipher
from dsr.extensions import csrf, db, limiter, login_manager, migrate
from dsr.logs import configure_logging


def create_app(config_name: str | None = None, overrides: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(INSTANCE_DIR), template_folder="../templates", static_folder="../static")
    config_class = config_for(config_name)
    app.config.from_object(config_class)
    app.config.update(overrides or {})
    config_class.validate(app.config)
    _tune_engine(app.config)
    configure_logging(app.config["DSR_LOG_LEVEL"])

    db.init_app(app)
    _sqlite_pragmas(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"), render_as_batch=True)
    login_manager.init_app(app)
    limiter.init_app(app)  # before CSRF, so floods are cut off before any other work
    csrf.init_app(app)
    app.extensions["dsr_cipher"] = Cipher.from_config(app.config)

    from dsr import models  # noqa: F401  (registers every table with the metadata)
    from dsr.cli import register_cli
    from dsr.web import register_web

    register_web(app)
    register_cli(app)
    return app


def _sqlite_pragmas(app: Flask) -> None:
    """SQLite as a real server would behave: WAL so readers never wait for the writer and several
    workers can write in turn, a busy timeout instead of instant 'database is locked', and foreign
    keys enforced (SQLite leaves them off by default). Engines are created here, not connected."""
    if not (app.config.get("SQLALCHEMY_DATABASE_URI") or "").startswith("sqlite"):
        return
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "connect")
    def configure(connection, _record) -> None:
        cursor = connection.cursor()
        if ":memory:" not in str(engine.url) and engine.url.database:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={app.config['DSR_SQLITE_BUSY_MS']}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def _tune_engine(config: dict) -> None:
    """READ COMMITTED on MySQL/MariaDB, as PostgreSQL does by default: REPEATABLE READ's range locks
    deadlock concurrent queue workers there, and its snapshots hide other workers' commits."""
    uri = config.get("SQLALCHEMY_DATABASE_URI") or ""
    if uri.startswith(("mysql", "mariadb")):
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            **config["SQLALCHEMY_ENGINE_OPTIONS"],
            "isolation_level": "READ COMMITTED",
        }
