import pytest

from core.errors import InvalidInput, InvalidOrganisation, NotFound
from core.organisations import (
    Organisation,
    Tier,
    name_key,
    normalise_name,
    validate_parent,
    validate_timezone,
)
from core.use_cases.organisations import add_organisation
from tests.core.fakes import FakeUnitOfWork
from tests.core.sample_tree import NOW, Tree

# The parent tiers that the tree accepts, written out here rather than read
# from ALLOWED_PARENT_TIERS so that a change to that table fails a test.
ACCEPTED_PARENTS = {
    (Tier.HEADQUARTERS, None),
    (Tier.BUSINESS_CENTRE, Tier.HEADQUARTERS),
    (Tier.DISTRIBUTOR, Tier.BUSINESS_CENTRE),
    (Tier.DEALER, Tier.BUSINESS_CENTRE),
    (Tier.DEALER, Tier.DISTRIBUTOR),
    (Tier.CUSTOMER, Tier.DEALER),
}
PARENT_TIERS: list[Tier | None] = [None, *Tier]
ALL_PAIRS = [(tier, parent_tier) for tier in Tier for parent_tier in PARENT_TIERS]


def make_parent(tier: Tier | None) -> Organisation | None:
    if tier is None:
        return None
    return Organisation(id=1, name=f"Some {tier.label}", tier=tier, parent_id=None, timezone="UTC")


# validate_parent


@pytest.mark.parametrize(
    ("tier", "parent_tier"), [pair for pair in ALL_PAIRS if pair in ACCEPTED_PARENTS]
)
def test_validate_parent_accepts(tier: Tier, parent_tier: Tier | None) -> None:
    validate_parent(tier, make_parent(parent_tier))


@pytest.mark.parametrize(
    ("tier", "parent_tier"), [pair for pair in ALL_PAIRS if pair not in ACCEPTED_PARENTS]
)
def test_validate_parent_rejects(tier: Tier, parent_tier: Tier | None) -> None:
    with pytest.raises(InvalidOrganisation):
        validate_parent(tier, make_parent(parent_tier))


def test_validate_parent_headquarters_has_no_parent() -> None:
    with pytest.raises(InvalidOrganisation, match="headquarters has no parent"):
        validate_parent(Tier.HEADQUARTERS, make_parent(Tier.HEADQUARTERS))


def test_validate_parent_customer_needs_dealer() -> None:
    with pytest.raises(InvalidOrganisation, match="customer needs a parent dealer"):
        validate_parent(Tier.CUSTOMER, None)


def test_validate_parent_lists_dealer_parents() -> None:
    with pytest.raises(InvalidOrganisation) as caught:
        validate_parent(Tier.DEALER, make_parent(Tier.HEADQUARTERS))

    assert "business centre or distributor" in str(caught.value)
    assert "'Some headquarters' is a headquarters" in str(caught.value)


def test_validate_parent_message_names_parent() -> None:
    with pytest.raises(InvalidOrganisation) as caught:
        validate_parent(Tier.CUSTOMER, make_parent(Tier.DISTRIBUTOR))

    assert "must hang under a dealer" in str(caught.value)
    assert "'Some distributor' is a distributor" in str(caught.value)


# Tier.from_code


@pytest.mark.parametrize(
    ("code", "tier"),
    [
        ("hq", Tier.HEADQUARTERS),
        ("bc", Tier.BUSINESS_CENTRE),
        ("distributor", Tier.DISTRIBUTOR),
        ("dealer", Tier.DEALER),
        ("customer", Tier.CUSTOMER),
        (" Dealer ", Tier.DEALER),
        ("BC", Tier.BUSINESS_CENTRE),
    ],
)
def test_tier_from_code(code: str, tier: Tier) -> None:
    assert Tier.from_code(code) is tier


@pytest.mark.parametrize("code", ["", "reseller", "business centre", "4", "dealers"])
def test_tier_from_code_rejects_unknown(code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        Tier.from_code(code)

    assert repr(code) in str(caught.value)
    assert "hq, bc, distributor, dealer, customer" in str(caught.value)


def test_tier_order_vendor_to_customer() -> None:
    assert list(Tier) == sorted(Tier)
    assert Tier.HEADQUARTERS < Tier.BUSINESS_CENTRE < Tier.DISTRIBUTOR
    assert Tier.DISTRIBUTOR < Tier.DEALER < Tier.CUSTOMER


# validate_timezone


@pytest.mark.parametrize(
    "zone", ["UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires", "Asia/Kolkata"]
)
def test_validate_timezone_accepts_iana_name(zone: str) -> None:
    assert validate_timezone(zone) == zone


@pytest.mark.parametrize(
    "zone",
    [
        "",
        "Mars/Olympus_Mons",
        "Europe/",
        "Europe/Berlin ",
        "CEST",
        "+02:00",
        "../etc/passwd",
        "/etc/localtime",
        "Europe/Berlin\x00",
    ],
)
def test_validate_timezone_rejects(zone: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_timezone(zone)

    assert repr(zone) in str(caught.value)
    assert "IANA" in str(caught.value)


@pytest.mark.parametrize("zone", ["Europe", "America", "a" * 300])
def test_validate_timezone_rejects_tzdata_directory(zone: str) -> None:
    # ZoneInfo reaches these errors only through the tzdata package, which it
    # reads when the system time zone files have no such file.
    pytest.importorskip("tzdata")

    with pytest.raises(InvalidInput):
        validate_timezone(zone)


# normalise_name and name_key


def test_name_collapses_whitespace() -> None:
    assert normalise_name("  North \t  Centre\n") == "North Centre"


def test_name_accepts_100_characters() -> None:
    assert normalise_name("N" * 100) == "N" * 100


def test_name_rejects_101_characters() -> None:
    with pytest.raises(InvalidInput) as caught:
        normalise_name("N" * 101)

    assert "at most 100" in str(caught.value)
    assert "101" in str(caught.value)


@pytest.mark.parametrize("name", ["", "   ", "\n\t"])
def test_name_rejects_empty(name: str) -> None:
    with pytest.raises(InvalidInput, match="required"):
        normalise_name(name)


def test_name_key_ignores_case_and_spacing() -> None:
    assert name_key("  NORTH   centre ") == name_key("North Centre")


# add_organisation


async def add(
    uow: FakeUnitOfWork, name: str, tier: Tier, parent: str | None, **options: str
) -> Organisation:
    """Call add_organisation; ``options`` may set ``dealer`` and ``timezone``."""
    return await add_organisation(
        uow,
        name=name,
        tier=tier,
        parent_name=parent,
        dealer_name=options.get("dealer"),
        timezone=options.get("timezone", "Europe/Berlin"),
        now=NOW,
    )


async def test_add_organisation_builds_tree() -> None:
    uow = FakeUnitOfWork()

    headquarters = await add(uow, "Vendor HQ", Tier.HEADQUARTERS, None)
    centre = await add(uow, "Centre West", Tier.BUSINESS_CENTRE, "Vendor HQ")
    distributor = await add(uow, "West Distribution", Tier.DISTRIBUTOR, "Centre West")
    direct_dealer = await add(uow, "Direct Dealer", Tier.DEALER, "Centre West")
    distributed_dealer = await add(uow, "Second Dealer", Tier.DEALER, "West Distribution")
    customer = await add(uow, "Clinic", Tier.CUSTOMER, "Direct Dealer")

    assert headquarters.parent_id is None
    assert centre.parent_id == headquarters.id
    assert distributor.parent_id == centre.id
    assert direct_dealer.parent_id == centre.id
    assert distributed_dealer.parent_id == distributor.id
    assert customer.parent_id == direct_dealer.id
    assert uow.commit_count == 6
    assert len(uow.committed.organisations) == 6


async def test_add_organisation_stores_fields() -> None:
    uow = FakeUnitOfWork()

    added = await add(uow, "  Vendor   HQ ", Tier.HEADQUARTERS, None, timezone="Asia/Tokyo")

    assert added.name == "Vendor HQ"
    assert added.tier is Tier.HEADQUARTERS
    assert added.timezone == "Asia/Tokyo"
    assert added.dealer_id is None
    assert uow.committed.organisations[added.id] == added


async def test_add_organisation_parent_any_case(uow: FakeUnitOfWork, tree: Tree) -> None:
    added = await add(uow, "East Centre", Tier.BUSINESS_CENTRE, "  HEADQUARTERS ")

    assert added.parent_id == tree.headquarters.id


async def test_add_customer_defaults_to_parent_dealer(uow: FakeUnitOfWork, tree: Tree) -> None:
    added = await add(uow, "New Clinic", Tier.CUSTOMER, "North Dealer")

    assert added.dealer_id == tree.north_dealer.id


async def test_add_customer_with_distributed_dealer(uow: FakeUnitOfWork, tree: Tree) -> None:
    added = await add(
        uow, "New Clinic", Tier.CUSTOMER, "North Dealer", dealer="Distributed Dealer"
    )

    assert added.parent_id == tree.north_dealer.id
    assert added.dealer_id == tree.distributed_dealer.id


async def test_add_customer_rejects_foreign_dealer(uow: FakeUnitOfWork, tree: Tree) -> None:
    with pytest.raises(InvalidOrganisation) as caught:
        await add(uow, "New Clinic", Tier.CUSTOMER, "North Dealer", dealer="South Dealer")

    assert "'South Dealer' belongs to another business centre" in str(caught.value)
    assert uow.commit_count == 0
    assert _stored_names(uow) == _tree_names()


async def test_add_customer_rejects_non_dealer(uow: FakeUnitOfWork, tree: Tree) -> None:
    with pytest.raises(InvalidOrganisation, match="'North Distributor' is a distributor"):
        await add(uow, "New Clinic", Tier.CUSTOMER, "North Dealer", dealer="North Distributor")

    assert uow.commit_count == 0


async def test_add_customer_rejects_unknown_dealer(uow: FakeUnitOfWork, tree: Tree) -> None:
    with pytest.raises(NotFound, match="'Nobody'"):
        await add(uow, "New Clinic", Tier.CUSTOMER, "North Dealer", dealer="Nobody")

    assert uow.commit_count == 0


async def test_add_dealer_rejects_dealer_option(uow: FakeUnitOfWork, tree: Tree) -> None:
    with pytest.raises(InvalidOrganisation, match="Only a customer can have a dealer"):
        await add(uow, "New Dealer", Tier.DEALER, "North Centre", dealer="North Dealer")

    assert uow.commit_count == 0


@pytest.mark.parametrize(
    ("tier", "parent"),
    [
        (Tier.CUSTOMER, "North Distributor"),
        (Tier.CUSTOMER, "North Centre"),
        (Tier.DEALER, "Headquarters"),
        (Tier.DEALER, "South Dealer"),
        (Tier.DISTRIBUTOR, "North Distributor"),
        (Tier.BUSINESS_CENTRE, "North Centre"),
        (Tier.HEADQUARTERS, "Headquarters"),
        (Tier.BUSINESS_CENTRE, None),
        (Tier.CUSTOMER, None),
    ],
)
async def test_add_organisation_rejects_wrong_parent(
    uow: FakeUnitOfWork, tree: Tree, tier: Tier, parent: str | None
) -> None:
    with pytest.raises(InvalidOrganisation):
        await add(uow, "Misplaced", tier, parent)

    assert uow.commit_count == 0
    assert _stored_names(uow) == _tree_names()


async def test_add_organisation_rejects_unknown_parent(uow: FakeUnitOfWork, tree: Tree) -> None:
    with pytest.raises(NotFound, match="'Atlantis'"):
        await add(uow, "East Centre", Tier.BUSINESS_CENTRE, "Atlantis")

    assert uow.commit_count == 0


@pytest.mark.parametrize("name", ["North Dealer", "north dealer", "  NORTH   DEALER "])
async def test_add_organisation_rejects_duplicate_name(
    uow: FakeUnitOfWork, tree: Tree, name: str
) -> None:
    with pytest.raises(InvalidOrganisation, match="already taken"):
        await add(uow, name, Tier.DEALER, "South Centre")

    assert uow.commit_count == 0
    assert _stored_names(uow) == _tree_names()


async def test_add_organisation_rejects_unknown_timezone(uow: FakeUnitOfWork, tree: Tree) -> None:
    with pytest.raises(InvalidInput, match="'Mars/Olympus_Mons'"):
        await add(
            uow, "East Centre", Tier.BUSINESS_CENTRE, "Headquarters", timezone="Mars/Olympus_Mons"
        )

    assert uow.commit_count == 0


async def test_add_organisation_rejects_empty_name(uow: FakeUnitOfWork, tree: Tree) -> None:
    with pytest.raises(InvalidInput, match="name is required"):
        await add(uow, "   ", Tier.BUSINESS_CENTRE, "Headquarters")

    assert uow.commit_count == 0


async def test_add_organisation_records_audit(uow: FakeUnitOfWork, tree: Tree) -> None:
    added = await add(uow, "  East   Centre ", Tier.BUSINESS_CENTRE, "Headquarters")

    [entry] = uow.committed.audit
    assert entry.action == "organisation.added"
    assert entry.entity == "organisation"
    assert entry.entity_id == added.id
    assert entry.organisation_id == added.id
    assert entry.at == NOW
    assert entry.actor_member_id is None
    assert entry.before == {}
    assert entry.after == {
        "name": "East Centre",
        "tier": int(Tier.BUSINESS_CENTRE),
        "parent_id": tree.headquarters.id,
    }


async def test_add_organisation_rejection_not_audited(uow: FakeUnitOfWork, tree: Tree) -> None:
    with pytest.raises(InvalidOrganisation):
        await add(uow, "Misplaced", Tier.CUSTOMER, "North Centre")

    assert uow.committed.audit == []


def _stored_names(uow: FakeUnitOfWork) -> set[str]:
    return {organisation.name for organisation in uow.committed.organisations.values()}


def _tree_names() -> set[str]:
    return {
        "Headquarters",
        "North Centre",
        "North Dealer",
        "North Distributor",
        "Distributed Dealer",
        "South Centre",
        "South Dealer",
        "Acme Clinic",
        "Other Clinic",
    }
