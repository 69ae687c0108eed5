import re
from datetime import UTC, datetime, timedelta

import pytest

from core.errors import InvalidInvite
from core.members import INVITE_LIFETIME, Invite, is_invite_code_shaped, new_invite_code

CREATED_AT = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
EXPIRES_AT = CREATED_AT + timedelta(days=7)
# Telegram accepts 1 to 64 characters from A-Z, a-z, 0-9, "_" and "-" as the
# start parameter of a deep link. Written out here, not read from core.members.
DEEP_LINK_PARAMETER = re.compile(r"[A-Za-z0-9_-]{1,64}")


def make_invite(used_at: datetime | None = None) -> Invite:
    return Invite(
        code="abc123",
        organisation_id=2,
        created_at=CREATED_AT,
        expires_at=EXPIRES_AT,
        used_at=used_at,
        used_by_telegram_user_id=None if used_at is None else 5_000_000_001,
    )


def test_invite_lifetime_is_seven_days() -> None:
    assert timedelta(days=7) == INVITE_LIFETIME


def test_invite_redeemable_when_new() -> None:
    make_invite().ensure_redeemable(CREATED_AT)


def test_invite_redeemable_just_before_expiry() -> None:
    make_invite().ensure_redeemable(EXPIRES_AT - timedelta(microseconds=1))


def test_invite_rejected_at_expiry() -> None:
    with pytest.raises(InvalidInvite, match="expired"):
        make_invite().ensure_redeemable(EXPIRES_AT)


def test_invite_rejected_after_expiry() -> None:
    with pytest.raises(InvalidInvite, match="expired"):
        make_invite().ensure_redeemable(EXPIRES_AT + timedelta(days=30))


def test_invite_rejected_when_used() -> None:
    invite = make_invite(used_at=CREATED_AT + timedelta(hours=1))

    with pytest.raises(InvalidInvite, match="already used"):
        invite.ensure_redeemable(CREATED_AT + timedelta(hours=2))


def test_used_expired_invite_reports_use() -> None:
    invite = make_invite(used_at=CREATED_AT + timedelta(hours=1))

    with pytest.raises(InvalidInvite, match="already used"):
        invite.ensure_redeemable(EXPIRES_AT + timedelta(days=1))


def test_new_invite_code_fits_deep_link() -> None:
    for _ in range(1000):
        code = new_invite_code()

        assert DEEP_LINK_PARAMETER.fullmatch(code), code
        assert is_invite_code_shaped(code), code


def test_new_invite_code_has_16_characters() -> None:
    # 12 random bytes in URL-safe base64 without padding: 96 bits.
    assert len(new_invite_code()) == 16


def test_new_invite_code_unique() -> None:
    codes = {new_invite_code() for _ in range(10_000)}

    assert len(codes) == 10_000


@pytest.mark.parametrize(
    "text",
    [
        "",
        "<b>",
        "abc def",
        "abc+def",
        "abc/def",
        "abc=",
        "abc\n",
        "äbc",
        "A" * 65,
    ],
)
def test_invite_shape_rejects(text: str) -> None:
    assert not is_invite_code_shaped(text)


@pytest.mark.parametrize("text", ["a", "A-b_9", "A" * 64])
def test_invite_shape_accepts(text: str) -> None:
    assert is_invite_code_shaped(text)
