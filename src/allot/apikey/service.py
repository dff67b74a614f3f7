"""API key use cases: create (shown once), revoke, authenticate; Idempotency-Key records.

Roles (default deny):
  operator — everything;
  partner  — its own codes and the usage drawn from them (Access Codes arrive later);
  account  — its own account only.
A key that may not see an object gets the same 404 as a missing object, so
keys learn nothing about other tenants.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from allot.apikey import repository as repo
from allot.apikey.models import Role
from allot.apikey.repository import KeyRow
from allot.core.errors import (
    Forbidden,
    IdempotencyMismatch,
    InvalidInput,
    NotFound,
    Unauthenticated,
)
from allot.kit import validate
from allot.kit.clock import Clock
from allot.kit.security import hash_key, new_api_key

ROLES = tuple(Role)


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: int
    role: str
    subject: str | None

    @property
    def scope(self) -> str:
        """Whose Idempotency-Keys these are: a tenant's keys share one space."""
        return f"{self.role}:{self.subject or self.key_id}"

    def may_see_account(self, account_id: str) -> bool:
        return self.role == "operator" or (self.role == "account" and self.subject == account_id)

    def require_account(self, account_id: str) -> None:
        """404 for an account this key may not see — the same answer as a missing one."""
        if not self.may_see_account(account_id):
            raise NotFound("account_not_found", f"no account {account_id!r}", field="account_id")

    def require_partner(self, partner_id: str) -> None:
        """404 for a partner this key may not see — the same answer as a missing one."""
        if not (self.role == "operator" or (self.role == "partner" and self.subject == partner_id)):
            raise NotFound("partner_not_found", f"no partner {partner_id!r}", field="partner_id")

    def require_operator(self) -> None:
        if self.role != "operator":
            raise Forbidden("operator_only", "only an operator key may do this")


def check_subject(role: str, subject: str | None) -> None:
    """The role is known and names whom it acts for as it must (refusals name `role`/`for`)."""
    if role not in ROLES:
        raise InvalidInput("invalid_role", f"role must be one of {', '.join(ROLES)}", field="role")
    if role == "operator":
        if subject is not None:
            raise InvalidInput(
                "subject_not_allowed", "an operator key acts for nobody", field="for"
            )
    elif subject is None:
        raise InvalidInput("subject_required", f"a {role} key needs --for ID", field="for")
    else:
        validate.identifier(subject, field="for")


def create_key(
    conn: Connection, clock: Clock, *, role: str, subject: str | None, label: str = ""
) -> tuple[KeyRow, str]:
    """Create a key; the secret is returned here and never again.

    That its account or partner exists is checked by `allot.billing.keys.issue_key`.
    """
    check_subject(role, subject)
    secret = new_api_key(role)
    key_id = repo.insert(
        conn,
        key_hash=hash_key(secret),
        prefix=secret[:12],
        role=role,
        subject=subject,
        label=validate.text(label, field="label") if label else f"{role} key",
        at=clock.now(),
    )
    row = repo.get(conn, key_id)
    assert row is not None
    return row, secret


def list_keys(conn: Connection) -> list[KeyRow]:
    return repo.list_all(conn)


def get_key(conn: Connection, key_id: int) -> KeyRow:
    row = repo.get(conn, key_id)
    if row is None:
        raise NotFound("key_not_found", f"no API key {key_id}", field="key_id")
    return row


def revoke_key(conn: Connection, clock: Clock, *, key_id: int) -> KeyRow:
    row = get_key(conn, key_id)
    if row.revoked_at is None:
        repo.revoke(conn, key_id, clock.now())
    revoked = repo.get(conn, key_id)
    assert revoked is not None
    return revoked


def authenticate(conn: Connection, secret: str | None) -> Principal:
    if not secret:
        raise Unauthenticated("missing_api_key", "send 'Authorization: Bearer <API key>'")
    found = repo.live_by_hash(conn, hash_key(secret))
    if found is None:
        raise Unauthenticated("invalid_api_key", "this API key is unknown or revoked")
    return Principal(*found)


def claim_request(
    conn: Connection, clock: Clock, principal: Principal, key: str, request_hash: str
) -> tuple[int, Any] | None:
    """Claim an Idempotency-Key for this transaction, or return the response it already has.

    None: the key is ours; do the work and `complete_request`. A (status, body)
    pair: an earlier request with this key and body answered that.
    """
    key = validate.idempotency_key(key)
    if repo.claim_request(
        conn, scope=principal.scope, key=key, request_hash=request_hash, at=clock.now()
    ):
        return None
    found = repo.find_request(conn, principal.scope, key)
    assert found is not None  # it was there when the claim failed, and records are kept
    stored_hash, status, response = found
    if stored_hash != request_hash:
        raise IdempotencyMismatch(key)
    return status, response


def complete_request(
    conn: Connection, principal: Principal, key: str, status: int, response: Any
) -> None:
    """Keep the response with its key, in the transaction that made the effect."""
    repo.complete_request(conn, scope=principal.scope, key=key, status=status, response=response)
