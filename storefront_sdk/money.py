"""Exact money values for the storefront: integer minor units tagged with an ISO 4217 currency.

Amounts never pass through ``float``. A :class:`Money` holds a whole number of minor units
(cents, fils, yen, ...) and its currency code; arithmetic is only defined between amounts of
the same currency. Helpers parse decimal strings exactly (:meth:`Money.from_major`), split an
amount by integer weights without losing a unit (:func:`allocate`) and render an amount for a
locale with Babel (:func:`format_money`).
"""

from __future__ import annotations

import copy
import decimal
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from babel import Locale, UnknownLocaleError
from babel.numbers import get_currency_precision, list_currencies

__all__ = [
    "ISO_EXPONENT_OVERRIDES",
    "CurrencyMismatch",
    "Money",
    "allocate",
    "currency_exponent",
    "format_money",
]

#: ISO 4217 minor-unit exponents for current currencies where CLDR (Babel) reports, or in a
#: supported Babel release reported, a different number of digits. CLDR records the digits
#: commonly *displayed*; ISO 4217 records the minor unit that payment systems settle in,
#: which is what amounts are stored in here.
ISO_EXPONENT_OVERRIDES: Final[Mapping[str, int]] = MappingProxyType(
    {
        "AFN": 2,
        "ALL": 2,
        "IQD": 3,
        "IRR": 2,
        "KPW": 2,
        "LAK": 2,
        "LBP": 2,
        "MGA": 2,
        "MMK": 2,
        "RSD": 2,
        "SLL": 2,
        "SOS": 2,
        "SYP": 2,
        "YER": 2,
    }
)

_CODE_RE = re.compile(r"[A-Z]{3}")
_MAJOR_RE = re.compile(r"([+-]?)([0-9]+)(?:\.([0-9]+))?")


class CurrencyMismatch(ValueError):
    """Raised when an operation combines amounts of two different currencies."""


@functools.lru_cache(maxsize=1)
def _known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def _check_currency(code: object) -> str:
    if not isinstance(code, str):
        raise TypeError(f"currency must be a str, not {type(code).__name__}")
    if not _CODE_RE.fullmatch(code) or code not in _known_currencies():
        raise ValueError(f"unknown currency {code!r}")
    return code


def _check_int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    return value


@functools.lru_cache(maxsize=512)
def currency_exponent(code: str) -> int:
    """Return the number of minor-unit digits of currency ``code`` (2 for USD, 0 for JPY).

    Follows ISO 4217; see :data:`ISO_EXPONENT_OVERRIDES` for where this differs from CLDR.
    Raises ``ValueError`` for a code Babel does not know.
    """
    _check_currency(code)
    override = ISO_EXPONENT_OVERRIDES.get(code)
    return override if override is not None else get_currency_precision(code)


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount: ``minor`` whole minor units of the ISO 4217 currency ``currency``."""

    minor: int
    currency: str

    def __post_init__(self) -> None:
        _check_int(self.minor, "Money.minor")
        _check_currency(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        """Return the zero amount of ``currency``."""
        return cls(0, currency)

    @classmethod
    def total(cls, amounts: Iterable[Money], currency: str) -> Money:
        """Return the sum of ``amounts`` (zero if empty); every amount must be in ``currency``."""
        result = cls.zero(currency)
        for amount in amounts:
            result = result + amount
        return result

    @classmethod
    def from_major(cls, amount: str | int, currency: str) -> Money:
        """Return the exact amount for a decimal string of major units ("19.90") or an int.

        The string must be plain decimal notation (optional sign, digits, optional fraction)
        with at most as many fraction digits as the currency has minor digits, else
        ``ValueError``. Floats, Decimals and bools are refused with ``TypeError``.
        """
        exponent = currency_exponent(_check_currency(currency))
        if isinstance(amount, str):
            match = _MAJOR_RE.fullmatch(amount)
            if match is None:
                raise ValueError(f"not a plain decimal amount: {amount!r}")
            sign, whole, fraction = match.group(1), match.group(2), match.group(3) or ""
            if len(fraction) > exponent:
                raise ValueError(
                    f"{amount!r} has {len(fraction)} decimal places; "
                    f"{currency} allows at most {exponent}"
                )
            # Digit-string arithmetic: exact for any size, unlike a bounded Decimal context.
            minor = int(whole + fraction.ljust(exponent, "0"))
            return cls(-minor if sign == "-" else minor, currency)
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise TypeError(f"amount must be a decimal str or an int, not {type(amount).__name__}")
        return cls(amount * 10**exponent, currency)

    def to_major(self) -> str:
        """The amount as a plain decimal string of major units ("19.90", "-0.05", "500"
        for JPY): the inverse of :meth:`from_major`, for files and messages, not display."""
        exponent = currency_exponent(self.currency)
        sign = "-" if self.minor < 0 else ""
        whole, fraction = divmod(abs(self.minor), 10**exponent)
        return f"{sign}{whole}.{fraction:0{exponent}d}" if exponent else f"{sign}{whole}"

    def __str__(self) -> str:
        """``CNY 19.90``: the code and :meth:`to_major` (displays use :func:`format_money`)."""
        return f"{self.currency} {self.to_major()}"

    def _same_currency(self, other: Money, op: str) -> None:
        if self.currency != other.currency:
            raise CurrencyMismatch(f"cannot {op} {self.currency} and {other.currency} amounts")

    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "add")
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "subtract")
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __mul__(self, factor: int) -> Money:
        _check_int(factor, "Money multiplier")
        return Money(self.minor * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "compare")
        return self.minor < other.minor

    def __le__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "compare")
        return self.minor <= other.minor

    def __gt__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "compare")
        return self.minor > other.minor

    def __ge__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "compare")
        return self.minor >= other.minor

    def __bool__(self) -> bool:
        return self.minor != 0


def allocate(total: Money, weights: Sequence[int]) -> list[Money]:
    """Split ``total`` into one share per weight, proportionally, losing no minor unit.

    Uses the largest-remainder method: every share is the floor or ceiling of its exact
    share ``total.minor * w / sum(weights)``, the shares sum exactly to ``total``, leftover
    units go to the largest remainders with ties resolved towards the lower index, and a zero
    weight always gets zero. A negative total is split as its absolute value, then negated.
    Weights must be non-negative ints with a positive sum, else ``ValueError``/``TypeError``.
    """
    if not isinstance(total, Money):
        raise TypeError(f"total must be Money, not {type(total).__name__}")
    checked = [_check_int(w, "weight") for w in weights]
    if not checked:
        raise ValueError("allocate() needs at least one weight")
    if any(w < 0 for w in checked):
        raise ValueError("weights must be non-negative")
    weight_sum = sum(checked)
    if weight_sum == 0:
        raise ValueError("weights must have a positive sum")

    amount = abs(total.minor)
    floors_and_remainders = [divmod(amount * w, weight_sum) for w in checked]
    shares = [q for q, _ in floors_and_remainders]
    leftover = amount - sum(shares)  # < number of non-zero remainders
    by_remainder = sorted(range(len(checked)), key=lambda i: (-floors_and_remainders[i][1], i))
    for index in by_remainder[:leftover]:
        shares[index] += 1
    sign = -1 if total.minor < 0 else 1
    return [Money(sign * share, total.currency) for share in shares]


def _parse_locale(locale: str) -> Locale:
    if not isinstance(locale, str):
        raise TypeError(f"locale must be a str, not {type(locale).__name__}")
    try:
        return Locale.parse(locale.replace("-", "_"))
    except (UnknownLocaleError, ValueError) as exc:
        raise ValueError(f"invalid locale {locale!r}") from exc


def format_money(money: Money, locale: str = "en", display: str = "symbol") -> str:
    """Return ``money`` formatted for display in ``locale`` ("en_US", "zh-Hans", ...).

    Shows exactly the currency's ISO 4217 minor digits, e.g. ``Money(1990, "CNY")`` is
    "¥19.90" in zh_CN and "CN¥19.90" in en_US; with ``display="code"``, "CNY 19.90".
    Raises ``ValueError`` for an unknown locale.
    """
    if not isinstance(money, Money):
        raise TypeError(f"money must be Money, not {type(money).__name__}")
    babel_locale = _parse_locale(locale)
    exponent = currency_exponent(money.currency)
    value = decimal.Decimal(f"{money.minor}e-{exponent}")  # exact: no context rounding
    # Force ISO digits instead of CLDR's, so no minor unit is ever rounded away.
    pattern = copy.copy(babel_locale.currency_formats["standard"])
    pattern.frac_prec = (exponent, exponent)
    if display == "code":
        # A code is a word: keep it apart from the digits ("CNY 19.90").
        pattern.prefix = tuple(
            p.replace("¤", "¤¤") + ("\xa0" if p.endswith("¤") else "") for p in pattern.prefix
        )
        pattern.suffix = tuple(p.replace("¤", "¤¤") for p in pattern.suffix)
    with decimal.localcontext() as ctx:
        ctx.prec = max(ctx.prec, len(str(abs(money.minor))) + exponent + 2)
        formatted: str = pattern.apply(
            value, babel_locale, currency=money.currency, currency_digits=False
        )
    return formatted


@functools.lru_cache(maxsize=512)
def money_formatter(currency: str, locale: str = "en", display: str = "symbol") -> Any:
    """A function formatting non-negative minor amounts of ``currency`` exactly like
    :func:`format_money` — but in microseconds, for pages listing many prices.

    The layout (prefix, suffix, separators, grouping) is learnt from :func:`format_money`
    itself and checked against it on probe amounts; a locale whose layout does not fit
    (unusual grouping rules) keeps using :func:`format_money`.
    """
    _check_currency(currency)
    exponent = currency_exponent(currency)
    babel_locale = _parse_locale(locale)
    symbols = babel_locale.number_symbols.get("latn", {})
    decimal_sign, group_sign = symbols.get("decimal", "."), symbols.get("group", ",")
    pattern = babel_locale.currency_formats["standard"]
    primary, secondary = pattern.grouping
    zero = "0" + (decimal_sign + "0" * exponent if exponent else "")
    sample = format_money(Money(0, currency), locale, display)
    at = sample.find(zero)

    def slow(minor: int) -> str:
        return format_money(Money(minor, currency), locale, display)

    if at < 0:
        return slow
    prefix, suffix = sample[:at], sample[at + len(zero) :]
    unit = 10**exponent

    def fast(minor: int) -> str:
        if minor < 0:
            return slow(minor)
        major, fraction = divmod(minor, unit)
        digits = str(major)
        if len(digits) > primary:
            head, groups = digits[:-primary], [digits[-primary:]]
            while len(head) > secondary:
                groups.append(head[-secondary:])
                head = head[:-secondary]
            groups.append(head)
            digits = group_sign.join(reversed(groups))
        if exponent:
            digits = f"{digits}{decimal_sign}{fraction:0{exponent}d}"
        return f"{prefix}{digits}{suffix}"

    probes = (0, 1, 99, 1234, 12_345, 123_456, 1_234_567, 12_345_678, 1_234_567_890, 10**15)
    if all(fast(probe) == slow(probe) for probe in probes):
        return fast
    return slow
