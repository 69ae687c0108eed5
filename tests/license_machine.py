"""A hypothesis state machine that checks that no license is ever created or lost.

``LicenseMachine`` drives random sequences of the license use cases (add
stock, place, issue and cancel orders, cancel issuances, assign, unassign,
activate keys, turn auto-assign on or off, let time pass, process expired
licenses and scan for reminders) through the real use cases of ``core``.
Before each step it predicts from the stored rows whether the step must
succeed or which domain error it must raise, and after every step it checks
the invariants of the license rules against the stored rows.

A subclass supplies the storage by implementing ``open_storage``,
``unit_of_work``, ``read_rows`` and ``close_storage``; the core tests run it
on the in-memory fake and the storage tests on a SQLite file.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)
from stdnum import luhn

from core.cards import ALPHABET
from core.errors import (
    DomainError,
    InvalidLicenseKey,
    IssuanceNotCancellable,
    LicenseKeyNotAccepted,
    LicenseNotAssignable,
    NotFound,
    OrderNotCancellable,
    OrderNotIssuable,
    StockShort,
    TooManyAttempts,
)
from core.licenses import License, LicenseState, expiry_after, normalise_email
from core.orders import Order, OrderStatus
from core.organisations import Organisation
from core.policy import LicensingPolicy
from core.ports import UnitOfWork
from core.reminders import ReminderPolicy
from core.use_cases.expiry import check_shortages, process_expired_licenses
from core.use_cases.inventory import (
    MAX_WRONG_KEYS,
    WRONG_KEY_PERIOD,
    activate_key,
    assign_license,
    preview_assign,
    unassign_license,
)
from core.use_cases.issuances import cancel_issuance
from core.use_cases.issuing import issue_order
from core.use_cases.license_users import set_auto_assign
from core.use_cases.ordering import cancel_order, place_order
from core.use_cases.reminders import scan_reminders
from core.use_cases.supply import add_stock, generate_cards
from tests.core.sample_tree import (
    CUSTOMER_USER,
    DEALER_USER,
    DISTRIBUTED_DEALER_USER,
    HEADQUARTERS_USER,
    NORTH_USER,
    OTHER_CUSTOMER_USER,
    SOUTH_DEALER_USER,
    SOUTH_USER,
    Tree,
    build_tree,
)

T = TypeVar("T")

POLICY = LicensingPolicy()
REMINDERS = ReminderPolicy()
# Two days before 29 February 2028 in Berlin, so that assignments around the
# leap day and a year later are likely.
START = datetime(2027, 2, 26, 21, 0, tzinfo=UTC)
CLOCK_STEPS = [
    timedelta(seconds=1),
    timedelta(minutes=1),
    timedelta(minutes=10),
    timedelta(hours=5),
    timedelta(days=1),
    timedelta(days=7),
    timedelta(days=14),
    timedelta(days=120),
    timedelta(days=366),
]
# Where ``advance_to_expiry`` stops, relative to the soonest expiry.
EXPIRY_OFFSETS = [-timedelta(microseconds=1), timedelta(0), timedelta(hours=1)]
# Who acts on an order: mostly a member of the organisation it belongs to.
ACTORS = st.sampled_from(["owner", "owner", "owner", "first other", "second other"])
# Typed addresses, two of which normalise to the same address.
EMAILS = ["ana@example.com", "ANA@Example.com", "ben@example.com", "carl@example.com"]
_UNKNOWN_BODY = "ABCDEFGHJKMNPQR"
UNKNOWN_KEY = _UNKNOWN_BODY + luhn.calc_check_digit(_UNKNOWN_BODY, ALPHABET)


@dataclass(frozen=True)
class Rows:
    """Every stored license and order, read after a committed step."""

    licenses: list[License]
    orders: list[Order]


class LicenseMachine(RuleBasedStateMachine):
    """Random use-case steps on one storage, with the conservation invariants."""

    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.now = START
        self.stock_added = 0
        self.keys_activated = 0
        self.expected_stock: Counter[int] = Counter()
        self.unused_keys: list[str] = []
        self.used_keys: list[str] = []
        self.failures: dict[int, list[datetime]] = {}
        self.next_po = 1
        # Auto-assign settings that differ from the default (on), by (customer id, address).
        self.auto_assign: dict[tuple[int, str], bool] = {}
        # Every license retired by process_expired_licenses, as it was when retired.
        self.retired: dict[int, License] = {}
        self._rows: Rows | None = None
        try:
            self.tree = self.run(self._set_up())
        except BaseException:
            self.loop.close()
            raise
        tree = self.tree
        self.customers = {
            CUSTOMER_USER: tree.customer,
            OTHER_CUSTOMER_USER: replace_dealer(tree.other_customer, tree.distributed_dealer),
        }
        self.dealers = {
            DEALER_USER: tree.north_dealer,
            DISTRIBUTED_DEALER_USER: tree.distributed_dealer,
            SOUTH_DEALER_USER: tree.south_dealer,
        }
        for dealer in self.dealers.values():
            self.expected_stock[dealer.id] = 0

    # Storage hooks

    async def open_storage(self) -> None:
        raise NotImplementedError

    def unit_of_work(self) -> UnitOfWork:
        raise NotImplementedError

    async def read_rows(self) -> Rows:
        raise NotImplementedError

    async def close_storage(self) -> None:
        raise NotImplementedError

    def teardown(self) -> None:
        try:
            self.run(self.close_storage())
        finally:
            self.loop.close()

    # Helpers

    def run(self, awaitable: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(awaitable)

    async def _set_up(self) -> Tree:
        await self.open_storage()
        tree = await build_tree(self.unit_of_work())
        uow = self.unit_of_work()
        async with uow:
            await uow.organisations.set_dealer(tree.other_customer.id, tree.distributed_dealer.id)
            await uow.commit()
        return tree

    def rows(self) -> Rows:
        """Return the stored rows, read again only after a use case ran."""
        if self._rows is None:
            self._rows = self.run(self.read_rows())
        return self._rows

    def attempt(
        self, call: Coroutine[Any, Any, T], expected: type[DomainError] | None, step: str
    ) -> T | None:
        """Run one use case and check that it raised ``expected``, or succeeded if None."""
        self._rows = None
        try:
            result = self.run(call)
        except DomainError as error:
            assert expected is not None, f"{step}: expected success, got {error!r}"
            assert isinstance(error, expected), (
                f"{step}: expected {expected.__name__}, got {error!r}"
            )
            return None
        assert expected is None, f"{step}: expected {expected.__name__}, got success"
        return result

    def order(self, order_id: int) -> Order:
        [order] = [order for order in self.rows().orders if order.id == order_id]
        return order

    def inventory(self, customer: Organisation) -> list[License]:
        return [
            license
            for license in self.rows().licenses
            if license.state is not LicenseState.IN_STOCK and license.customer_id == customer.id
        ]

    # Rules

    @initialize(
        north=st.integers(min_value=0, max_value=20),
        distributed=st.integers(min_value=0, max_value=20),
    )
    def stock_dealers(self, north: int, distributed: int) -> None:
        """Start with some stock at both dealers that have customers, so issuing succeeds early."""
        for dealer_user, count in ((DEALER_USER, north), (DISTRIBUTED_DEALER_USER, distributed)):
            if count:
                self.add_stock(dealer_user, count)

    @rule(
        dealer_user=st.sampled_from([DEALER_USER, DISTRIBUTED_DEALER_USER, SOUTH_DEALER_USER]),
        count=st.integers(min_value=1, max_value=10),
    )
    def add_stock(self, dealer_user: int, count: int) -> None:
        dealer = self.dealers[dealer_user]
        level = self.attempt(
            add_stock(self.unit_of_work(), dealer_name=dealer.name, count=count, now=self.now),
            None,
            "add stock",
        )
        self.stock_added += count
        self.expected_stock[dealer.id] += count
        assert level == self.expected_stock[dealer.id]

    @rule(
        target=orders,
        customer_user=st.sampled_from([CUSTOMER_USER, OTHER_CUSTOMER_USER]),
        quantity=st.integers(min_value=1, max_value=5),
    )
    def place_order(self, customer_user: int, quantity: int) -> Any:
        po_number = f"PO-{self.next_po}"
        self.next_po += 1
        placed = self.attempt(
            place_order(
                self.unit_of_work(),
                telegram_user_id=customer_user,
                po_number=po_number,
                quantity=quantity,
                policy=POLICY,
                now=self.now,
            ),
            None,
            "place order",
        )
        if placed is None:
            return multiple()
        assert placed.order.dealer_id == self.customers[customer_user].dealer_id
        return placed.order.id

    @rule(
        target=orders,
        customer_user=st.sampled_from([CUSTOMER_USER, OTHER_CUSTOMER_USER]),
        quantity=st.integers(min_value=1, max_value=3),
    )
    def place_and_issue(self, customer_user: int, quantity: int) -> Any:
        """Place an order and let its dealer issue it at once, the common path."""
        order_id = self.place_order(customer_user, quantity)
        self.issue(order_id, "owner")
        return order_id

    @rule(
        target=orders,
        customer_user=st.sampled_from([CUSTOMER_USER, OTHER_CUSTOMER_USER]),
        typed=st.sampled_from(EMAILS),
    )
    def place_issue_and_assign(self, customer_user: int, typed: str) -> Any:
        """Order one license, issue it and assign one, so that licenses reach their expiry."""
        order_id = self.place_and_issue(customer_user, 1)
        self.assign(customer_user, typed)
        return order_id

    @rule(order_id=orders, actor=ACTORS)
    def issue(self, order_id: int, actor: str) -> None:
        order = self.order(order_id)
        dealer_user = self._pick_user(self.dealers, order.dealer_id, actor)
        dealer = self.dealers[dealer_user]
        expected: type[DomainError] | None = None
        if order.dealer_id != dealer.id:
            expected = NotFound
        elif order.status is not OrderStatus.ON_ORDER:
            expected = OrderNotIssuable
        elif self.expected_stock[dealer.id] < order.quantity:
            expected = StockShort
        issued = self.attempt(
            issue_order(
                self.unit_of_work(),
                telegram_user_id=dealer_user,
                order_id=order_id,
                now=self.now,
            ),
            expected,
            "issue",
        )
        if issued is not None:
            self.expected_stock[dealer.id] -= order.quantity
            assert issued.stock_left == self.expected_stock[dealer.id]

    @rule(order_id=orders, actor=ACTORS)
    def cancel_order(self, order_id: int, actor: str) -> None:
        order = self.order(order_id)
        customer_user = self._pick_user(self.customers, order.customer_id, actor)
        expected: type[DomainError] | None = None
        if order.customer_id != self.customers[customer_user].id:
            expected = NotFound
        elif not order.can_cancel(self.now, POLICY.cancel_window):
            expected = OrderNotCancellable
        self.attempt(
            cancel_order(
                self.unit_of_work(),
                telegram_user_id=customer_user,
                order_id=order_id,
                policy=POLICY,
                now=self.now,
            ),
            expected,
            "cancel order",
        )

    @rule(
        order_id=orders, administrator=st.sampled_from([HEADQUARTERS_USER, NORTH_USER, SOUTH_USER])
    )
    def cancel_issuance(self, order_id: int, administrator: int) -> None:
        order = self.order(order_id)
        ever_assigned = any(
            license.ever_assigned
            for license in self.rows().licenses
            if license.order_id == order_id
        )
        expected: type[DomainError] | None = None
        # Every dealer that issues here is below the north business centre.
        if administrator == SOUTH_USER:
            expected = NotFound
        elif not self._issuance_cancellable(order, ever_assigned):
            expected = IssuanceNotCancellable
        cancelled = self.attempt(
            cancel_issuance(
                self.unit_of_work(),
                telegram_user_id=administrator,
                order_id=order_id,
                reason="Issued to the wrong customer",
                policy=POLICY,
                now=self.now,
            ),
            expected,
            "cancel issuance",
        )
        if cancelled is not None:
            self.expected_stock[order.dealer_id] += order.quantity
            assert cancelled.licenses_returned == order.quantity
            deadline = cancelled.order.cancel_deadline(POLICY.cancel_window)
            assert deadline == self.now + POLICY.cancel_window

    @rule(
        customer_user=st.sampled_from([CUSTOMER_USER, OTHER_CUSTOMER_USER]),
        typed=st.sampled_from(EMAILS),
    )
    def assign(self, customer_user: int, typed: str) -> None:
        customer = self.customers[customer_user]
        email = normalise_email(typed)
        inventory = self.inventory(customer)
        unexpired = [
            license
            for license in inventory
            if license.state is LicenseState.ASSIGNED
            and license.email == email
            and not license.is_expired(self.now)
        ]
        assignable = [
            license
            for license in inventory
            if license.state is LicenseState.UNUSED and not license.is_expired(self.now)
        ]
        expected = LicenseNotAssignable if unexpired or not assignable else None

        preview = self.attempt(
            preview_assign(
                self.unit_of_work(), telegram_user_id=customer_user, email=typed, now=self.now
            ),
            expected,
            "preview assign",
        )
        if preview is None:
            return
        # A reusable license comes first, the one that expires last.
        reusable = [license for license in assignable if license.reusable]
        if reusable:
            assert preview.license.expires_at == max(
                license.expires_at for license in reusable if license.expires_at
            )
        else:
            assert preview.license.expires_at is None

        assigned = self.attempt(
            assign_license(
                self.unit_of_work(),
                telegram_user_id=customer_user,
                email=typed,
                license_id=preview.license.id,
                now=self.now,
            ),
            None,
            "assign",
        )
        assert assigned is not None
        assert assigned.email == email
        if preview.license.expires_at is None:
            assert assigned.expires_at == expiry_after(self.now, customer.timezone)
        else:
            assert assigned.expires_at == preview.license.expires_at

    @rule(
        customer_user=st.sampled_from([CUSTOMER_USER, OTHER_CUSTOMER_USER]),
        typed=st.sampled_from(EMAILS),
    )
    def unassign(self, customer_user: int, typed: str) -> None:
        email = normalise_email(typed)
        assigned_to_email = [
            license
            for license in self.inventory(self.customers[customer_user])
            if license.state is LicenseState.ASSIGNED and license.email == email
        ]
        unassigned = self.attempt(
            unassign_license(
                self.unit_of_work(), telegram_user_id=customer_user, email=typed, now=self.now
            ),
            None if assigned_to_email else LicenseNotAssignable,
            "unassign",
        )
        if unassigned is not None:
            [before] = [license for license in assigned_to_email if license.id == unassigned.id]
            # The license that expires last is taken back, and it keeps its expiry.
            assert before.expires_at == max(
                license.expires_at for license in assigned_to_email if license.expires_at
            )
            assert unassigned.expires_at == before.expires_at
            assert unassigned.state is LicenseState.UNUSED

    @rule(count=st.integers(min_value=1, max_value=3))
    def generate_cards(self, count: int) -> None:
        keys = self.attempt(
            generate_cards(self.unit_of_work(), count=count, now=self.now), None, "generate cards"
        )
        assert keys is not None
        self.unused_keys.extend(keys)

    @rule(
        customer_user=st.sampled_from([CUSTOMER_USER, OTHER_CUSTOMER_USER]),
        kind=st.sampled_from(["unused", "used", "mistyped", "unknown"]),
        data=st.data(),
    )
    def activate(self, customer_user: int, kind: str, data: st.DataObject) -> None:
        known = self.unused_keys + self.used_keys
        if kind == "unused" and self.unused_keys:
            key = data.draw(st.sampled_from(self.unused_keys))
            expected: type[DomainError] | None = None
        elif kind == "used" and self.used_keys:
            key = data.draw(st.sampled_from(self.used_keys))
            expected = LicenseKeyNotAccepted
        elif kind == "mistyped" and known:
            valid = data.draw(st.sampled_from(known)).replace("-", "")
            key = ("1" if valid[0] == "0" else "0") + valid[1:]
            expected = InvalidLicenseKey
        else:
            key = UNKNOWN_KEY
            expected = LicenseKeyNotAccepted
        self._activate(customer_user, key, expected)

    @rule(
        customer_user=st.sampled_from([CUSTOMER_USER, OTHER_CUSTOMER_USER]),
        count=st.integers(min_value=1, max_value=MAX_WRONG_KEYS + 1),
    )
    def type_unknown_keys(self, customer_user: int, count: int) -> None:
        """Type an unknown key ``count`` times in one minute, as a guessing member would."""
        for _ in range(count):
            self._activate(customer_user, UNKNOWN_KEY, LicenseKeyNotAccepted)
            self.now += timedelta(seconds=10)

    def _activate(self, customer_user: int, key: str, expected: type[DomainError] | None) -> None:
        member_id = self._member_id(customer_user)
        recent = [
            moment
            for moment in self.failures.get(member_id, [])
            if moment > self.now - WRONG_KEY_PERIOD
        ]
        if len(recent) >= MAX_WRONG_KEYS:
            expected = TooManyAttempts
        license = self.attempt(
            activate_key(
                self.unit_of_work(), telegram_user_id=customer_user, key=key, now=self.now
            ),
            expected,
            "activate",
        )
        if license is not None:
            self.keys_activated += 1
            self.unused_keys.remove(key)
            self.used_keys.append(key)
            assert license.customer_id == self.customers[customer_user].id
        elif expected is not TooManyAttempts:
            self.failures.setdefault(member_id, []).append(self.now)

    @rule(step=st.sampled_from(CLOCK_STEPS))
    def advance_clock(self, step: timedelta) -> None:
        self.now += step

    @precondition(lambda self: self._expiries_ahead(timedelta(0)))
    @rule(offset=st.sampled_from(EXPIRY_OFFSETS), process=st.booleans())
    def advance_to_expiry(self, offset: timedelta, process: bool) -> None:
        """Move the clock to just before, at or after the soonest expiry still ahead.

        With ``process`` the expired licenses are processed at once, as the
        scheduler's next tick would.
        """
        ahead = self._expiries_ahead(offset)
        if ahead:
            self.now = min(ahead) + offset
        if process:
            self.process_expired()

    def _expiries_ahead(self, offset: timedelta) -> list[datetime]:
        return [
            license.expires_at
            for license in self.rows().licenses
            if license.state is LicenseState.ASSIGNED
            and license.expires_at is not None
            and license.expires_at + offset > self.now
        ]

    @rule(
        customer_user=st.sampled_from([CUSTOMER_USER, OTHER_CUSTOMER_USER]),
        typed=st.sampled_from(EMAILS),
        enabled=st.booleans(),
    )
    def set_auto_assign(self, customer_user: int, typed: str, enabled: bool) -> None:
        stored = self.attempt(
            set_auto_assign(
                self.unit_of_work(),
                telegram_user_id=customer_user,
                email=typed,
                enabled=enabled,
                now=self.now,
            ),
            None,
            "set auto-assign",
        )
        assert stored == normalise_email(typed)
        self.auto_assign[(self.customers[customer_user].id, stored)] = enabled

    @rule()
    def process_expired(self) -> None:
        before = {license.id: license for license in self.rows().licenses}
        retired_count = self.attempt(
            process_expired_licenses(self.unit_of_work(), now=self.now), None, "process expired"
        )
        after = {license.id: license for license in self.rows().licenses}
        retired = [
            license
            for license in after.values()
            if license.state is LicenseState.EXPIRED
            and before[license.id].state is LicenseState.ASSIGNED
        ]
        assert retired_count == len(retired)
        for license in retired:
            assert license.is_expired(self.now), license
            self.retired[license.id] = license
        retired_ids = {license.id for license in retired}
        for license in before.values():
            if (
                license.state is LicenseState.ASSIGNED
                and license.expires_at is not None
                and license.expires_at <= self.now
            ):
                assert license.id in retired_ids, license
        self._check_auto_assigned(before, after, retired)

        again = self.attempt(
            process_expired_licenses(self.unit_of_work(), now=self.now),
            None,
            "process expired again",
        )
        assert again == 0

    def _check_auto_assigned(
        self, before: dict[int, License], after: dict[int, License], retired: list[License]
    ) -> None:
        """Check what auto-assign did for the addresses whose licenses were retired."""
        waiting = {
            (license.customer_id, license.email)
            for license in retired
            if self.auto_assign.get((license.customer_id or 0, license.email or ""), True)
        }
        for license in after.values():
            previous = before[license.id]
            if license.state is not LicenseState.ASSIGNED or previous == license:
                continue
            # Only auto-assign assigns here: an unused, unexpired license, to a waiting address.
            assert (license.customer_id, license.email) in waiting, license
            assert previous.state is LicenseState.UNUSED, previous
            assert not previous.is_expired(self.now), previous
            assert license.assigned_at == self.now, license
            if previous.expires_at is not None:
                assert license.expires_at == previous.expires_at, license
        for customer_id, email in waiting:
            has_license = any(
                license.state is LicenseState.ASSIGNED
                and license.customer_id == customer_id
                and license.email == email
                and not license.is_expired(self.now)
                for license in after.values()
            )
            assignable_left = any(
                license.state is LicenseState.UNUSED
                and license.customer_id == customer_id
                and not license.is_expired(self.now)
                for license in after.values()
            )
            assert has_license or not assignable_left, (customer_id, email)

    @rule()
    def scan_twice(self) -> None:
        """Scan for reminders and shortages twice at the same moment: the second adds nothing."""
        for expected_none in (False, True):
            added = self.attempt(
                scan_reminders(
                    self.unit_of_work(), now=self.now, policy=POLICY, reminders=REMINDERS
                ),
                None,
                "scan reminders",
            )
            warned = self.attempt(
                check_shortages(self.unit_of_work(), now=self.now, reminders=REMINDERS),
                None,
                "check shortages",
            )
            if expected_none:
                assert added == 0
                assert warned == 0

    @staticmethod
    def _pick_user(users: dict[int, Organisation], owner_id: int, actor: str) -> int:
        """Return the user of the owning organisation, or of another one for an "other" actor."""
        matching = [user for user, organisation in users.items() if organisation.id == owner_id]
        others = [user for user, organisation in users.items() if organisation.id != owner_id]
        if actor == "owner":
            return matching[0]
        index = 0 if actor == "first other" else 1
        return others[index % len(others)]

    def _issuance_cancellable(self, order: Order, ever_assigned: bool) -> bool:
        if order.status is not OrderStatus.ISSUED or order.issued_at is None:
            return False
        return self.now < order.issued_at + POLICY.cancel_window and not ever_assigned

    def _member_id(self, customer_user: int) -> int:
        if customer_user == CUSTOMER_USER:
            return self.tree.customer_member.id
        return self.tree.other_customer_member.id

    # Invariants

    @invariant()
    def no_license_created_or_lost(self) -> None:
        rows = self.rows()
        assert len(rows.licenses) == self.stock_added + self.keys_activated

    @invariant()
    def each_license_in_one_place(self) -> None:
        for license in self.rows().licenses:
            if license.state is LicenseState.IN_STOCK:
                assert license.dealer_id is not None, license
                assert license.customer_id is None, license
                assert license.order_id is None, license
                assert license.email is None, license
            else:
                assert license.customer_id is not None, license
            if license.state in (LicenseState.ASSIGNED, LicenseState.EXPIRED):
                # A retired license keeps the address and dates it had when it expired.
                assert license.email is not None, license
                assert license.assigned_at is not None, license
                assert license.expires_at is not None, license
            else:
                assert license.email is None, license
                assert license.assigned_at is None, license

    @invariant()
    def issued_orders_hold_quantity(self) -> None:
        rows = self.rows()
        by_order = Counter(license.order_id for license in rows.licenses if license.order_id)
        for order in rows.orders:
            if order.status is OrderStatus.ISSUED:
                assert by_order[order.id] == order.quantity, order
            else:
                assert by_order[order.id] == 0, order

    @invariant()
    def order_licenses_match_order(self) -> None:
        rows = self.rows()
        orders = {order.id: order for order in rows.orders}
        for license in rows.licenses:
            if license.order_id is not None:
                order = orders[license.order_id]
                assert license.customer_id == order.customer_id, license
                assert license.dealer_id == order.dealer_id, license

    @invariant()
    def one_unexpired_license_per_address(self) -> None:
        holders = Counter(
            (license.customer_id, license.email)
            for license in self.rows().licenses
            if license.state is LicenseState.ASSIGNED and not license.is_expired(self.now)
        )
        assert all(count == 1 for count in holders.values()), holders

    @invariant()
    def expired_stay_expired(self) -> None:
        """A retired license is never assigned, unassigned or moved again."""
        current = {license.id: license for license in self.rows().licenses}
        for license_id, retired in self.retired.items():
            assert current[license_id] == retired, (current[license_id], retired)

    @invariant()
    def stock_matches_model(self) -> None:
        stock: Counter[int] = Counter(
            license.dealer_id
            for license in self.rows().licenses
            if license.state is LicenseState.IN_STOCK and license.dealer_id is not None
        )
        for dealer_id, expected in self.expected_stock.items():
            assert expected >= 0
            assert stock[dealer_id] == expected, (dealer_id, stock, self.expected_stock)


def replace_dealer(customer: Organisation, dealer: Organisation) -> Organisation:
    """Return ``customer`` as it reads once it orders from ``dealer``."""
    return replace(customer, dealer_id=dealer.id)
