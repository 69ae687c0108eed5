"""Repositories that map table rows to the dataclasses of ``core``."""

from storage.repositories.audit import SqlAuditRepository
from storage.repositories.invites import SqlInviteRepository
from storage.repositories.members import SqlMemberRepository
from storage.repositories.orders import SqlOrderRepository
from storage.repositories.organisations import SqlOrganisationRepository

__all__ = [
    "SqlAuditRepository",
    "SqlInviteRepository",
    "SqlMemberRepository",
    "SqlOrderRepository",
    "SqlOrganisationRepository",
]
