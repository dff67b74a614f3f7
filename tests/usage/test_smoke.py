from datetime import UTC, datetime

from allot.account.service import create_account
from allot.grant.service import grant
from allot.kit.clock import FixedClock
from allot.kit.db import Database
from allot.subscription.service import subscribe
from allot.usage.service import consume, release_seat, take_seat
from allot.usage.summary import usage_summary
from allot.usage.verify import verify
from tests.factories import load


def test_smoke(db: Database, clock: FixedClock) -> None:
    load(db, clock)
    with db.transaction() as conn:
        create_account(conn, clock, account_id="cafe", name="Cafe", timezone="Europe/Kyiv",
                       currency="EUR")
        subscribe(conn, clock, account_id="cafe", plan_code="free")
        grant(conn, clock, account_id="cafe", allowances={"card_operations": 18, "staff_seats": 2})
    for i in range(120):
        with db.transaction() as conn:
            r = consume(conn, clock, account_id="cafe", metric="card_operations", quantity=1,
                        idempotency_key=f"k{i}")
    print(r)
    with db.transaction() as conn:
        for h in ["a", "b", "c", "d"]:
            print(take_seat(conn, clock, account_id="cafe", metric="staff_seats", holder=h,
                            idempotency_key=f"s{h}"))
        print(release_seat(conn, clock, account_id="cafe", metric="staff_seats", holder="a",
                           idempotency_key="ra"))
    with db.read() as conn:
        s = usage_summary(conn, clock, account_id="cafe")
        print(s)
        rep = verify(conn)
        assert rep.ok, rep
