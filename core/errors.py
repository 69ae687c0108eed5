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
