"""Configuration classes, read from DSR_* environment variables.

Every setting an operator may change is an environment variable documented in README.md.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def env(name: str, default: str | None = None) -> str | None:
    """One DSR_* setting, with empty strings treated as unset."""
    value = os.environ.get(f"DSR_{name}")
    return value if value not in (None, "") else default


def env_int(name: str, default: int) -> int:
    value = env(name)
    return int(value) if value is not None else default


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class ConfigurationError(RuntimeError):
    """Raised when the app cannot start safely with the configuration it was given."""


class Config:
    ENV_NAME = "base"
    SECRET_KEY = env("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = env("DATABASE_URL")
    # hide_parameters keeps personal data in SQL parameters out of error messages and logs.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True, "hide_parameters": True}
    # A path to the organisation profile (YAML). The demo profile ships with the app.
    DSR_PROFILE = env("PROFILE", str(BASE_DIR / "profiles" / "demo.yaml"))
    # The data inventory: which systems hold personal data (YAML). The demo dataset ships with the app.
    DSR_DATASET = env("DATASET", str(BASE_DIR / "datasets" / "demo.yaml"))
    # Where encrypted bundles are written (a shared filesystem when several machines run jobs).
    DSR_BUNDLE_DIR = env("BUNDLE_DIR", str(INSTANCE_DIR / "bundles"))
    DSR_BUNDLE_DAYS = env_int("BUNDLE_DAYS", 7)
    DSR_BUNDLE_MAX_DOWNLOADS = env_int("BUNDLE_MAX_DOWNLOADS", 3)
    # Files requesters attach to replies: encrypted, under random names, never inside static/.
    DSR_UPLOAD_DIR = env("UPLOAD_DIR", str(INSTANCE_DIR / "uploads"))
    DSR_UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 5 * 1024 * 1024)  # per file
    DSR_UPLOAD_MAX_FILES = env_int("UPLOAD_MAX_FILES", 3)  # per reply
    DSR_UPLOAD_MAX_PER_REQUEST = env_int("UPLOAD_MAX_PER_REQUEST", 20)
    # Closed requests keep their identifiers this long for record-keeping (CCPA §7101: 24 months),
    # then are minimised. The suppression key must never change, or "do not contact" checks stop matching.
    DSR_RECORDS_MONTHS = env_int("RECORDS_MONTHS", 24)
    DSR_SUPPRESSION_KEY = env("SUPPRESSION_KEY")
    # Keys for encryption at rest (comma-separated Fernet keys, newest first). When unset,
    # a key is derived from SECRET_KEY.
    DSR_ENCRYPTION_KEYS = env("ENCRYPTION_KEYS")

    # Absolute base URL for links in emails (never taken from a request's Host header).
    DSR_BASE_URL = env("BASE_URL", "http://127.0.0.1:5000")
    # Requester identity checks.
    DSR_CODE_TTL_MINUTES = env_int("CODE_TTL_MINUTES", 15)
    DSR_LINK_TTL_HOURS = env_int("LINK_TTL_HOURS", 24)
    DSR_CODE_MAX_ATTEMPTS = env_int("CODE_MAX_ATTEMPTS", 5)
    DSR_RESEND_COOLDOWN_SECONDS = env_int("RESEND_COOLDOWN_SECONDS", 60)
    DSR_MAX_CODES_PER_HOUR = env_int("MAX_CODES_PER_HOUR", 5)
    DSR_VERIFICATION_WINDOW_DAYS = env_int("VERIFICATION_WINDOW_DAYS", 14)
    DSR_STATUS_LINK_DAYS = env_int("STATUS_LINK_DAYS", 7)
    DSR_STATUS_SESSION_HOURS = env_int("STATUS_SESSION_HOURS", 12)
    DSR_INTAKE_RATE_LIMIT = env("INTAKE_RATE_LIMIT", "5 per minute;30 per hour")
    DSR_VERIFY_RATE_LIMIT = env("VERIFY_RATE_LIMIT", "10 per minute;60 per hour")
    DSR_STATUS_RATE_LIMIT = env("STATUS_RATE_LIMIT", "5 per minute;20 per hour")

    # The queue header's counts are shared for this long per process (0: always fresh).
    DSR_QUEUE_COUNTS_SECONDS = env_int("QUEUE_COUNTS_SECONDS", 10)
    # Staff may reopen a completed or rejected request within this many days.
    DSR_REOPEN_DAYS = env_int("REOPEN_DAYS", 30)

    # SQLite only: how long a writer waits for another before giving up (milliseconds).
    DSR_SQLITE_BUSY_MS = env_int("SQLITE_BUSY_MS", 5000)

    # Background jobs (seconds between runs).
    DSR_OUTBOX_INTERVAL_SECONDS = env_int("OUTBOX_INTERVAL_SECONDS", 10)
    DSR_EXPIRY_INTERVAL_SECONDS = env_int("EXPIRY_INTERVAL_SECONDS", 3600)
    DSR_FULFILMENT_INTERVAL_SECONDS = env_int("FULFILMENT_INTERVAL_SECONDS", 5)
    # A job runner's hold on the bundle or erasure job it claimed, renewed as the job makes progress;
    # a runner that dies frees the job after this, and another resumes it (an erasure from its checkpoint).
    DSR_FULFILMENT_LEASE_SECONDS = env_int("FULFILMENT_LEASE_SECONDS", 300)
    DSR_PURGE_INTERVAL_SECONDS = env_int("PURGE_INTERVAL_SECONDS", 3600)
    # A delivery worker's hold on the messages it claimed; a worker that dies frees them after this.
    DSR_OUTBOX_LEASE_SECONDS = env_int("OUTBOX_LEASE_SECONDS", 300)
    # Staff reminders (dsr.jobs.reminders): how often the reminder jobs look for work, and when they
    # send, in the organisation's time zone. Days are calendar days before the due date; a reminder
    # that falls on a weekend or a holiday of DSR_REMINDER_HOLIDAYS goes out the working day before.
    DSR_REMINDER_INTERVAL_SECONDS = env_int("REMINDER_INTERVAL_SECONDS", 300)
    DSR_REMINDER_TIME = env("REMINDER_TIME", "09:00")
    DSR_REMINDER_DAYS = env("REMINDER_DAYS", "7,3,1,0")
    DSR_REMINDER_HOLIDAYS = env("REMINDER_HOLIDAYS", "")
    DSR_ACK_REMINDER_DAYS = env("ACK_REMINDER_DAYS", "2,0")
    DSR_EXTENSION_REMINDER_DAYS = env_int("EXTENSION_REMINDER_DAYS", 10)
    DSR_DIGEST_TIME = env("DIGEST_TIME", "08:00")

    # Signed callbacks from webhook systems, per client address.
    DSR_WEBHOOK_RATE_LIMIT = env("WEBHOOK_RATE_LIMIT", "60 per minute")

    # Staff login protection.
    DSR_LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5)
    DSR_LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15)
    DSR_LOGIN_RATE_LIMIT = env("LOGIN_RATE_LIMIT", "10 per minute")
    # Admins must use a TOTP second factor.
    DSR_ADMIN_TOTP_REQUIRED = env_bool("ADMIN_TOTP_REQUIRED", True)
    DSR_TOTP_ISSUER = env("TOTP_ISSUER", "DSR Desk")

    # Rate-limit counters: memory for one process, redis://… when there are several.
    RATELIMIT_STORAGE_URI = env("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_ENABLED = env_bool("RATELIMIT_ENABLED", True)

    WTF_CSRF_TIME_LIMIT = env_int("CSRF_TIME_LIMIT_SECONDS", 8 * 3600)
    SESSION_COOKIE_NAME = "dsr_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
    PERMANENT_SESSION_LIFETIME = env_int("SESSION_HOURS", 8) * 3600
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # The largest request body: by default room for a reply with its most and largest attachments.
    MAX_CONTENT_LENGTH = env_int("MAX_UPLOAD_BYTES", DSR_UPLOAD_MAX_FILES * DSR_UPLOAD_MAX_BYTES + 1024 * 1024)
    # HSTS only makes sense behind HTTPS; production turns it on.
    DSR_HSTS = env_bool("HSTS", False)
    # How many proxies (load balancer, TLS terminator) stand in front of the app and set X-Forwarded-For
    # and X-Forwarded-Proto; 0 trusts no such header. Rate limits count per client address only when right.
    DSR_TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 0)
    DSR_LOG_LEVEL = env("LOG_LEVEL", "INFO")

    # Outgoing messages go through the outbox. Mail: SMTP when DSR_SMTP_HOST is set, else the console
    # backend (development only: messages are read on Admin → Outbox). Port 0 means 25/587/465 by security.
    DSR_SMTP_HOST = env("SMTP_HOST")
    DSR_SMTP_PORT = env_int("SMTP_PORT", 0)
    DSR_SMTP_SECURITY = env("SMTP_SECURITY", "starttls")  # none, starttls or ssl
    DSR_SMTP_USERNAME = env("SMTP_USERNAME")
    DSR_SMTP_PASSWORD = env("SMTP_PASSWORD")
    DSR_SMTP_TIMEOUT = env_int("SMTP_TIMEOUT", 30)
    DSR_MAIL_FROM = env("MAIL_FROM")
    # SMS: console (development) or http (POSTs JSON to DSR_SMS_URL with a bearer token).
    DSR_SMS_BACKEND = env("SMS_BACKEND", "console")
    DSR_SMS_URL = env("SMS_URL")
    DSR_SMS_TOKEN = env("SMS_TOKEN")
    DSR_SMS_FROM = env("SMS_FROM")
    # Attempts before a message is marked failed (retries back off from 30 s to an hour).
    DSR_OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 12)
    # Admins may read message bodies on Admin → Outbox (development reads verification codes there).
    DSR_OUTBOX_SHOW_BODIES = env_bool("OUTBOX_SHOW_BODIES", False)

    # Consent. People are looked up by keyed hashes of their verified email and phone; the key is
    # derived from the secret key unless DSR_IDENTITY_KEY is set (set it if the secret key may change).
    DSR_IDENTITY_KEY = env("IDENTITY_KEY")
    # One-click unsubscribe links in the organisation's marketing emails (RFC 8058).
    DSR_UNSUBSCRIBE_LINK_DAYS = env_int("UNSUBSCRIBE_LINK_DAYS", 365)
    DSR_UNSUBSCRIBE_RATE_LIMIT = env("UNSUBSCRIBE_RATE_LIMIT", "30 per minute;300 per hour")
    # Inbound texts ("STOP"): the SMS/WhatsApp provider signs each webhook with this shared secret.
    DSR_SMS_WEBHOOK_SECRET = env("SMS_WEBHOOK_SECRET")
    DSR_SMS_WEBHOOK_TOLERANCE_SECONDS = env_int("SMS_WEBHOOK_TOLERANCE_SECONDS", 300)
    DSR_SMS_WEBHOOK_RATE_LIMIT = env("SMS_WEBHOOK_RATE_LIMIT", "120 per minute")
    # Propagation of consent and restrictions to the data inventory: attempts before a job is failed.
    DSR_PROPAGATION_MAX_ATTEMPTS = env_int("PROPAGATION_MAX_ATTEMPTS", 8)

    # The REST API (/api/v1): calls per API key, and the key of the HMAC under which API keys are stored
    # (derived from the secret key when unset; set it if the secret key may change, or every key stops working).
    DSR_API_RATE_LIMIT = env("API_RATE_LIMIT", "120 per minute;3000 per hour")
    DSR_API_HASH_KEY = env("API_HASH_KEY")

    @classmethod
    def validate(cls, config: dict) -> None:
        """Refuse to start with settings that would be unsafe; subclasses tighten this."""
        static = (BASE_DIR / "static").resolve()
        for name in ("DSR_UPLOAD_DIR", "DSR_BUNDLE_DIR"):
            folder = Path(config.get(name) or INSTANCE_DIR).resolve()
            if folder == static or static in folder.parents:
                raise ConfigurationError(f"{name} must not be inside static/: the web server would hand its files out.")


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    SECRET_KEY = env("SECRET_KEY", "dev-only-not-secret")
    SQLALCHEMY_DATABASE_URI = env("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'dsr.sqlite3'}")
    DSR_OUTBOX_SHOW_BODIES = env_bool("OUTBOX_SHOW_BODIES", True)


class TestConfig(Config):
    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key"  # noqa: S105 (tests only)
    SQLALCHEMY_DATABASE_URI = env("TEST_DATABASE_URL", "sqlite://")
    DSR_QUEUE_COUNTS_SECONDS = 0
    # Argon2 parameters stay real in tests: the suite checks the real hashing path.
    RATELIMIT_STORAGE_URI = "memory://"
    DSR_OUTBOX_SHOW_BODIES = True


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    DSR_HSTS = env_bool("HSTS", True)

    @classmethod
    def validate(cls, config: dict) -> None:
        super().validate(config)
        missing = [
            name
            for name, key in (("DSR_SECRET_KEY", "SECRET_KEY"), ("DSR_DATABASE_URL", "SQLALCHEMY_DATABASE_URI"))
            if not config.get(key)
        ]
        if missing:
            raise ConfigurationError("Production needs these settings before it can start: " + ", ".join(missing))
        if len(config["SECRET_KEY"]) < 32:
            raise ConfigurationError("DSR_SECRET_KEY must be at least 32 characters in production.")


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}


def config_for(name: str | None) -> type[Config]:
    """The configuration class named by DSR_ENV (development when unset)."""
    name = name or env("ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise ConfigurationError(f"DSR_ENV must be one of {', '.join(CONFIGS)}; got {name!r}.") from None
