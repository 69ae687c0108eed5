"""Repositories that map table rows to the dataclasses of ``core``."""

from storage.repositories.audit import SqlAuditRepository
from storage.repositories.cards import SqlCardRepository, SqlKeyAttemptRepository
from storage.repositories.invites import SqlInviteRepository
from storage.repositories.license_users import SqlLicenseUserRepository
from storage.repositories.licenses import SqlLicenseRepository
from storage.repositories.members import SqlMemberRepository
from storage.repositories.notifications import SqlNotificationRepository
from storage.repositories.orders import SqlOrderRepository
from storage.repositories.organisations import SqlOrganisationRepository
from storage.repositories.shortages import SqlShortageRepository

__all__ = [
    "SqlAuditRepository",
    "SqlCardRepository",
    "SqlInviteRepository",
    "SqlKeyAttemptRepository",
    "SqlLicenseRepository",
    "SqlLicenseUserRepository",
    "SqlMemberRepository",
    "SqlNotificationRepository",
    "SqlOrderRepository",
    "SqlOrganisationRepository",
    "SqlShortageRepository",
]
