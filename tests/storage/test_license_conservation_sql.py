"""The license state machine on the SQL storage, one fresh SQLite file per example.

Set LICENSEBOT_TEST_DATABASE_URL to a postgresql+asyncpg URL to run it on
PostgreSQL instead. Every example then drops and recreates all tables in
that database.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from sqlalchemy import select
from sqlmodel import SQLModel

from core.licenses import License, LicenseState
from core.orders import Order, OrderStatus
from core.ports import UnitOfWork
from storage import Database, sqlite_url
from storage.tables import LicenseRow, OrderRow
from tests.license_machine import LicenseMachine, Rows

_LICENSES = LicenseRow.__table__
_ORDERS = OrderRow.__table__


class SqlLicenseMachine(LicenseMachine):
    async def open_storage(self) -> None:
        url = os.environ.get("LICENSEBOT_TEST_DATABASE_URL")
        self.directory: tempfile.TemporaryDirectory[str] | None = None
        if not url:
            self.directory = tempfile.TemporaryDirectory()
            url = sqlite_url(Path(self.directory.name) / "licenses.db")
        self.database = Database(url)
        if self.database.engine.dialect.name != "sqlite":
            async with self.database.engine.begin() as connection:
                await connection.run_sync(SQLModel.metadata.drop_all)
        await self.database.create_schema()

    def unit_of_work(self) -> UnitOfWork:
        return self.database.unit_of_work()

    async def read_rows(self) -> Rows:
        # A plain connection, not a unit of work, so the check reads the
        # committed rows without going through the repositories under test.
        async with self.database.engine.connect() as connection:
            license_rows = (await connection.execute(select(_LICENSES))).mappings().all()
            order_rows = (await connection.execute(select(_ORDERS))).mappings().all()
        licenses = [
            License(
                id=row["id"],
                state=LicenseState(row["state"]),
                dealer_id=row["dealer_id"],
                customer_id=row["customer_id"],
                order_id=row["order_id"],
                email=row["email"],
                assigned_at=row["assigned_at"],
                expires_at=row["expires_at"],
                version=row["version"],
            )
            for row in license_rows
        ]
        orders = [
            Order(
                id=row["id"],
                customer_id=row["customer_id"],
                dealer_id=row["dealer_id"],
                po_number=row["po_number"],
                quantity=row["quantity"],
                status=OrderStatus(row["status"]),
                ordered_at=row["ordered_at"],
                window_opened_at=row["window_opened_at"],
                placed_by_member_id=row["placed_by_member_id"],
                issued_at=row["issued_at"],
                cancelled_at=row["cancelled_at"],
                version=row["version"],
            )
            for row in order_rows
        ]
        return Rows(licenses=licenses, orders=orders)

    async def close_storage(self) -> None:
        try:
            await self.database.dispose()
        finally:
            if self.directory is not None:
                self.directory.cleanup()


TestLicenseConservationSql = SqlLicenseMachine.TestCase
TestLicenseConservationSql.settings = settings(
    max_examples=20,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
