"""Licenses: expiry dates, assigning and unassigning, and e-mail addresses."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.errors import InvalidInput, LicenseNotAssignable
from core.licenses import (
    MAX_EMAIL_LENGTH,
    License,
    LicenseState,
    expiry_after,
    expiry_date,
    normalise_email,
)

BERLIN = ZoneInfo("Europe/Berlin")
# 00:30 on 1 March 2027 in Berlin, which is still 28 February in UTC.
BERLIN_HALF_PAST_MIDNIGHT = datetime(2027, 2, 28, 23, 30, tzinfo=UTC)
ASSIGNED_AT = datetime(2027, 5, 10, 8, 0, tzinfo=UTC)


def fresh(**changes: object) -> License:
    values: dict[str, object] = {
        "id": 7,
        "state": LicenseState.UNUSED,
        "dealer_id": 3,
        "customer_id": 5,
        "order_id": 11,
    }
    values.update(changes)
    return License(**values)  # type: ignore[arg-type]


# expiry_date


@pytest.mark.parametrize(
    ("assigned_on", "expected"),
    [
        (date(2028, 2, 29), date(2029, 2, 28)),
        (date(2027, 2, 28), date(2028, 2, 28)),
        (date(2028, 2, 28), date(2029, 2, 28)),
        (date(2027, 3, 1), date(2028, 3, 1)),
        (date(2027, 12, 31), date(2028, 12, 31)),
        (date(2027, 1, 1), date(2028, 1, 1)),
    ],
)
def test_expiry_date(assigned_on: date, expected: date) -> None:
    assert expiry_date(assigned_on) == expected


# expiry_after


def test_expiry_after_counts_local_day() -> None:
    expires_at = expiry_after(BERLIN_HALF_PAST_MIDNIGHT, "Europe/Berlin")

    assert expires_at == datetime(2028, 3, 1, 0, 0, tzinfo=BERLIN)
    assert expires_at == datetime(2028, 2, 29, 23, 0, tzinfo=UTC)


def test_expiry_after_returns_utc() -> None:
    expires_at = expiry_after(BERLIN_HALF_PAST_MIDNIGHT, "Europe/Berlin")

    assert expires_at.utcoffset() == timedelta(0)


def test_expiry_after_same_moment_in_utc() -> None:
    expires_at = expiry_after(BERLIN_HALF_PAST_MIDNIGHT, "UTC")

    assert expires_at == datetime(2028, 2, 28, 0, 0, tzinfo=UTC)


def test_expiry_after_last_second_of_day() -> None:
    # 23:59:59 on 28 February in Berlin.
    expires_at = expiry_after(datetime(2027, 2, 28, 22, 59, 59, tzinfo=UTC), "Europe/Berlin")

    assert expires_at == datetime(2028, 2, 28, 0, 0, tzinfo=BERLIN)


def test_expiry_after_local_midnight() -> None:
    # 00:00 on 1 March in Berlin.
    expires_at = expiry_after(datetime(2027, 2, 28, 23, 0, tzinfo=UTC), "Europe/Berlin")

    assert expires_at == datetime(2028, 3, 1, 0, 0, tzinfo=BERLIN)


def test_expiry_after_west_of_utc() -> None:
    # 03:00 UTC on 1 March is 22:00 on 28 February in New York.
    expires_at = expiry_after(datetime(2027, 3, 1, 3, 0, tzinfo=UTC), "America/New_York")

    assert expires_at == datetime(2028, 2, 28, 5, 0, tzinfo=UTC)


def test_expiry_after_summer_time() -> None:
    # Berlin is at UTC+2 in July, so its midnight is 22:00 UTC the day before.
    expires_at = expiry_after(datetime(2027, 7, 15, 12, 0, tzinfo=UTC), "Europe/Berlin")

    assert expires_at == datetime(2028, 7, 14, 22, 0, tzinfo=UTC)


def test_expiry_after_midnight_skipped_by_dst() -> None:
    # Chile moved its clocks from 00:00 to 01:00 on 11 September 2022, so
    # that day began at 04:00 UTC.
    expires_at = expiry_after(datetime(2021, 9, 11, 12, 0, tzinfo=UTC), "America/Santiago")

    assert expires_at == datetime(2022, 9, 11, 4, 0, tzinfo=UTC)


def test_expiry_after_leap_day_local() -> None:
    # 00:30 on 29 February 2028 in Berlin, still 28 February in UTC.
    expires_at = expiry_after(datetime(2028, 2, 28, 23, 30, tzinfo=UTC), "Europe/Berlin")

    assert expires_at == datetime(2029, 2, 28, 0, 0, tzinfo=BERLIN)


# License.assigned and License.unassigned


def test_assigned_fresh_license() -> None:
    license = fresh()

    assigned = license.assigned("ana@example.com", ASSIGNED_AT, "Europe/Berlin")

    assert assigned.state is LicenseState.ASSIGNED
    assert assigned.email == "ana@example.com"
    assert assigned.assigned_at == ASSIGNED_AT
    assert assigned.expires_at == expiry_after(ASSIGNED_AT, "Europe/Berlin")
    assert assigned.version == license.version + 1


def test_assigned_keeps_owner_fields() -> None:
    assigned = fresh().assigned("ana@example.com", ASSIGNED_AT, "UTC")

    assert assigned.id == 7
    assert assigned.customer_id == 5
    assert assigned.dealer_id == 3
    assert assigned.order_id == 11


def test_assigned_reusable_keeps_expiry() -> None:
    expires_at = datetime(2027, 12, 1, tzinfo=UTC)
    reusable = fresh(expires_at=expires_at)

    assigned = reusable.assigned("ben@example.com", ASSIGNED_AT, "Europe/Berlin")

    assert assigned.expires_at == expires_at
    assert assigned.assigned_at == ASSIGNED_AT


def test_assigned_rejects_expired_reusable() -> None:
    reusable = fresh(expires_at=ASSIGNED_AT)

    with pytest.raises(LicenseNotAssignable, match="expired"):
        reusable.assigned("ben@example.com", ASSIGNED_AT, "UTC")


def test_assigned_accepts_reusable_before_expiry() -> None:
    reusable = fresh(expires_at=ASSIGNED_AT + timedelta(microseconds=1))

    assigned = reusable.assigned("ben@example.com", ASSIGNED_AT, "UTC")

    assert assigned.state is LicenseState.ASSIGNED


@pytest.mark.parametrize("state", [LicenseState.IN_STOCK, LicenseState.ASSIGNED])
def test_assigned_rejects_other_states(state: LicenseState) -> None:
    with pytest.raises(LicenseNotAssignable, match="not unused"):
        fresh(state=state).assigned("ana@example.com", ASSIGNED_AT, "UTC")


def test_unassigned_keeps_expiry() -> None:
    assigned = fresh().assigned("ana@example.com", ASSIGNED_AT, "Europe/Berlin")

    unassigned = assigned.unassigned()

    assert unassigned.state is LicenseState.UNUSED
    assert unassigned.email is None
    assert unassigned.assigned_at is None
    assert unassigned.expires_at == assigned.expires_at
    assert unassigned.version == assigned.version + 1


def test_unassigned_is_reusable() -> None:
    unassigned = fresh().assigned("ana@example.com", ASSIGNED_AT, "UTC").unassigned()

    assert unassigned.reusable
    assert unassigned.ever_assigned


def test_reassigned_keeps_first_expiry() -> None:
    first = fresh().assigned("ana@example.com", ASSIGNED_AT, "UTC")
    later = ASSIGNED_AT + timedelta(days=100)

    again = first.unassigned().assigned("ben@example.com", later, "UTC")

    assert again.expires_at == first.expires_at


@pytest.mark.parametrize("state", [LicenseState.IN_STOCK, LicenseState.UNUSED])
def test_unassigned_rejects_other_states(state: LicenseState) -> None:
    with pytest.raises(LicenseNotAssignable, match="not assigned"):
        fresh(state=state).unassigned()


def test_fresh_license_not_reusable() -> None:
    license = fresh()

    assert not license.reusable
    assert not license.ever_assigned


def test_assigned_license_not_reusable() -> None:
    assigned = fresh().assigned("ana@example.com", ASSIGNED_AT, "UTC")

    assert not assigned.reusable
    assert assigned.ever_assigned


# License.is_expired


def test_is_expired_boundary() -> None:
    expires_at = datetime(2028, 3, 1, tzinfo=UTC)
    license = fresh(expires_at=expires_at)

    assert not license.is_expired(expires_at - timedelta(microseconds=1))
    assert license.is_expired(expires_at)
    assert license.is_expired(expires_at + timedelta(days=1))


def test_is_expired_without_expiry() -> None:
    assert not fresh().is_expired(datetime(2999, 1, 1, tzinfo=UTC))


# normalise_email


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ana@example.com", "ana@example.com"),
        ("  Ana.Lopez@Example.COM  ", "ana.lopez@example.com"),
        ("ANA+LICENSES@EXAMPLE.COM", "ana+licenses@example.com"),
        ("Änne@Example.de", "änne@example.de"),
    ],
)
def test_normalise_email_valid(text: str, expected: str) -> None:
    assert normalise_email(text) == expected


def test_normalise_email_case_insensitive() -> None:
    assert normalise_email("Ana@Example.com") == normalise_email("aNA@eXAMPLE.COM")


@pytest.mark.parametrize(
    "text",
    [
        "ana",
        "ana@",
        "@example.com",
        "ana@@example.com",
        "ana lopez@example.com",
        "ana@example",
        "ana@exa mple.com",
        "ana@example..com",
    ],
)
def test_normalise_email_invalid(text: str) -> None:
    with pytest.raises(InvalidInput, match=r"name@example\.com"):
        normalise_email(text)


@pytest.mark.parametrize("text", ["", "   ", "\t\n"])
def test_normalise_email_missing(text: str) -> None:
    with pytest.raises(InvalidInput, match="required"):
        normalise_email(text)


def test_normalise_email_message_punctuation() -> None:
    with pytest.raises(InvalidInput) as caught:
        normalise_email("ana@example")

    assert ".." not in str(caught.value)


def long_address(length: int) -> str:
    """Return a syntactically valid address of exactly ``length`` characters."""
    local = "a" * 64
    labels = []
    remaining = length - len(local) - 1 - len(".de")
    while remaining > 0:
        label = min(63, remaining)
        # Each further label costs one more character for its dot.
        if remaining - label == 1:
            label -= 1
        labels.append("b" * label)
        remaining -= label + 1
    address = f"{local}@{'.'.join(labels)}.de"
    assert len(address) == length
    return address


def test_normalise_email_max_length() -> None:
    address = long_address(MAX_EMAIL_LENGTH)

    assert normalise_email(address) == address


def test_normalise_email_too_long() -> None:
    with pytest.raises(InvalidInput, match=f"at most {MAX_EMAIL_LENGTH}.*has 255"):
        normalise_email(long_address(MAX_EMAIL_LENGTH + 1))


def test_normalise_email_length_after_strip() -> None:
    address = long_address(MAX_EMAIL_LENGTH)

    assert normalise_email(f"  {address}  ") == address
