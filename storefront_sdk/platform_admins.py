"""Platform admins (``/admin/``): created by ``flask storefront create-admin``, signed in
with email and password. ``admin`` may change things; ``viewer`` only looks."""

from __future__ import annotations

from sqlalchemy.orm import Session
from sqlmodel import col, select
from werkzeug.security import check_password_hash, generate_password_hash

from .commissions.models import PlatformAdmin
from .errors import Conflict, ValidationError
from .shops.accounts import check_password, normalise_email

#: What each role may do.
ROLES = ("admin", "viewer")


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
    """The admin with these credentials, or ``None`` (same answer for both mistakes)."""
    found = session.scalars(
        select(PlatformAdmin).where(col(PlatformAdmin.email) == email.strip().lower())
    ).first()
    if found is None or not check_password_hash(found.password_hash, password):
        return None
    return found
