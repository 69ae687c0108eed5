"""The demo's organisations, people and invite, created through the core use cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.offline_updates import OfflineUser
from core.organisations import Tier
from core.use_cases.membership import add_member, create_invite
from core.use_cases.organisations import add_organisation
from storage.database import Database

CUSTOMER_NAME = "Clinic Am See"
DEALER_NAME = "Dealer Berlin"
GERMAN_TIMEZONE = "Europe/Berlin"

# Name, tier and parent of each organisation, parents first.
_ORGANISATIONS = (
    ("Vendor HQ", Tier.HEADQUARTERS, None),
    ("BC Germany", Tier.BUSINESS_CENTRE, "Vendor HQ"),
    ("Distributor North", Tier.DISTRIBUTOR, "BC Germany"),
    (DEALER_NAME, Tier.DEALER, "Distributor North"),
    ("Dealer Munich", Tier.DEALER, "BC Germany"),
    (CUSTOMER_NAME, Tier.CUSTOMER, DEALER_NAME),
)


@dataclass(frozen=True, slots=True)
class DemoPerson:
    """A seeded person that the terminal can act as. ``role`` is the name used with :as."""

    role: str
    user: OfflineUser
    organisation_name: str | None


@dataclass(frozen=True, slots=True)
class DemoData:
    """Result of seeding: the people in :who order and an unused invite code."""

    people: tuple[DemoPerson, ...]
    invite_code: str
    invite_organisation_name: str


AIKO = DemoPerson(
    role="customer",
    user=OfflineUser(5001, "Aiko", "Tanaka", username="aiko_tanaka"),
    organisation_name=CUSTOMER_NAME,
)
DANA = DemoPerson(
    role="dealer",
    user=OfflineUser(6001, "Dana", "Weber", username="dana_weber"),
    organisation_name=DEALER_NAME,
)
NEW_USER = DemoPerson(role="new", user=OfflineUser(7001, "New user"), organisation_name=None)


async def seed_demo_data(database: Database, *, now: datetime, hq_timezone: str) -> DemoData:
    """Create the tier tree, link Aiko and Dana, and create one invite for the clinic.

    The database must be empty, because organisation names are unique.
    ``hq_timezone`` is the headquarters' zone. Every German organisation uses
    Europe/Berlin.
    """
    for name, tier, parent_name in _ORGANISATIONS:
        await add_organisation(
            database.unit_of_work(),
            name=name,
            tier=tier,
            parent_name=parent_name,
            dealer_name=None,
            timezone=hq_timezone if tier is Tier.HEADQUARTERS else GERMAN_TIMEZONE,
            now=now,
        )
    for person in (AIKO, DANA):
        assert person.organisation_name is not None
        await add_member(
            database.unit_of_work(),
            organisation_name=person.organisation_name,
            telegram_user_id=person.user.id,
            name=person.user.full_name,
            now=now,
        )
    invite = await create_invite(database.unit_of_work(), organisation_name=CUSTOMER_NAME, now=now)
    return DemoData(
        people=(AIKO, DANA, NEW_USER),
        invite_code=invite.code,
        invite_organisation_name=CUSTOMER_NAME,
    )
