"""Domain errors.

Every refusal of a rule is one of these. The bot turns each into a message
for the person who asked; the command line prints it. Each message names the
value that was rejected and what is accepted instead.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base class of every rule violation the product reports to a person."""


class NotLinked(DomainError):
    """The Telegram user is not linked to any organisation."""


class NotAllowed(DomainError):
    """The member's organisation may not perform this action."""


class NotFound(DomainError):
    """An organisation, member, order or invite does not exist or is not visible."""


class InvalidInput(DomainError):
    """A value typed by a person breaks a format rule."""


class InvalidPoNumber(InvalidInput):
    """A PO number is empty, too long or contains control characters."""


class DuplicatePoNumber(DomainError):
    """The customer used this PO number on an earlier order."""


class InvalidQuantity(InvalidInput):
    """A number of licenses is not a whole number in the accepted range."""


class NoDealer(DomainError):
    """The customer has not selected a dealer to order from."""


class OrderNotCancellable(DomainError):
    """The order is issued, already cancelled, or past its cancel window."""


class InvalidInvite(DomainError):
    """An invite code is unknown, used or expired."""


class AlreadyLinked(DomainError):
    """The Telegram user is already a member of an organisation."""


class InvalidOrganisation(DomainError):
    """An organisation would break the tier tree (wrong parent, duplicate name)."""


class ConcurrentChange(DomainError):
    """Another request changed the same record first; nothing was changed."""


class StockShort(DomainError):
    """The dealer has fewer licenses in stock than the order needs."""


class OrderNotIssuable(DomainError):
    """The order is already issued or cancelled, or belongs to another dealer."""


class IssuanceNotCancellable(DomainError):
    """The issuance is too old, has a license in use, or is outside the member's area."""


class LicenseNotAssignable(DomainError):
    """No unused license, an e-mail address that already has one, or a license not assigned."""


class InvalidLicenseKey(InvalidInput):
    """A license key is mistyped: wrong length, characters or check character."""


class LicenseKeyNotAccepted(DomainError):
    """A well-formed license key is unknown or was already activated."""


class TooManyAttempts(DomainError):
    """Too many wrong license keys in a short time; the member must wait."""

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds
