"""The sandbox provider, worked through: saving a test card, charging it, refunding it.

The sandbox keeps its own books in a SQLite file of its own (here under `tmp_path`),
so no allot database is involved. Each test is a small story of what a caller does
and what the provider answers, in the order a billing run would meet it.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.synchronize
import sqlite3
import time
from pathlib import Path
from queue import Empty

import pytest

from allot.payment.gateway import Card, ChargeStatus, GatewayError, Outcome
from allot.payment.sandbox import TEST_CARDS, SandboxGateway

VISA = "4242 4242 4242 4242"  # as a person types it
VISA_DIGITS = "4242424242424242"


# --- helpers: what a caller does, a step each ------------------------------------------------


def open_sandbox(path: Path, *, latency: float = 0.0) -> SandboxGateway:
    return SandboxGateway(path, latency=latency)


@pytest.fixture
def sandbox(tmp_path: Path) -> SandboxGateway:
    return open_sandbox(tmp_path / "sandbox.db")


def new_customer(sandbox: SandboxGateway, account_id: str = "acc_ada") -> str:
    return sandbox.customer(account_id=account_id, email="ada@example.com", name="Ada")


def save_card(
    sandbox: SandboxGateway,
    number: str = VISA,
    *,
    account_id: str = "acc_ada",
    exp_month: int = 7,
    exp_year: int = 2031,
) -> tuple[str, Card]:
    """A customer with a saved card: the whole setup, page part included."""
    customer = new_customer(sandbox, account_id)
    setup = sandbox.start_card_setup(customer_ref=customer)
    sandbox.enter_card(
        setup_ref=setup.setup_ref, number=number, exp_month=exp_month, exp_year=exp_year
    )
    return customer, sandbox.finish_card_setup(customer_ref=customer, setup_ref=setup.setup_ref)


def charge(
    sandbox: SandboxGateway, customer: str, card: Card, key: str, amount_minor: int = 2500
) -> Outcome:
    return sandbox.charge(
        customer_ref=customer,
        method_ref=card.method_ref,
        amount_minor=amount_minor,
        currency="EUR",
        key=key,
        description="allot invoice INV-1",
        metadata={"invoice": "INV-1"},
    )


def everything_in(path: Path) -> bytes:
    """The sandbox file's bytes (and its WAL's, if one is left), then every row of every table."""
    raw = b"".join(p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")))
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        rows = [repr(db.execute(f'SELECT * FROM "{t}"').fetchall()) for t in tables]
    db.close()
    return raw + "\n".join(tables + rows).encode()


# --- the constructor -------------------------------------------------------------------------


def test_a_sandbox_opens_on_a_new_file_and_again_on_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "books" / "sandbox.db"
    SandboxGateway(path)
    assert SandboxGateway(path).charges() == []


# --- 1. saving a card ------------------------------------------------------------------------


def test_an_account_has_one_customer_however_often_it_is_asked_for(
    sandbox: SandboxGateway,
) -> None:
    ada = sandbox.customer(account_id="acc_ada", email="ada@example.com", name="Ada")
    again = sandbox.customer(account_id="acc_ada", email=None, name="Ada Lovelace")
    bob = sandbox.customer(account_id="acc_bob", email=None, name="Bob")

    assert ada == again
    assert ada.startswith("sbx_cus_")
    assert bob != ada


def test_a_card_is_saved_as_brand_last_four_and_expiry_and_its_number_is_kept_nowhere(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sandbox.db"
    sandbox = open_sandbox(path)
    customer = new_customer(sandbox)

    setup = sandbox.start_card_setup(customer_ref=customer)
    assert setup.setup_ref.startswith("sbx_seti_")
    assert setup.client_secret.startswith(f"{setup.setup_ref}_secret_")
    # The page's part: the cardholder types the number into the provider's own field.
    sandbox.enter_card(setup_ref=setup.setup_ref, number=VISA, exp_month=7, exp_year=2031)
    card = sandbox.finish_card_setup(customer_ref=customer, setup_ref=setup.setup_ref)

    assert card.method_ref.startswith("sbx_pm_")
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == ("visa", "4242", 7, 2031)
    books = everything_in(path)
    assert b"sbx_pm_" in books  # the dump did read the cards table
    assert VISA_DIGITS.encode() not in books
    assert b"4242 4242" not in books


@pytest.mark.parametrize(
    ("number", "brand", "last4"),
    [
        ("5555 5555 5555 4444", "mastercard", "4444"),
        ("3782-822463-10005", "amex", "0005"),
        ("4000056655665556", "visa", "5556"),
    ],
)
def test_other_test_cards_are_known_by_their_brand(
    sandbox: SandboxGateway, number: str, brand: str, last4: str
) -> None:
    _, card = save_card(sandbox, number)

    assert (card.brand, card.last4) == (brand, last4)


# --- 2. what a setup refuses -----------------------------------------------------------------


def test_the_card_field_takes_test_cards_only(sandbox: SandboxGateway) -> None:
    setup = sandbox.start_card_setup(customer_ref=new_customer(sandbox))

    # A real-looking number (it passes the Luhn check) is still not a test card.
    with pytest.raises(GatewayError, match=r"test cards only.*is not a test card"):
        sandbox.enter_card(
            setup_ref=setup.setup_ref, number="4111111111111111", exp_month=7, exp_year=2031
        )
    # One that fails the Luhn check is not a card number at all.
    with pytest.raises(GatewayError, match="is not a card number"):
        sandbox.enter_card(
            setup_ref=setup.setup_ref, number="4242424242424241", exp_month=7, exp_year=2031
        )
    with pytest.raises(GatewayError, match="is not a card number"):
        sandbox.enter_card(setup_ref=setup.setup_ref, number="", exp_month=7, exp_year=2031)


@pytest.mark.parametrize(("exp_month", "exp_year"), [(0, 2031), (13, 2031), (7, 31), (7, 2100)])
def test_the_card_field_wants_a_month_and_a_four_digit_year(
    sandbox: SandboxGateway, exp_month: int, exp_year: int
) -> None:
    setup = sandbox.start_card_setup(customer_ref=new_customer(sandbox))

    with pytest.raises(GatewayError, match="expiry"):
        sandbox.enter_card(
            setup_ref=setup.setup_ref, number=VISA, exp_month=exp_month, exp_year=exp_year
        )


def test_a_card_goes_into_a_setup_that_exists(sandbox: SandboxGateway) -> None:
    with pytest.raises(GatewayError, match="no card setup"):
        sandbox.enter_card(setup_ref="sbx_seti_nope", number=VISA, exp_month=7, exp_year=2031)


def test_a_setup_is_started_for_a_customer_that_exists(sandbox: SandboxGateway) -> None:
    with pytest.raises(GatewayError, match="no customer"):
        sandbox.start_card_setup(customer_ref="sbx_cus_nope")


def test_a_setup_without_a_card_or_of_another_customer_saves_nothing(
    sandbox: SandboxGateway,
) -> None:
    ada, bob = new_customer(sandbox, "acc_ada"), new_customer(sandbox, "acc_bob")

    # Ada started a setup, but nobody entered a card in it yet.
    empty = sandbox.start_card_setup(customer_ref=ada)
    with pytest.raises(GatewayError, match="no confirmed card"):
        sandbox.finish_card_setup(customer_ref=ada, setup_ref=empty.setup_ref)

    # Ada's setup, with a card, is still not Bob's to finish.
    sandbox.enter_card(setup_ref=empty.setup_ref, number=VISA, exp_month=7, exp_year=2031)
    with pytest.raises(GatewayError, match="no confirmed card for this customer"):
        sandbox.finish_card_setup(customer_ref=bob, setup_ref=empty.setup_ref)
    assert sandbox.finish_card_setup(customer_ref=ada, setup_ref=empty.setup_ref).last4 == "4242"


def test_a_card_is_charged_for_its_own_customer_and_a_positive_amount(
    sandbox: SandboxGateway,
) -> None:
    ada, card = save_card(sandbox)
    bob = new_customer(sandbox, "acc_bob")

    with pytest.raises(GatewayError, match="no card"):
        charge(sandbox, bob, card, key="k-bob")
    with pytest.raises(GatewayError, match="positive"):
        charge(sandbox, ada, card, key="k-zero", amount_minor=0)
    assert sandbox.charges() == []  # a refused request leaves no charge behind


# --- 3. what each test card does when charged ------------------------------------------------


@pytest.mark.parametrize(
    ("number", "status", "decline_code", "hard"),
    [
        ("4242424242424242", ChargeStatus.SUCCEEDED, None, False),
        ("4000000000000002", ChargeStatus.FAILED, "card_declined", False),
        ("4000000000009995", ChargeStatus.FAILED, "insufficient_funds", False),
        ("4000000000009987", ChargeStatus.FAILED, "lost_card", True),
        ("4000000000009979", ChargeStatus.FAILED, "stolen_card", True),
        ("4000000000000069", ChargeStatus.FAILED, "expired_card", True),
        ("4000000000000119", ChargeStatus.FAILED, "processing_error", False),
        ("4000000000000341", ChargeStatus.FAILED, "card_declined", False),
    ],
)
def test_each_test_card_answers_a_charge_as_stripe_documents(
    sandbox: SandboxGateway,
    number: str,
    status: ChargeStatus,
    decline_code: str | None,
    hard: bool,
) -> None:
    assert number in TEST_CARDS
    customer, card = save_card(sandbox, number)

    outcome = charge(sandbox, customer, card, key="k-1")

    assert (outcome.status, outcome.decline_code, outcome.hard) == (status, decline_code, hard)
    assert outcome.provider_ref is not None
    assert outcome.provider_ref.startswith("sbx_pi_")
    assert outcome.client_secret is None
    assert bool(outcome.message) is (status is ChargeStatus.FAILED)  # a decline says why


def test_the_3184_card_asks_for_authentication_on_every_charge(sandbox: SandboxGateway) -> None:
    customer, card = save_card(sandbox, "4000 0027 6000 3184")

    first = charge(sandbox, customer, card, key="k-1")
    assert first.status is ChargeStatus.REQUIRES_ACTION
    assert first.provider_ref is not None
    assert first.client_secret is not None
    assert first.client_secret.startswith(f"{first.provider_ref}_secret_")
    assert (first.decline_code, first.hard) == (None, False)  # asking is not declining

    passed = sandbox.authenticate(provider_ref=first.provider_ref, success=True)
    assert passed.status is ChargeStatus.SUCCEEDED
    assert passed.client_secret is None

    second = charge(sandbox, customer, card, key="k-2")  # authenticated once: asks again
    assert second.status is ChargeStatus.REQUIRES_ACTION
    assert second.client_secret is not None
    assert second.client_secret != first.client_secret


def test_the_3155_card_asks_once_then_charges_at_once(sandbox: SandboxGateway) -> None:
    customer, card = save_card(sandbox, "4000 0025 0000 3155")

    first = charge(sandbox, customer, card, key="k-1")
    assert first.status is ChargeStatus.REQUIRES_ACTION
    assert first.provider_ref is not None
    assert first.client_secret is not None

    # The cardholder passes 3-D Secure on the provider's page.
    passed = sandbox.authenticate(provider_ref=first.provider_ref, success=True)
    assert passed.status is ChargeStatus.SUCCEEDED
    assert passed.provider_ref == first.provider_ref
    # A caller that crashed before hearing back asks again with its key: the state now.
    assert charge(sandbox, customer, card, key="k-1") == passed

    second = charge(sandbox, customer, card, key="k-2")
    assert second.status is ChargeStatus.SUCCEEDED
    assert second.provider_ref != first.provider_ref


def test_a_failed_authentication_is_a_soft_decline(sandbox: SandboxGateway) -> None:
    customer, card = save_card(sandbox, "4000 0025 0000 3155")
    waiting = charge(sandbox, customer, card, key="k-1")
    assert waiting.provider_ref is not None

    failed = sandbox.authenticate(provider_ref=waiting.provider_ref, success=False)

    assert failed.status is ChargeStatus.FAILED
    assert (failed.decline_code, failed.hard) == ("authentication_failed", False)
    assert failed.message == "The cardholder did not complete authentication."
    assert failed.client_secret is None
    # Not authenticated, so the next charge asks again.
    assert charge(sandbox, customer, card, key="k-2").status is ChargeStatus.REQUIRES_ACTION


def test_only_a_payment_waiting_for_the_cardholder_can_be_authenticated(
    sandbox: SandboxGateway,
) -> None:
    customer, card = save_card(sandbox)
    paid = charge(sandbox, customer, card, key="k-1")
    assert paid.provider_ref is not None

    with pytest.raises(GatewayError, match="not waiting for the cardholder"):
        sandbox.authenticate(provider_ref=paid.provider_ref, success=True)
    with pytest.raises(GatewayError, match="not waiting for the cardholder"):
        sandbox.authenticate(provider_ref="sbx_pi_nope", success=True)

    bob, asking = save_card(sandbox, "4000 0025 0000 3155", account_id="acc_bob")
    waiting = charge(sandbox, bob, asking, key="k-bob")
    assert waiting.provider_ref is not None
    sandbox.authenticate(provider_ref=waiting.provider_ref, success=True)
    with pytest.raises(GatewayError, match="not waiting for the cardholder"):  # not twice
        sandbox.authenticate(provider_ref=waiting.provider_ref, success=False)


# --- 4. idempotency: a key charges once ------------------------------------------------------


def test_the_same_key_charges_once_and_a_new_key_charges_again(sandbox: SandboxGateway) -> None:
    customer, card = save_card(sandbox)

    first = charge(sandbox, customer, card, key="inv-1/attempt-1")
    # The caller crashed before recording the outcome; on restart it calls again, same key.
    again = charge(sandbox, customer, card, key="inv-1/attempt-1")

    assert again == first
    assert [c["ref"] for c in sandbox.charges()] == [first.provider_ref]
    (row,) = sandbox.charges()
    assert (row["key"], row["amount"], row["currency"], row["status"]) == (
        "inv-1/attempt-1",
        2500,
        "EUR",
        "succeeded",
    )
    assert row["metadata"] == {"invoice": "INV-1"}

    second = charge(sandbox, customer, card, key="inv-1/attempt-2")
    assert second.provider_ref != first.provider_ref
    assert [c["ref"] for c in sandbox.charges()] == [first.provider_ref, second.provider_ref]


def test_the_same_key_returns_the_first_outcome_even_for_a_decline(
    sandbox: SandboxGateway,
) -> None:
    customer, card = save_card(sandbox, "4000000000009995")

    first = charge(sandbox, customer, card, key="k-1")
    again = charge(sandbox, customer, card, key="k-1")

    assert first.status is ChargeStatus.FAILED
    assert again == first
    assert len(sandbox.charges()) == 1


def test_the_same_key_for_another_amount_is_refused_as_the_provider_would(
    sandbox: SandboxGateway,
) -> None:
    customer, card = save_card(sandbox)
    charge(sandbox, customer, card, key="k-1", amount_minor=2500)

    with pytest.raises(GatewayError, match="another charge"):
        charge(sandbox, customer, card, key="k-1", amount_minor=1)
    assert len(sandbox.charges()) == 1


def test_two_sandbox_objects_on_one_file_share_the_books(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.db"
    one, other = open_sandbox(path), open_sandbox(path)  # as two processes would hold them
    customer, card = save_card(one)

    assert other.customer(account_id="acc_ada", email=None, name="Ada") == customer
    first = charge(one, customer, card, key="k-1")
    assert charge(other, customer, card, key="k-1") == first
    assert len(one.charges()) == len(other.charges()) == 1


def _charge_keys(
    path: str,
    customer: str,
    method_ref: str,
    keys: list[str],
    start: multiprocessing.synchronize.Barrier,
    results: multiprocessing.Queue[list[str | None]],
) -> None:
    """One worker process: its own sandbox object on the shared file, the same keys."""
    sandbox = open_sandbox(Path(path))
    start.wait(timeout=30)
    refs = [
        sandbox.charge(
            customer_ref=customer,
            method_ref=method_ref,
            amount_minor=1000,
            currency="EUR",
            key=key,
            description="concurrent",
            metadata={},
        ).provider_ref
        for key in keys
    ]
    results.put(refs)


def test_processes_charging_the_same_keys_at_once_charge_each_key_once(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.db"
    sandbox = open_sandbox(path)
    customer, card = save_card(sandbox)
    keys = [f"inv-{n}" for n in range(5)]
    workers = 4
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(workers)
    results: multiprocessing.Queue[list[str | None]] = context.Queue()
    processes = [
        context.Process(
            target=_charge_keys,
            args=(str(path), customer, card.method_ref, keys, start, results),
            daemon=True,
        )
        for _ in range(workers)
    ]
    for process in processes:
        process.start()
    try:
        answers = [results.get(timeout=30) for _ in processes]
    except Empty:
        pytest.fail("a worker process did not answer")
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join()
        results.close()
        results.join_thread()

    assert all(p.exitcode == 0 for p in processes)
    books = sandbox.charges()
    assert sorted(str(c["key"]) for c in books) == keys  # exactly one charge per key
    by_key = {c["key"]: c["ref"] for c in books}
    assert all(answer == [by_key[k] for k in keys] for answer in answers)  # all heard the same


# --- 5. a payment's state, asked for later ---------------------------------------------------


@pytest.mark.parametrize("number", [VISA, "4000000000009987", "4000 0027 6000 3184"])
def test_a_payment_is_told_as_its_charge_was(sandbox: SandboxGateway, number: str) -> None:
    customer, card = save_card(sandbox, number)
    outcome = charge(sandbox, customer, card, key="k-1")
    assert outcome.provider_ref is not None

    assert sandbox.payment(provider_ref=outcome.provider_ref) == outcome


def test_a_payment_tells_the_state_after_authentication(sandbox: SandboxGateway) -> None:
    customer, card = save_card(sandbox, "4000 0027 6000 3184")
    waiting = charge(sandbox, customer, card, key="k-1")
    assert waiting.provider_ref is not None

    passed = sandbox.authenticate(provider_ref=waiting.provider_ref, success=True)

    assert sandbox.payment(provider_ref=waiting.provider_ref) == passed


def test_an_unknown_payment_is_an_error(sandbox: SandboxGateway) -> None:
    with pytest.raises(GatewayError, match="no payment 'sbx_pi_nope'"):
        sandbox.payment(provider_ref="sbx_pi_nope")


# --- 6. refunds ------------------------------------------------------------------------------


def test_a_payment_is_refunded_in_parts_up_to_what_was_paid(sandbox: SandboxGateway) -> None:
    customer, card = save_card(sandbox)
    paid = charge(sandbox, customer, card, key="k-1", amount_minor=1000)
    assert paid.provider_ref is not None

    part = sandbox.refund(provider_ref=paid.provider_ref, amount_minor=600, key="r-1")
    assert (part.amount_minor, part.succeeded, part.message) == (600, True, "")
    assert part.provider_ref.startswith("sbx_re_")

    too_much = sandbox.refund(provider_ref=paid.provider_ref, amount_minor=401, key="r-2")
    assert (too_much.amount_minor, too_much.succeeded) == (401, False)
    assert too_much.message == "more than is left to refund"

    rest = sandbox.refund(provider_ref=paid.provider_ref, amount_minor=400, key="r-3")
    assert (rest.amount_minor, rest.succeeded) == (400, True)
    assert len({part.provider_ref, too_much.provider_ref, rest.provider_ref}) == 3

    nothing_left = sandbox.refund(provider_ref=paid.provider_ref, amount_minor=1, key="r-4")
    assert not nothing_left.succeeded
    (row,) = sandbox.charges()
    assert row["refunded"] == 1000


def test_the_same_refund_key_refunds_once(sandbox: SandboxGateway) -> None:
    customer, card = save_card(sandbox)
    paid = charge(sandbox, customer, card, key="k-1", amount_minor=1000)
    assert paid.provider_ref is not None

    first = sandbox.refund(provider_ref=paid.provider_ref, amount_minor=300, key="r-1")
    again = sandbox.refund(provider_ref=paid.provider_ref, amount_minor=300, key="r-1")

    assert again == first
    (row,) = sandbox.charges()
    assert row["refunded"] == 300


def test_only_a_succeeded_payment_can_be_refunded(sandbox: SandboxGateway) -> None:
    customer, card = save_card(sandbox, "4000000000000002")
    declined = charge(sandbox, customer, card, key="k-1")
    assert declined.provider_ref is not None

    with pytest.raises(GatewayError, match="nothing to refund"):
        sandbox.refund(provider_ref=declined.provider_ref, amount_minor=100, key="r-1")
    with pytest.raises(GatewayError, match="nothing to refund"):
        sandbox.refund(provider_ref="sbx_pi_nope", amount_minor=100, key="r-2")


# --- 7. webhooks -----------------------------------------------------------------------------


def test_the_sandbox_sends_no_webhooks_so_none_verifies(sandbox: SandboxGateway) -> None:
    with pytest.raises(GatewayError, match="no webhooks"):
        sandbox.verify_event(payload=b'{"id": "evt_1"}', headers={"stripe-signature": "t=1"})


# --- 8. latency ------------------------------------------------------------------------------


def test_latency_delays_a_charge_before_and_after_the_provider_commits(tmp_path: Path) -> None:
    sandbox = open_sandbox(tmp_path / "sandbox.db", latency=0.05)
    customer, card = save_card(sandbox)

    started = time.monotonic()
    charge(sandbox, customer, card, key="k-1")

    assert time.monotonic() - started >= 0.1
