"""Demo data for ``vitrina seed-demo`` / ``make run``: the demo store's owner, who can sign in at /login."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from vitrina.web import passwords, service
from vitrina.web.models import OWNER

DEMO_EMAIL = "owner@maison-demo.example"


def seed(session: Session, *, organization_id: str, console: Any = None) -> dict[str, Any]:
    """Create the demo owner. The password is generated (never a well-known default) and returned once."""
    email = DEMO_EMAIL
    if service.email_taken(session, email=email):  # a second demo store on the same database
        local, _, domain = DEMO_EMAIL.partition("@")
        email = f"{local}+{organization_id.removeprefix('org_')[-8:].lower()}@{domain}"
    password = passwords.generate_password()
    service.create_user(session, organization_id=organization_id, email=email, password=password, role=OWNER,
                        name="Demo Owner")
    if console is not None:
        console.print(f"web: demo owner {email} can sign in at /login")
    return {"demo_sign_in_email": email, "demo_sign_in_password": password}
