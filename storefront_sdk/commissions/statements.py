"""Supplier settlement statements: what the platform owes a supplier for a period — for
each supplier order delivered in it, the supply amount of its lines (the supply price of
what was ordered less the discounts the supplier's own promotions gave on them, shown per
line), less the supplier's share of the refunds of those lines
(:func:`.breakdown.reversed_parts`), plus the shipping the consumer paid for it. Each line
shows its units apart: ordered, cancelled by the supplier, delivered, and returned
(refunded by the platform as returned), so a supplier can match each deduction to the
units it is for."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..money import Money
from ..orders.models import Order, OrderLine, SupplierOrder
from ..pricing.breakdown import reversed_parts, stored_parts
from ..sql import table_of

_line = table_of(OrderLine).c
_part = table_of(SupplierOrder).c
_order = table_of(Order).c


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One line of a delivered supplier order."""

    supplier_order: str
    order_number: str
    delivered_at: datetime
    sku: str
    #: Units ordered; of them, cancelled by the supplier, delivered, and returned.
    quantity: int
    cancelled: int
    delivered: int
    returned: int
    #: What the supplier is paid for the line (``supply_amount``): its supply price times
    #: the units ordered less ``supplier_discount``, what its own promotions took off.
    supply: int
    refunded: int
    owed: int
    supplier_discount: int = 0


@dataclass
class Statement:
    """A supplier's statement for ``[start, end)``, in its currency."""

    supplier_id: int
    currency: str
    start: datetime
    end: datetime
    lines: list[StatementLine] = field(default_factory=list)
    shipping: int = 0

    @property
    def supply(self) -> int:
        return sum(line.supply for line in self.lines)

    @property
    def supplier_discount(self) -> int:
        """What the supplier's own promotions took off its lines (already out of
        :attr:`supply`)."""
        return sum(line.supplier_discount for line in self.lines)

    @property
    def refunded(self) -> int:
        return sum(line.refunded for line in self.lines)

    @property
    def owed(self) -> int:
        """Supply less refunds, plus shipping: what the platform pays the supplier."""
        return sum(line.owed for line in self.lines) + self.shipping


def statement(
    session: Session, supplier_id: int, currency: str, start: datetime, end: datetime
) -> Statement:
    """The supplier's statement of the supplier orders delivered from ``start`` (included)
    to ``end`` (excluded)."""
    found = Statement(supplier_id, currency, start, end)
    rows = session.execute(
        sa.select(
            _part.public_id,
            _part.delivered_at,
            _part.shipping_minor,
            _order.number,
            _line.sku,
            _line.quantity,
            _line.cancelled_quantity,
            _line.shipped_quantity,
            _line.returned_quantity,
            _line.supply_amount_minor,
            _line.supplier_discount_minor,
            _line.level1_minor,
            _line.level2_minor,
            _line.platform_minor,
            _line.refunded_minor,
        )
        .join(table_of(SupplierOrder), _part.id == _line.supplier_order_id)
        .join(table_of(Order), _order.id == _part.order_id)
        .where(
            _part.supplier_id == supplier_id,
            _part.delivered_at >= start,
            _part.delivered_at < end,
        )
        .order_by(_part.delivered_at, _part.id, _line.id)
    )
    shipped: set[str] = set()
    for row in rows:
        supply = row.supply_amount_minor
        refunded = reversed_parts(stored_parts(row), row.refunded_minor).supplier
        found.lines.append(
            StatementLine(
                row.public_id,
                row.number,
                row.delivered_at,
                row.sku,
                row.quantity,
                row.cancelled_quantity,
                row.shipped_quantity,
                row.returned_quantity,
                supply,
                refunded,
                supply - refunded,
                row.supplier_discount_minor,
            )
        )
        if row.public_id not in shipped:
            shipped.add(row.public_id)
            found.shipping += row.shipping_minor
    return found


def csv_cell(text: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula (names, emails and SKUs come from
    outside)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


CSV_COLUMNS = (
    "supplier_order",
    "order_number",
    "delivered_at",
    "sku",
    "quantity",
    "cancelled",
    "delivered",
    "returned",
    "supply",
    "refunded",
    "owed",
    "supplier_discount",
)


def statement_csv(found: Statement) -> str:
    """The statement as CSV (amounts in major units), its totals in the last rows; the
    last column, ``supplier_discount``, is what the supplier's own promotions took off
    each line (already out of ``supply``)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)

    def major(minor: int) -> str:
        return Money(minor, found.currency).to_major()

    for line in found.lines:
        writer.writerow(
            [
                line.supplier_order,
                line.order_number,
                line.delivered_at.isoformat(),
                csv_cell(line.sku),
                line.quantity,
                line.cancelled,
                line.delivered,
                line.returned,
                major(line.supply),
                major(line.refunded),
                major(line.owed),
                major(line.supplier_discount),
            ]
        )
    blank = [""] * 7
    writer.writerow(["shipping", *blank, "", "", major(found.shipping), ""])
    writer.writerow(
        [
            "total",
            *blank,
            major(found.supply),
            major(found.refunded),
            major(found.owed),
            major(found.supplier_discount),
        ]
    )
    return out.getvalue()
