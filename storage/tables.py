"""Database tables, one SQLModel class per table.

Repositories map each row to the frozen dataclass of ``core`` before
returning it, so these classes never leave ``storage``.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Index, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from core.orders import OrderStatus
from core.organisations import Tier
from storage.types import UtcDateTime

_JSON_TYPE = JSON().with_variant(JSONB(), "postgresql")
_STATUS_VALUES = ", ".join(f"'{status.value}'" for status in OrderStatus)


class OrganisationRow(SQLModel, table=True):
    """One node of the tier tree. ``name_key`` is the casefolded name, and it is unique."""

    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint(f"tier BETWEEN {min(Tier)} AND {max(Tier)}", name="ck_organisations_tier"),
        UniqueConstraint("name_key", name="uq_organisations_name_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str
    name_key: str
    tier: int
    parent_id: int | None = Field(default=None, foreign_key="organisations.id", index=True)
    timezone: str
    dealer_id: int | None = Field(default=None, foreign_key="organisations.id")


class MemberRow(SQLModel, table=True):
    """A Telegram user linked to one organisation."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("telegram_user_id", name="uq_members_telegram_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    # The Telegram Bot API documents user ids as having up to 52 significant
    # bits, so a 32-bit INTEGER is too small.
    telegram_user_id: int = Field(sa_type=BigInteger)
    organisation_id: int = Field(foreign_key="organisations.id", index=True)
    name: str
    created_at: datetime = Field(sa_type=UtcDateTime)


class InviteRow(SQLModel, table=True):
    """A one-time invite code. ``used_at`` is NULL until someone redeems it."""

    __tablename__ = "invites"

    code: str = Field(primary_key=True)
    organisation_id: int = Field(foreign_key="organisations.id", index=True)
    created_at: datetime = Field(sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    used_by_telegram_user_id: int | None = Field(default=None, sa_type=BigInteger)


class OrderRow(SQLModel, table=True):
    """A customer's order. ``version`` grows with every change."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(f"status IN ({_STATUS_VALUES})", name="ck_orders_status"),
        CheckConstraint("quantity >= 1", name="ck_orders_quantity"),
        CheckConstraint("version >= 1", name="ck_orders_version"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="organisations.id")
    dealer_id: int = Field(foreign_key="organisations.id", index=True)
    po_number: str
    po_key: str
    quantity: int
    status: str
    ordered_at: datetime = Field(sa_type=UtcDateTime)
    window_opened_at: datetime = Field(sa_type=UtcDateTime)
    issued_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    placed_by_member_id: int = Field(foreign_key="members.id", index=True)
    version: int = 1


class AuditEntryRow(SQLModel, table=True):
    """One recorded change, with ``before`` and ``after`` stored as JSON objects."""

    __tablename__ = "audit_entries"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UtcDateTime)
    actor_member_id: int | None = Field(default=None, foreign_key="members.id")
    organisation_id: int | None = Field(default=None, foreign_key="organisations.id")
    action: str
    entity: str
    entity_id: int
    before: dict[str, Any] = Field(default_factory=dict, sa_type=_JSON_TYPE)
    after: dict[str, Any] = Field(default_factory=dict, sa_type=_JSON_TYPE)


# A customer can use each PO number once, in any case and spacing. This index,
# not the check in core, is what rejects the second of two racing inserts.
ORDERS_PO_KEY_INDEX = Index(
    "ux_orders_customer_po_key",
    OrderRow.__table__.c.customer_id,
    OrderRow.__table__.c.po_key,
    unique=True,
)

# Serves the order history page: one customer's orders, newest first.
ORDERS_HISTORY_INDEX = Index(
    "ix_orders_customer_history",
    OrderRow.__table__.c.customer_id,
    OrderRow.__table__.c.ordered_at.desc(),
    OrderRow.__table__.c.id.desc(),
)

AUDIT_ENTITY_INDEX = Index(
    "ix_audit_entries_entity",
    AuditEntryRow.__table__.c.entity,
    AuditEntryRow.__table__.c.entity_id,
)
