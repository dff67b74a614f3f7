"""S1: the audit log records a change with its actor, commits or rolls back with it, and
cannot be changed or deleted — by the application or anyone else holding a connection."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from allot.audit.models import audit_events
from allot.audit.service import Search, record, search, to_csv
from allot.kit.acting import SYSTEM, Actor, ActorKind, act_as, actor, identify
from allot.kit.clock import FixedClock
from allot.kit.db import Database

ANA = Actor(ActorKind.USER, "ana", "operator-admin")


def note(db: Database, clock: FixedClock, who: Actor | None = None, **values: object) -> None:
    with db.transaction() as conn:
        if who is not None:
            act_as(conn, who)
        record(
            conn,
            clock,
            change=str(values.pop("change", "code.paused")),
            subject_kind="code",
            subject_id="agency-1/3",
            partner_id="agency-1",
            **values,  # type: ignore[arg-type]
        )


def test_s1_a_change_is_recorded_with_its_actor_before_and_after(
    db: Database, clock: FixedClock
) -> None:
    note(db, clock, ANA, before={"state": "active"}, after={"state": "paused"})
    with db.read() as conn:
        [event] = search(conn, Search())
    assert (event.actor_kind, event.actor_id, event.actor_role) == ("user", "ana", ANA.role)
    assert (event.change, event.subject_id, event.at) == ("code.paused", "agency-1/3", clock.now())
    assert (event.before, event.after) == ({"state": "active"}, {"state": "paused"})


def test_s1_the_system_acts_when_the_entry_point_names_nobody_and_never_carries_over(
    db: Database, clock: FixedClock
) -> None:
    note(db, clock, ANA, after={"n": 1})
    with db.transaction() as conn:  # the next transaction, maybe on the same connection
        assert actor(conn) == SYSTEM
    note(db, clock, after={"n": 2})
    with db.read() as conn:
        assert [e.actor_kind for e in search(conn, Search())] == ["system", "user"]


def test_s1_a_rolled_back_change_leaves_no_event(db: Database, clock: FixedClock) -> None:
    def change_then_fail() -> None:
        with db.transaction() as conn:
            record(conn, clock, change="invoice.voided", subject_kind="invoice", subject_id=7)
            raise RuntimeError("the change failed after it was recorded")

    with pytest.raises(RuntimeError):
        change_then_fail()
    with db.read() as conn:
        assert search(conn, Search()) == []


def test_s1_nothing_is_recorded_when_nothing_changed(db: Database, clock: FixedClock) -> None:
    note(db, clock, before={"state": "paused"}, after={"state": "paused"})
    with db.read() as conn:
        assert search(conn, Search()) == []


def test_s1_money_and_instants_are_kept_exact(db: Database, clock: FixedClock) -> None:
    note(db, clock, after={"price": Decimal("0.1000000001"), "at": clock.now()})
    with db.read() as conn:
        [event] = search(conn, Search())
    assert event.after == {"price": "0.1000000001", "at": clock.now().isoformat()}


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET change = 'nothing.happened'",
        "UPDATE audit_events SET after = NULL WHERE id = 1",
        "DELETE FROM audit_events",
        "DELETE FROM audit_events WHERE id = 1",
    ],
)
def test_s1_an_audit_row_cannot_be_changed_or_deleted_at_the_database(
    db: Database, clock: FixedClock, statement: str
) -> None:
    note(db, clock, after={"state": "paused"})
    with pytest.raises(sa.exc.DBAPIError, match="audit_events is append-only"):  # noqa: SIM117
        with db.engine.begin() as conn:  # a raw connection, not allot's services
            conn.exec_driver_sql(statement)
    with db.read() as conn:
        assert conn.execute(sa.select(audit_events.c.change)).scalars().all() == ["code.paused"]


def test_s1_the_log_cannot_be_truncated_on_postgresql(db: Database, clock: FixedClock) -> None:
    if db.is_sqlite:
        pytest.skip("SQLite has no TRUNCATE: its DELETE is refused (above)")
    note(db, clock, after={"state": "paused"})
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.exec_driver_sql("TRUNCATE audit_events")


def test_s1_search_narrows_by_change_family_subject_and_time(
    db: Database, clock: FixedClock
) -> None:
    note(db, clock, change="code.issued", after={"n": 1})
    clock.advance(timedelta(hours=1))
    note(db, clock, change="code.paused", before={"n": 1}, after={"n": 2})
    note(db, clock, change="code_email.queued", after={"n": 3})  # not of the `code.` family
    with db.read() as conn:
        assert [e.change for e in search(conn, Search(change="code."))] == [
            "code.paused",
            "code.issued",
        ]
        assert [e.change for e in search(conn, Search(since=clock.now()))] == [
            "code_email.queued",
            "code.paused",
        ]
        first = search(conn, Search(limit=1))
        assert search(conn, Search(before=first[0].id))[0].change == "code.paused"


def test_s1_the_csv_export_has_one_row_per_event_with_json_sides(
    db: Database, clock: FixedClock
) -> None:
    note(db, clock, ANA, before={"name": "Café Ünter"}, after={"name": "Café Über"})
    with db.read() as conn:
        text = to_csv(search(conn, Search()))
    header, row = text.splitlines()
    assert header.startswith("id,at,actor_kind,actor_id,actor_role,acting_for,change,")
    assert '"{""name"": ""Café Ünter""}","{""name"": ""Café Über""}"' in row


def test_s1_outside_a_request_identifying_names_one_transaction_only(
    db: Database, clock: FixedClock
) -> None:
    with db.transaction() as conn:
        identify(conn, ANA)  # as a page's session check does, but called directly
        assert actor(conn) == ANA
    with db.transaction() as conn:
        assert actor(conn) == SYSTEM
