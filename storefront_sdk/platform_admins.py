"""Platform admins (``/admin/``): their table, created by ``flask storefront create-admin``,
signed in with email and password. ``admin`` may change things; ``viewer`` only looks."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel, col, select
from werkzeug.security import generate_password_hash

from .db import id_field, timestamp_field
from .errors import Conflict, ValidationError
from .shops.accounts import check_password, normalise_email, password_matches

#: What each role may do.
ROLES = ("admin", "viewer")


class PlatformAdmin(SQLModel, table=True):
    """Someone who runs the platform (``/admin/``): ``admin`` changes things, ``viewer``
    only looks."""

    __tablename__ = "sf_platform_admin"
    __table_args__ = (sa.CheckConstraint("role IN ('admin', 'viewer')", name="role"),)

    id: int | None = id_field()
    email: str = Field(max_length=254, sa_column_kwargs={"unique": True})
    password_hash: str = Field(max_length=255)
    role: str = Field(default="admin", max_length=16)
    #: Bumped by signing out, changing or resetting the password (ends every session).
    session_generation: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    created_at: datetime | None = timestamp_field()


def create_admin(session: Session, email: str, password: str, role: str = "admin") -> PlatformAdmin:
    """A new platform admin; :class:`Conflict` if the email is taken."""
    email = normalise_email(email)
    check_password(password)
    if role not in ROLES:
        raise ValidationError(f"role must be one of {', '.join(ROLES)}")
    if session.scalars(select(PlatformAdmin.id).where(col(PlatformAdmin.email) == email)).first():
        raise Conflict(f"an admin with email {email!r} already exists")
    admin = PlatformAdmin(email=email, password_hash=generate_password_hash(password), role=role)
    session.add(admin)
    session.flush()
    return admin


def authenticate_admin(session: Session, email: str, password: str) -> PlatformAdmin | None:
    """The admin with these credentials, or ``None`` (same answer, in the same time, for
    both mistakes)."""
    found = find_admin_by_email(session, email)
    if not password_matches(found.password_hash if found else None, password):
        return None
    return found


def find_admin_by_email(session: Session, email: str) -> PlatformAdmin | None:
    """The admin with ``email`` (any case), if any."""
    return session.scalars(
        select(PlatformAdmin).where(col(PlatformAdmin.email) == email.strip().lower())
    ).first()
