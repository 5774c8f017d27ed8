"""Staff accounts (role staff or admin) that sign in with a password and, for admins, TOTP."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dsr.extensions import db
from dsr.models.types import UTCDateTime, enum_column, utcnow


class Role(StrEnum):
    STAFF = "staff"
    ADMIN = "admin"


def new_public_id() -> str:
    return secrets.token_urlsafe(12)


class StaffUser(UserMixin, db.Model):
    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Used in URLs and in the session instead of the sequential primary key.
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_column(Role), default=Role.STAFF)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    totp_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The last TOTP time step accepted, so a code cannot be replayed within its window.
    totp_last_step: Mapped[int | None]
    # Bumped on password change or deactivation: every existing session stops working.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def has_totp(self) -> bool:
        return self.totp_enabled_at is not None

    def get_id(self) -> str:
        return f"{self.public_id}.{self.session_version}"

    def __repr__(self) -> str:
        return f"<StaffUser {self.public_id} {self.role}>"
