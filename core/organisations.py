"""Organisations and the five-tier tree they form."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.errors import InvalidInput, InvalidOrganisation
from core.text import comparison_key, has_bidi_control, has_line_break_or_control

MAX_NAME_LENGTH = 100


class Tier(enum.IntEnum):
    """Tier of an organisation; a lower number is closer to the vendor."""

    HEADQUARTERS = 1
    BUSINESS_CENTRE = 2
    DISTRIBUTOR = 3
    DEALER = 4
    CUSTOMER = 5

    @property
    def label(self) -> str:
        return _TIER_LABELS[self]

    @classmethod
    def from_code(cls, code: str) -> Tier:
        """Return the tier for a command-line code such as ``dealer`` or ``bc``."""
        try:
            return _TIER_CODES[code.strip().lower()]
        except KeyError:
            accepted = ", ".join(_TIER_CODES)
            raise InvalidInput(f"Unknown tier {code!r}; use one of {accepted}.") from None


_TIER_LABELS = {
    Tier.HEADQUARTERS: "headquarters",
    Tier.BUSINESS_CENTRE: "business centre",
    Tier.DISTRIBUTOR: "distributor",
    Tier.DEALER: "dealer",
    Tier.CUSTOMER: "customer",
}

_TIER_CODES = {
    "hq": Tier.HEADQUARTERS,
    "bc": Tier.BUSINESS_CENTRE,
    "distributor": Tier.DISTRIBUTOR,
    "dealer": Tier.DEALER,
    "customer": Tier.CUSTOMER,
}

# The tiers an organisation of each tier may hang under. A dealer may skip
# the optional distributor tier and sit directly under a business centre.
ALLOWED_PARENT_TIERS: dict[Tier, frozenset[Tier]] = {
    Tier.HEADQUARTERS: frozenset(),
    Tier.BUSINESS_CENTRE: frozenset({Tier.HEADQUARTERS}),
    Tier.DISTRIBUTOR: frozenset({Tier.BUSINESS_CENTRE}),
    Tier.DEALER: frozenset({Tier.DISTRIBUTOR, Tier.BUSINESS_CENTRE}),
    Tier.CUSTOMER: frozenset({Tier.DEALER}),
}


@dataclass(frozen=True, slots=True)
class Organisation:
    """One node of the tier tree.

    ``dealer_id`` is set on customers only: the dealer the customer orders
    from, which may differ from its parent.
    """

    id: int
    name: str
    tier: Tier
    parent_id: int | None
    timezone: str
    dealer_id: int | None = None


def normalise_name(name: str) -> str:
    """Return the display form of an organisation name, or raise InvalidInput."""
    cleaned = " ".join(name.split())
    # Whitespace such as tabs and line breaks is folded above; other control
    # characters (terminal escapes) and text-direction controls are rejected.
    if has_line_break_or_control(cleaned) or has_bidi_control(cleaned):
        raise InvalidInput("An organisation name must be plain text, without control characters.")
    if not cleaned:
        raise InvalidInput("An organisation name is required.")
    if len(cleaned) > MAX_NAME_LENGTH:
        raise InvalidInput(
            f"An organisation name has at most {MAX_NAME_LENGTH} characters; "
            f"this one has {len(cleaned)}."
        )
    return cleaned


def name_key(name: str) -> str:
    """Return the form under which organisation names are compared."""
    return comparison_key(normalise_name(name))


def validate_timezone(zone: str) -> str:
    """Return ``zone`` if it is an IANA time zone name, else raise InvalidInput."""
    try:
        ZoneInfo(zone)
    # On Python 3.11 with the tzdata package, a directory name such as
    # "Europe" raises IsADirectoryError and a very long name raises OSError.
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidInput(
            f"Unknown time zone {zone!r}; use an IANA name such as Europe/Berlin."
        ) from None
    return zone


def validate_parent(tier: Tier, parent: Organisation | None) -> None:
    """Raise InvalidOrganisation unless ``parent`` may be the parent of a ``tier`` node."""
    allowed = ALLOWED_PARENT_TIERS[tier]
    if parent is None:
        if allowed:
            names = " or ".join(t.label for t in sorted(allowed))
            raise InvalidOrganisation(f"A {tier.label} needs a parent {names}.")
        return
    if not allowed:
        raise InvalidOrganisation(f"A {tier.label} has no parent organisation.")
    if parent.tier not in allowed:
        names = " or ".join(t.label for t in sorted(allowed))
        raise InvalidOrganisation(
            f"A {tier.label} must hang under a {names}, "
            f"but {parent.name!r} is a {parent.tier.label}."
        )
