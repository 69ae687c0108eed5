"""Database tables, one SQLModel class per table.

Repositories map each row to the frozen dataclass of ``core`` before
returning it, so these classes never leave ``storage``.
"""

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Index,
    String,
    UniqueConstraint,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from core.licenses import LicenseState
from core.notifications import NotificationStatus
from core.orders import OrderStatus
from core.organisations import Tier
from storage.types import UtcDateTime

_JSON_TYPE = JSON().with_variant(JSONB(), "postgresql")


def _sql_list(values: type[enum.StrEnum]) -> str:
    return ", ".join(f"'{value.value}'" for value in values)


_STATUS_VALUES = _sql_list(OrderStatus)
_IN_STOCK = LicenseState.IN_STOCK.value
# States of a license that names a user: assigned, or expired while assigned.
_WITH_USER = f"'{LicenseState.ASSIGNED.value}', '{LicenseState.EXPIRED.value}'"


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
    tier: int = Field(index=True)
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
    # False after Telegram reported that the member blocked the bot or that the
    # chat no longer exists.
    reachable: bool = Field(default=True, sa_column_kwargs={"server_default": true()})


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


class LicenseRow(SQLModel, table=True):
    """One license, in a dealer's stock or in a customer's inventory.

    ``dealer_id`` stays set after issuance, so it names the dealer that
    issued the license. ``version`` grows with every change.
    """

    __tablename__ = "licenses"
    __table_args__ = (
        CheckConstraint(f"state IN ({_sql_list(LicenseState)})", name="ck_licenses_state"),
        CheckConstraint(
            f"(state = '{_IN_STOCK}' AND dealer_id IS NOT NULL AND customer_id IS NULL)"
            f" OR (state <> '{_IN_STOCK}' AND customer_id IS NOT NULL)",
            name="ck_licenses_owner",
        ),
        CheckConstraint(
            f"(state IN ({_WITH_USER}) AND email IS NOT NULL AND expires_at IS NOT NULL)"
            f" OR (state NOT IN ({_WITH_USER}) AND email IS NULL)",
            name="ck_licenses_assignment",
        ),
        CheckConstraint("version >= 1", name="ck_licenses_version"),
    )

    id: int | None = Field(default=None, primary_key=True)
    state: str
    dealer_id: int | None = Field(default=None, foreign_key="organisations.id")
    customer_id: int | None = Field(default=None, foreign_key="organisations.id")
    order_id: int | None = Field(default=None, foreign_key="orders.id")
    email: str | None = None
    assigned_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    version: int = 1


class LicenseCardRow(SQLModel, table=True):
    """A license card's key, without separators. ``activated_at`` is NULL until it is used."""

    __tablename__ = "license_cards"

    key: str = Field(primary_key=True, sa_type=String(16))
    created_at: datetime = Field(sa_type=UtcDateTime)
    activated_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    customer_id: int | None = Field(default=None, foreign_key="organisations.id")


class KeyAttemptRow(SQLModel, table=True):
    """One wrong license key typed by a member."""

    __tablename__ = "key_attempts"

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="members.id")
    at: datetime = Field(sa_type=UtcDateTime)


class NotificationRow(SQLModel, table=True):
    """A message in the outbox and its delivery state.

    ``claimed_by`` and ``claimed_at`` name the dispatcher that is sending it
    while the status is ``sending``. ``sent_message_id`` is the Telegram
    message it became, which is unique within its chat. ``dedupe_key`` is
    unique where set; NULLs never collide, on SQLite or on PostgreSQL.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(
            f"status IN ({_sql_list(NotificationStatus)})", name="ck_notifications_status"
        ),
        CheckConstraint("attempts >= 0", name="ck_notifications_attempts"),
        UniqueConstraint("chat_id", "sent_message_id", name="uq_notifications_sent_message"),
        UniqueConstraint("dedupe_key", name="uq_notifications_dedupe_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str
    member_id: int = Field(foreign_key="members.id", index=True)
    chat_id: int = Field(sa_type=BigInteger)
    order_id: int | None = Field(default=None, foreign_key="orders.id")
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=_JSON_TYPE)
    urgent: bool = False
    # The recipient organisation's IANA time zone, for quiet hours.
    timezone: str = Field(default="UTC", sa_column_kwargs={"server_default": "UTC"})
    dedupe_key: str | None = None
    status: str
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    claimed_by: str | None = None
    claimed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    sent_message_id: int | None = Field(default=None, sa_type=BigInteger)
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_error: str | None = None
    created_at: datetime = Field(sa_type=UtcDateTime)


class LicenseUserRow(SQLModel, table=True):
    """Settings of one license user, named by normalised e-mail address, of a customer.

    A user without a row has the defaults, so auto-assign is on.
    """

    __tablename__ = "license_users"

    customer_id: int = Field(foreign_key="organisations.id", primary_key=True)
    email: str = Field(primary_key=True)
    auto_assign: bool = True


class ShortageRow(SQLModel, table=True):
    """The shortage a customer was last warned about.

    ``missing`` is the number of licenses it lacks, and ``since`` is when
    the shortage was first recorded. The row is deleted once the shortage ends.
    """

    __tablename__ = "shortages"
    __table_args__ = (CheckConstraint("missing >= 1", name="ck_shortages_missing"),)

    customer_id: int = Field(foreign_key="organisations.id", primary_key=True)
    missing: int
    since: datetime = Field(sa_type=UtcDateTime)


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

# Serves the organisation's audit trail.
AUDIT_ORGANISATION_INDEX = Index(
    "ix_audit_entries_organisation",
    AuditEntryRow.__table__.c.organisation_id,
    AuditEntryRow.__table__.c.at,
)

# Serves the dealer's list of orders waiting for issuance, oldest first.
ORDERS_DEALER_STATUS_INDEX = Index(
    "ix_orders_dealer_status",
    OrderRow.__table__.c.dealer_id,
    OrderRow.__table__.c.status,
    OrderRow.__table__.c.ordered_at,
)

# Serves the scan for cancel windows of orders on order, across dealers.
ORDERS_WINDOW_INDEX = Index(
    "ix_orders_status_window_opened",
    OrderRow.__table__.c.status,
    OrderRow.__table__.c.window_opened_at,
)

# Serves the scan for issuance windows, across dealers.
ORDERS_ISSUED_INDEX = Index(
    "ix_orders_status_issued",
    OrderRow.__table__.c.status,
    OrderRow.__table__.c.issued_at,
)

# Serve take_from_stock and count_in_stock.
LICENSES_STOCK_INDEX = Index(
    "ix_licenses_dealer_state",
    LicenseRow.__table__.c.dealer_id,
    LicenseRow.__table__.c.state,
)

# Serve count_inventory, page_assigned and pick_assignable.
LICENSES_INVENTORY_INDEX = Index(
    "ix_licenses_customer_state_expiry",
    LicenseRow.__table__.c.customer_id,
    LicenseRow.__table__.c.state,
    LicenseRow.__table__.c.expires_at,
)

LICENSES_ORDER_INDEX = Index("ix_licenses_order", LicenseRow.__table__.c.order_id)

LICENSES_EMAIL_INDEX = Index(
    "ix_licenses_customer_email",
    LicenseRow.__table__.c.customer_id,
    LicenseRow.__table__.c.email,
)

# Serves the scan for assigned licenses that expire soon, across customers.
LICENSES_EXPIRING_INDEX = Index(
    "ix_licenses_state_expiry",
    LicenseRow.__table__.c.state,
    LicenseRow.__table__.c.expires_at,
)

KEY_ATTEMPTS_MEMBER_INDEX = Index(
    "ix_key_attempts_member_at",
    KeyAttemptRow.__table__.c.member_id,
    KeyAttemptRow.__table__.c.at,
)

# Serves the dispatcher's search for due notifications.
NOTIFICATIONS_DUE_INDEX = Index(
    "ix_notifications_status_next_attempt",
    NotificationRow.__table__.c.status,
    NotificationRow.__table__.c.next_attempt_at,
)
