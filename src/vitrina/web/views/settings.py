"""Settings (owners only): API keys with their secret shown once, and staff accounts. Webhooks and the metal
and stone price tables are in ``views.webhooks`` and ``views.catalog``, next to their domains."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from sqlalchemy.orm import Session

from vitrina.accounts import service as accounts
from vitrina.core.errors import ValidationFailed, VitrinaError
from vitrina.db.session import DbSession
from vitrina.web import forms, passwords
from vitrina.web import service as users
from vitrina.web.domains import optional_service
from vitrina.web.models import ROLE_SCOPES
from vitrina.web.routing import Staff, StaffAdminForm, StaffAdminPage, fresh, page_router, redirect
from vitrina.web.templating import render

router = page_router()
NAV = (("Settings", "/app/settings", "admin"),)

SCOPE_CHOICES = {"read": "Read", "write": "Read and write", "admin": "Admin (everything)"}


def _scopes_for(choice: str | None) -> list[str]:
    order = list(SCOPE_CHOICES)
    if choice not in SCOPE_CHOICES:
        return ["read"]
    return order[: order.index(choice) + 1]


def settings_links() -> list[tuple[str, str]]:
    """Links to the settings pages of installed domains (webhooks, price tables)."""
    links = []
    if optional_service("events") is not None:
        links.append(("/app/settings/webhooks", "Webhooks"))
    if optional_service("catalog") is not None:
        links.append(("/app/settings/prices", "Metal and stone prices"))
    return links


def settings_page(request: Request, session: Session, staff: Staff, *, created_key: Any = None,
                  created_user: dict[str, str] | None = None, errors: dict[str, dict[str, str]] | None = None,
                  values: dict[str, dict[str, str]] | None = None, status: int = 200) -> Response:
    return render(request, "settings/index.html", {
        "keys": accounts.list_api_keys(session, organization_id=staff.organization_id),
        "users": users.list_users(session, organization_id=staff.organization_id),
        "scope_choices": SCOPE_CHOICES, "roles": ROLE_SCOPES, "created_key": created_key,
        "created_user": created_user, "errors": errors or {}, "values": values or {},
        "settings_links": settings_links(),
    }, status=status)


@router.get("/app/settings")
def settings_index(request: Request, session: DbSession, staff: StaffAdminPage) -> Response:
    return settings_page(request, session, staff)


async def _values(request: Request) -> dict[str, str]:
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str) and k != "csrf_token"}


@router.post("/app/settings/api-keys")
async def create_api_key(request: Request, session: DbSession, staff: StaffAdminForm) -> Response:
    values = await _values(request)
    try:
        name = forms.text(values.get("name"))
        if name is None or len(name) > 200:
            raise ValidationFailed.field("$.name", "is required (at most 200 characters)")
        issued = accounts.create_api_key(session, organization_id=staff.organization_id, name=name,
                                         scopes=_scopes_for(values.get("scope")),
                                         mode="test" if values.get("mode") == "test" else "live")
    except VitrinaError as exc:
        fresh(session)
        return settings_page(request, session, staff, errors={"key": forms.field_errors(exc)},
                             values={"key": values}, status=exc.status)
    # Rendered, not redirected: the secret must not travel in a cookie or a URL, and it is shown only now.
    return settings_page(request, session, staff, created_key=issued)


@router.post("/app/settings/api-keys/{key_id}/revoke")
async def revoke_api_key(request: Request, session: DbSession, staff: StaffAdminForm, key_id: str) -> Response:
    key = accounts.revoke_api_key(session, organization_id=staff.organization_id, key_id=key_id)
    return redirect(request, "/app/settings#api-keys", flash=f"The key “{key.name}” is revoked.")


@router.post("/app/settings/users")
async def create_user(request: Request, session: DbSession, staff: StaffAdminForm) -> Response:
    values = await _values(request)
    password = passwords.generate_password()
    try:
        user = users.create_user(session, organization_id=staff.organization_id, email=values.get("email", ""),
                                 password=password, role=values.get("role", ""), name=forms.text(values.get("name")))
    except VitrinaError as exc:
        fresh(session)
        return settings_page(request, session, staff, errors={"user": forms.field_errors(exc)},
                             values={"user": values}, status=exc.status)
    return settings_page(request, session, staff,
                         created_user={"email": user.email, "role": user.role, "password": password})
