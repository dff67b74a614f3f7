"""`allot users …`: the admin's and the partner portal's users (W3)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape

from allot.cli.context import clock, console, domain_errors, open_database

users_app = typer.Typer(
    help="Users of the admin (operator-admin, operator-support) and the partner portal.",
    no_args_is_help=True,
)

PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input.")
]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@users_app.command("create")
@domain_errors
def users_create(
    name: str,
    role: Annotated[str, typer.Option(help="operator-admin, operator-support or partner.")],
    partner: Annotated[
        str | None, typer.Option(help="The partner a partner user acts for.")
    ] = None,
    email: Annotated[
        str | None, typer.Option(help="Where sign-in links go (partner users).")
    ] = None,
    locale: Annotated[str, typer.Option(help="en, ko, th, hi or uk.")] = "en",
    no_password: Annotated[
        bool, typer.Option("--no-password", help="A partner user signing in by e-mail link only.")
    ] = False,
    password_stdin: PasswordStdin = False,
) -> None:
    """A user: prompts for the password (twice) unless --password-stdin or --no-password."""
    from allot.user.service import create_user

    password = None if no_password else _password(password_stdin)
    with open_database() as db, db.transaction() as conn:
        row = create_user(
            conn, clock(), user_id=name, role=role, partner_id=partner, email=email,
            password=password, locale=locale,
        )  # fmt: skip
    console.print(
        f"user {escape(row.id)} ({row.role}{' of ' + row.partner_id if row.partner_id else ''})"
    )


@users_app.command("list")
@domain_errors
def users_list() -> None:
    from allot.user.service import list_users

    with open_database() as db, db.read() as conn:
        rows = list_users(conn)
    for r in rows:
        state = "disabled" if r.disabled_at else ("locked" if r.locked_until else "active")
        totp = "totp" if r.totp_secret else "-"
        console.print(
            f"{escape(r.id):<20} {r.role:<17} {escape(r.partner_id or '-'):<16} "
            f"{escape(r.email or '-'):<28} {totp:<5} {state}"
        )
    if not rows:
        console.print("no users yet: allot users create NAME --role operator-admin")


@users_app.command("password")
@domain_errors
def users_password(name: str, password_stdin: PasswordStdin = False) -> None:
    """A new password; the user's open sessions end."""
    from allot.user.service import set_password

    password = _password(password_stdin)
    with open_database() as db, db.transaction() as conn:
        set_password(conn, clock(), user_id=name, password=password)
    console.print(f"password of {escape(name)} changed; its sessions ended")


@users_app.command("totp")
@domain_errors
def users_totp(
    name: str, off: Annotated[bool, typer.Option("--off", help="Switch TOTP off.")] = False
) -> None:
    """Switch TOTP on (prints the secret and its otpauth:// URI once) or off."""
    from allot.user.service import disable_totp, enable_totp

    with open_database() as db, db.transaction() as conn:
        if off:
            disable_totp(conn, clock(), user_id=name)
        else:
            _, secret, uri = enable_totp(conn, clock(), user_id=name)
    if off:
        console.print(f"TOTP off for {escape(name)}")
        return
    console.print(f"TOTP on for {escape(name)}: add this to the authenticator app (shown once)")
    console.print(secret, soft_wrap=True)
    console.print(uri, soft_wrap=True)


@users_app.command("disable")
@domain_errors
def users_disable(name: str) -> None:
    """The user signs in no more; its sessions end now."""
    from allot.user.service import disable_user

    with open_database() as db, db.transaction() as conn:
        disable_user(conn, clock(), user_id=name)
    console.print(f"user {escape(name)} disabled")


@users_app.command("unlock")
@domain_errors
def users_unlock(name: str) -> None:
    """Lift a lockout after repeated failures."""
    from allot.user.service import unlock_user

    with open_database() as db, db.transaction() as conn:
        unlock_user(conn, clock(), user_id=name)
    console.print(f"user {escape(name)} unlocked")
