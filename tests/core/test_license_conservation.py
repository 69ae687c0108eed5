"""The license state machine on the in-memory fake unit of work."""

from hypothesis import HealthCheck, settings

from core.ports import UnitOfWork
from tests.core.fakes import FakeDatabase, FakeUnitOfWork
from tests.license_machine import LicenseMachine, Rows


class FakeLicenseMachine(LicenseMachine):
    async def open_storage(self) -> None:
        self.database = FakeDatabase()

    def unit_of_work(self) -> UnitOfWork:
        return FakeUnitOfWork(self.database)

    async def read_rows(self) -> Rows:
        committed = self.database.committed
        return Rows(
            licenses=list(committed.licenses.values()),
            orders=list(committed.orders.values()),
        )

    async def close_storage(self) -> None:
        pass


TestLicenseConservation = FakeLicenseMachine.TestCase
TestLicenseConservation.settings = settings(
    max_examples=50,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
