"""``vitrina users ...``: staff accounts for the web back office."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

users_app = typer.Typer(help="Staff accounts of the web back office.", no_args_is_help=True)
console = Console(stderr=True)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")


@users_app.command("create")
def create(
    organization_id: Annotated[str, typer.Option("--org", help="Organization id.")],
    email: Annotated[str, typer.Option(help="Sign-in email (unique).")],
    role: Annotated[str, typer.Option(help="owner (admin), manager (write) or clerk (read).")] = "clerk",
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    password: Annotated[str | None, typer.Option(
        help="At least 10 characters; generated and printed once when left out.",
        envvar="VITRINA_NEW_USER_PASSWORD")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a staff user who signs in at /login."""
    from vitrina.cli import database, emit_json, fail
    from vitrina.core.errors import VitrinaError
    from vitrina.web import passwords, service

    generated = password is None
    secret = password or passwords.generate_password()
    try:
        with database().unit_of_work() as session:
            user = service.create_user(session, organization_id=organization_id, email=email, password=secret,
                                       role=role, name=name)
            result = {"user_id": user.id, "organization_id": user.organization_id, "email": user.email,
                      "role": user.role, "scopes": list(user.scopes)}
    except VitrinaError as exc:
        errors = exc.details.get("errors") if isinstance(exc.details, dict) else None
        detail = "; ".join(f"{e['path'].removeprefix('$.')} {e['message']}" for e in errors or [])
        raise fail(detail or exc.message) from None
    if generated:
        result["password"] = secret
    if as_json:
        emit_json(result)
        return
    console.print(f"user [bold]{result['user_id']}[/bold] {result['email']} ({role})")
    if generated:
        console.print(f"password  {secret}  (shown once)")


@users_app.command("list")
def list_users(organization_id: Annotated[str, typer.Option("--org", help="Organization id.")],
               as_json: JsonFlag = False) -> None:
    """List an organization's staff users."""
    from vitrina.cli import database, emit_json
    from vitrina.web import service

    with database().unit_of_work(write=False) as session:
        rows = [{"user_id": u.id, "email": u.email, "name": u.name, "role": u.role,
                 "disabled": u.disabled_at is not None, "last_sign_in_at": u.last_sign_in_at}
                for u in service.list_users(session, organization_id=organization_id)]
    if as_json:
        emit_json({"users": rows})
        return
    table = Table("user_id", "email", "name", "role", "last sign-in")
    for row in rows:
        table.add_row(*(str(row[name] or "") for name in ("user_id", "email", "name", "role", "last_sign_in_at")))
    Console().print(table)


@users_app.command("set-password")
def set_password(
    user_id: str,
    organization_id: Annotated[str, typer.Option("--org", help="Organization id.")],
    password: Annotated[str | None, typer.Option(help="Generated and printed once when left out.",
                                                 envvar="VITRINA_NEW_USER_PASSWORD")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Replace a user's password (signs them out everywhere)."""
    from vitrina.cli import database, emit_json, fail
    from vitrina.core.errors import VitrinaError
    from vitrina.web import passwords, service

    secret = password or passwords.generate_password()
    try:
        with database().unit_of_work() as session:
            user = service.set_password(session, organization_id=organization_id, user_id=user_id, password=secret)
            result: dict[str, object] = {"user_id": user.id, "email": user.email}
    except VitrinaError as exc:
        raise fail(exc.message) from None
    if password is None:
        result["password"] = secret
    if as_json:
        emit_json(result)
    else:
        console.print(f"password changed for {result['email']}" + (f": {secret} (shown once)" if password is None
                                                                    else ""))
