"""The demo's data: organisations, people, stock, license cards and an invite.

Everything is created through the core use cases, as an operator would.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.offline_updates import OfflineUser
from core.organisations import Tier
from core.use_cases.membership import add_member, create_invite
from core.use_cases.organisations import add_organisation
from core.use_cases.supply import add_stock, generate_cards
from storage.database import Database

CUSTOMER_NAME = "Clinic Am See"
DEALER_NAME = "Dealer Berlin"
HEADQUARTERS_NAME = "Vendor HQ"
BUSINESS_CENTRE_NAME = "BC Germany"
GERMAN_TIMEZONE = "Europe/Berlin"
DEALER_STOCK = 50
LICENSE_CARDS = 3

# Name, tier and parent of each organisation, parents first.
_ORGANISATIONS = (
    (HEADQUARTERS_NAME, Tier.HEADQUARTERS, None),
    (BUSINESS_CENTRE_NAME, Tier.BUSINESS_CENTRE, HEADQUARTERS_NAME),
    ("Distributor North", Tier.DISTRIBUTOR, BUSINESS_CENTRE_NAME),
    (DEALER_NAME, Tier.DEALER, "Distributor North"),
    ("Dealer Munich", Tier.DEALER, BUSINESS_CENTRE_NAME),
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
    """Result of seeding: the people in :who order, an unused invite code and license keys.

    ``stock`` is the number of licenses in the dealer's stock, and
    ``license_keys`` are unused keys of license cards, in display form.
    """

    people: tuple[DemoPerson, ...]
    invite_code: str
    invite_organisation_name: str
    dealer_name: str
    stock: int
    license_keys: tuple[str, ...]


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
HANA = DemoPerson(
    role="hq",
    user=OfflineUser(7101, "Hana", "Sato", username="hana_sato"),
    organisation_name=HEADQUARTERS_NAME,
)
BRUNO = DemoPerson(
    role="bc",
    user=OfflineUser(7201, "Bruno", "Keller", username="bruno_keller"),
    organisation_name=BUSINESS_CENTRE_NAME,
)


async def seed_demo_data(database: Database, *, now: datetime, hq_timezone: str) -> DemoData:
    """Create the tier tree and its members, the dealer's stock, license cards and an invite.

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
    for person in (AIKO, DANA, HANA, BRUNO):
        assert person.organisation_name is not None
        await add_member(
            database.unit_of_work(),
            organisation_name=person.organisation_name,
            telegram_user_id=person.user.id,
            name=person.user.full_name,
            now=now,
        )
    stock = await add_stock(
        database.unit_of_work(), dealer_name=DEALER_NAME, count=DEALER_STOCK, now=now
    )
    keys = await generate_cards(database.unit_of_work(), count=LICENSE_CARDS, now=now)
    invite = await create_invite(database.unit_of_work(), organisation_name=CUSTOMER_NAME, now=now)
    return DemoData(
        # New people go last, so that the numbers used with :as stay the same.
        people=(AIKO, DANA, NEW_USER, HANA, BRUNO),
        invite_code=invite.code,
        invite_organisation_name=CUSTOMER_NAME,
        dealer_name=DEALER_NAME,
        stock=stock,
        license_keys=tuple(keys),
    )
