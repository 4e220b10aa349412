"""Referral links and attribution: who brought a visitor to a shop.

A visit through a distributor's link (``/r/<code>``, optionally to one product) is recorded as
a :class:`~.models.ReferralVisit` and earns the visitor a *share token*: the visit's
``token_id``, distributor and shop, signed with the app's secret key and stamped with the
time of the click. The web layer hands the token out twice, as the attribution cookie and as
``?st=`` on the shop's links (browsers that drop cookies keep it in the URL), and
:func:`current_attribution` reads it back at checkout.

The rules: a token is good for the attribution window (``STOREFRONT_ATTRIBUTION_DAYS``);
when several good tokens arrive, the one issued last wins (last click); a distributor's own
visit earns nothing, so it gets no token, and a token of the distributor who is buying
themselves is never used.

Nothing here reads Flask's request globals: callers pass the secret keys, the window and
what the request carried.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeGuard

import sqlalchemy as sa
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session
from sqlmodel import col, select

from ..catalog.models import Product
from ..catalog.queries import MAX_ID
from ..errors import NotFound
from ..shops import listing
from ..shops.accounts import find_by_code
from ..shops.models import Shop
from ..sql import table_of
from .models import ReferralVisit

#: Salt of share tokens: a token signed for anything else never verifies as one.
SALT = "storefront.attribution"
#: Name of the attribution cookie the referral link sets.
ATTRIBUTION_COOKIE = "sf_ref"
#: Query parameter (and form field) carrying the share token through the shop's links.
SHARE_TOKEN_PARAM = "st"  # noqa: S105 (a parameter name, not a secret)
#: Longer strings are not looked at (a token is about 100 characters).
MAX_TOKEN_LENGTH = 400
#: How far in the future a token's timestamp may be (clocks of several servers differ).
CLOCK_SKEW = timedelta(minutes=5)

#: A secret key, or several (oldest first, the last one signs: key rotation, as with
#: Flask's ``SECRET_KEY_FALLBACKS``).
SecretKeys = str | bytes | Sequence[str | bytes]

_product = table_of(Product).c


@dataclass(frozen=True, slots=True)
class Landing:
    """Where a referral link lands, and the share token it earned (``None`` for the
    distributor's own visit)."""

    shop_slug: str
    #: The product to show, or ``None`` for the shop's home.
    product_id: int | None
    token: str | None
    #: Id of the recorded :class:`~.models.ReferralVisit`.
    token_id: str
    self_referral: bool


@dataclass(frozen=True, slots=True)
class Attribution:
    """A verified share token: the visit it came from and when its link was clicked."""

    #: ``ReferralVisit.token_id`` of the visit.
    token_id: str
    distributor_id: int
    shop_id: int
    #: When the link was followed (UTC).
    issued_at: datetime


class TokenSource(Protocol):
    """What :func:`current_attribution` reads from a request (a Werkzeug/Flask ``Request``
    fits)."""

    @property
    def args(self) -> Mapping[str, str]: ...

    @property
    def form(self) -> Mapping[str, str]: ...

    @property
    def cookies(self) -> Mapping[str, str]: ...


def record_visit(
    session: Session,
    code: str,
    product_id: int | None = None,
    visitor_distributor_id: int | None = None,
    *,
    secret_key: SecretKeys,
) -> Landing:
    """Records a visit through the referral link of ``code`` and says where it lands.

    Lands on product ``product_id`` when the distributor's shop lists it, else on the shop's
    home. A visit by the distributor themselves (``visitor_distributor_id``) is recorded as a
    self-referral and gets no token. :class:`NotFound` for an unknown or malformed code.
    """
    if not code.isascii():  # str.upper() maps some non-ASCII letters to ASCII ones
        raise NotFound(f"no distributor with referral code {code!r}")
    distributor = find_by_code(session, code)
    shop = session.scalars(select(Shop).where(col(Shop.distributor_id) == distributor.id)).first()
    if shop is None or distributor.id is None or shop.id is None:
        raise NotFound(f"referral code {code!r} has no shop")
    if product_id is not None and not _lists(session, shop.slug, product_id):
        product_id = None
    self_referral = visitor_distributor_id == distributor.id
    visit = ReferralVisit(
        token_id=secrets.token_urlsafe(12),
        distributor_id=distributor.id,
        shop_id=shop.id,
        product_id=product_id,
        self_referral=self_referral,
    )
    session.add(visit)
    session.flush()
    token = None
    if not self_referral:
        token = issue_token(
            secret_key, token_id=visit.token_id, distributor_id=distributor.id, shop_id=shop.id
        )
    return Landing(shop.slug, product_id, token, visit.token_id, self_referral)


def _lists(session: Session, slug: str, product_id: int) -> bool:
    """Whether the shop at ``slug`` lists product ``product_id`` now."""
    if not 1 <= product_id <= MAX_ID:
        return False
    view = listing.load_shop(session, slug=slug)
    found = session.execute(
        sa.select(_product.id).where(_product.id == product_id, listing.in_shop(view))
    ).first()
    return found is not None


def serializer(secret_key: SecretKeys) -> URLSafeTimedSerializer:
    """The serializer of share tokens (it signs with the last key and verifies with any)."""
    keys = [secret_key] if isinstance(secret_key, str | bytes) else list(secret_key)
    as_bytes = [key.encode() if isinstance(key, str) else key for key in keys]
    return URLSafeTimedSerializer(as_bytes, salt=SALT)


def issue_token(secret_key: SecretKeys, *, token_id: str, distributor_id: int, shop_id: int) -> str:
    """A share token for the visit ``token_id``, stamped with the current time."""
    payload = {"t": token_id, "d": distributor_id, "s": shop_id}
    return str(serializer(secret_key).dumps(payload))


def read_token(
    token: str | None,
    *,
    secret_key: SecretKeys,
    window_days: int,
    now: datetime | None = None,
) -> Attribution | None:
    """The attribution ``token`` carries, or ``None`` when it is missing, malformed,
    tampered with, or older than ``window_days`` days at ``now`` (default: the current
    time)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        payload, issued_at = serializer(secret_key).loads(token, return_timestamp=True)
    except BadSignature:  # also a bad payload or timestamp: they are signed
        return None
    attribution = _attribution(payload, issued_at)
    if attribution is None:
        return None
    age = (now or datetime.now(UTC)) - attribution.issued_at
    if age > timedelta(days=window_days) or age < -CLOCK_SKEW:
        return None
    return attribution


def _attribution(payload: Any, issued_at: datetime) -> Attribution | None:
    if not isinstance(payload, dict):
        return None
    token_id, distributor_id, shop_id = payload.get("t"), payload.get("d"), payload.get("s")
    if isinstance(token_id, str) and _is_id(distributor_id) and _is_id(shop_id):
        return Attribution(token_id, distributor_id, shop_id, issued_at)
    return None


def _is_id(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def latest_attribution(
    tokens: Iterable[str | None],
    *,
    secret_key: SecretKeys,
    window_days: int,
    visitor_distributor_id: int | None = None,
    now: datetime | None = None,
) -> Attribution | None:
    """Of ``tokens``, the good one issued last, leaving out tokens of the distributor
    ``visitor_distributor_id`` (their own purchase earns nothing); on a tie, the first."""
    found = (
        read_token(token, secret_key=secret_key, window_days=window_days, now=now)
        for token in tokens
    )
    usable = [
        attribution
        for attribution in found
        if attribution is not None and attribution.distributor_id != visitor_distributor_id
    ]
    return max(usable, key=lambda attribution: attribution.issued_at, default=None)


def current_attribution(
    request: TokenSource,
    *,
    secret_key: SecretKeys,
    window_days: int,
    visitor_distributor_id: int | None = None,
    now: datetime | None = None,
) -> Attribution | None:
    """The distributor a purchase made with ``request`` is attributed to, if any.

    Reads the share token of the URL (``?st=``), of a posted form (field ``st``) and of the
    attribution cookie; ignores tokens that are tampered with or older than
    ``window_days`` days; of the rest the one issued last wins (last click). Never
    attributes to ``visitor_distributor_id``, the distributor signed in to the console
    (self-purchase). The web layer's :func:`storefront_sdk.web.shop.referral.attribution` passes
    the current request, app secret, window and signed-in distributor.
    """
    tokens = (
        request.args.get(SHARE_TOKEN_PARAM),
        request.form.get(SHARE_TOKEN_PARAM),
        request.cookies.get(ATTRIBUTION_COOKIE),
    )
    return latest_attribution(
        tokens,
        secret_key=secret_key,
        window_days=window_days,
        visitor_distributor_id=visitor_distributor_id,
        now=now,
    )
