"""How a page request runs: the API's unit of work, plus what a browser needs instead of JSON.

``PageRoute`` is the API's ``UnitOfWorkRoute`` (one transaction per request, committed on success, rolled
back on any error or any 4xx/5xx response, audit trail of successful writes) whose errors become pages: no
session sends the browser to the sign-in form; a domain error becomes an HTML error page with its status.
The ``Staff*`` dependencies resolve the session cookie into the same ``Principal`` an API key would give, so
service calls, events and the audit trail name the person who acted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from vitrina.core.auth import Principal
from vitrina.core.errors import InternalError, VitrinaError
from vitrina.core.handlers import validation_error
from vitrina.core.routing import UnitOfWorkRoute
from vitrina.db.session import ORG_KEY, DbSession
from vitrina.web import security, service
from vitrina.web.errors import RoleForbidden, SignInRequired
from vitrina.web.templating import render

log = logging.getLogger("vitrina.web")
Handler = Callable[[Request], Coroutine[Any, Any, Response]]


@dataclass(frozen=True, slots=True)
class Staff:
    """The signed-in person, as templates and handlers see them."""

    user_id: str
    email: str
    name: str | None
    role: str
    organization_id: str
    organization_name: str
    currency: str
    csrf_token: str
    principal: Principal

    def can(self, scope: str) -> bool:
        return self.principal.can(scope)

    @property
    def actor(self) -> str:
        return self.principal.actor


class PageRoute(UnitOfWorkRoute):
    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                return sign_in_redirect(request)
            except RequestValidationError as exc:
                return error_page(request, validation_error(exc))
            except VitrinaError as exc:
                return error_page(request, exc)
            except Exception:  # a bug: logged with its traceback, shown as a page rather than as JSON
                log.exception("page failed", extra={"path": request.url.path})
                return error_page(request, InternalError())

        return page


def page_router() -> APIRouter:
    return APIRouter(route_class=PageRoute, include_in_schema=False)


def sign_in_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = "/login" if request.method != "GET" else f"/login?next={quote(target, safe='')}"
    return RedirectResponse(location, status_code=303)


def error_page(request: Request, error: VitrinaError) -> Response:
    errors = error.details.get("errors", []) if isinstance(error.details, dict) else []
    response = render(request, "error.html", {"error": error, "errors": errors}, status=error.status)
    for name, value in error.headers.items():
        response.headers[name] = value
    return response


def redirect(request: Request, location: str, *, flash: str | None = None, kind: str = "ok") -> Response:
    """Post/redirect/get: after a change, the browser loads the result with a GET (so reload does not repeat)."""
    response = RedirectResponse(location, status_code=303)
    if flash:
        security.set_flash(request, response, kind, flash)
    return response


def current_staff(request: Request, session: DbSession) -> Staff:
    token = request.cookies.get(security.SESSION_COOKIE, "")
    record = service.session_for_token(session, token=token)
    if record is None:
        raise SignInRequired()
    user = record.user
    principal = service.principal_for(user)
    staff = Staff(user_id=user.id, email=user.email, name=user.name, role=user.role,
                  organization_id=user.organization_id, organization_name=user.organization.name,
                  currency=user.organization.default_currency, csrf_token=record.csrf_token, principal=principal)
    # What core.auth does for an API key: identify the actor for the audit trail and scope the session.
    request.state.principal = principal
    request.state.staff = staff
    session.info[ORG_KEY] = user.organization_id
    return staff


def _requiring(scope: str, *, form: bool) -> Callable[..., Coroutine[Any, Any, Staff]]:
    async def dependency(request: Request, staff: Annotated[Staff, Depends(current_staff)]) -> Staff:
        if form:
            security.check_same_origin(request)
            submitted = (await request.form()).get("csrf_token")
            security.check_csrf(staff.csrf_token, submitted if isinstance(submitted, str) else None)
        if not staff.can(scope):
            raise RoleForbidden(f"Your role ({staff.role}) cannot do this; it needs the '{scope}' scope.")
        return staff

    dependency.__name__ = f"staff_{scope}{'_form' if form else ''}"
    return dependency


# Pages that show data need "read"; forms need their scope and a valid CSRF token.
StaffReader = Annotated[Staff, Depends(_requiring("read", form=False))]
StaffAdminPage = Annotated[Staff, Depends(_requiring("admin", form=False))]
StaffReadForm = Annotated[Staff, Depends(_requiring("read", form=True))]
StaffWriteForm = Annotated[Staff, Depends(_requiring("write", form=True))]
StaffAdminForm = Annotated[Staff, Depends(_requiring("admin", form=True))]


def fresh(session: Session) -> None:
    """Discard a failed service call's partial work before re-rendering its form (the page must show what is
    committed, and nothing of a half-done change may be committed)."""
    session.rollback()

