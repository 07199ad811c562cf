"""Sign-in and sign-out."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request, Response

from vitrina.core.errors import VitrinaError
from vitrina.db.session import DbSession
from vitrina.web import security, service
from vitrina.web.errors import InvalidSignIn
from vitrina.web.routing import fresh, page_router, redirect
from vitrina.web.templating import render

router = page_router()
HOME = "/app"


def safe_next(target: str | None) -> str:
    """Only a path inside the back office: ``next`` must never send someone to another site."""
    if target and target.startswith("/app") and not target.startswith("//") and "\\" not in target:
        return target
    return HOME


def _login_page(request: Request, *, next_url: str, email: str = "", error: str | None = None,
                status: int = 200) -> Response:
    token = security.new_login_csrf()
    response = render(request, "login.html", {"csrf_token": token, "next_url": next_url, "email": email,
                                              "error": error}, status=status)
    security.set_cookie(request, response, security.LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


@router.get("/login")
def login_form(request: Request, session: DbSession, next: str | None = None) -> Response:
    token = request.cookies.get(security.SESSION_COOKIE, "")
    if token and service.session_for_token(session, token=token) is not None:
        return redirect(request, safe_next(next))
    return _login_page(request, next_url=safe_next(next))


@router.post("/login")
def login(request: Request, session: DbSession, email: Annotated[str, Form(max_length=254)] = "",
          password: Annotated[str, Form(max_length=1024)] = "", csrf_token: Annotated[str, Form()] = "",
          next: Annotated[str, Form(max_length=2000)] = HOME) -> Response:
    next_url = safe_next(next)
    email = service.normalize_email(email)
    address = security.client_address(request)
    throttle = security.SignInThrottle.of(request)
    try:
        security.check_same_origin(request)
        security.check_csrf(request.cookies.get(security.LOGIN_CSRF_COOKIE), csrf_token)
        throttle.check(email, address)
        try:
            user = service.authenticate(session, email=email, password=password)
        except InvalidSignIn:
            throttle.failed(email, address)
            raise
    except VitrinaError as exc:
        fresh(session)
        response = _login_page(request, next_url=next_url, email=email, error=exc.message, status=exc.status)
        response.headers.update(exc.headers)
        return response
    throttle.succeeded(email, address)
    old = request.cookies.get(security.SESSION_COOKIE)
    if old:  # a new session on every sign-in: a planted cookie can never become a signed-in one
        service.close_session(session, token=old)
    service.prune_sessions(session)  # expired rows go on sign-ins: no cron job needed
    opened = service.open_session(session, user=user, user_agent=request.headers.get("user-agent"),
                                  address=address)
    response = redirect(request, next_url)
    security.set_cookie(request, response, security.SESSION_COOKIE, opened.token,
                        max_age=int(service.SESSION_LIFETIME.total_seconds()))
    security.delete_cookie(request, response, security.LOGIN_CSRF_COOKIE)
    return response


@router.get("/logout")
def logout_form(request: Request, session: DbSession) -> Response:
    token = request.cookies.get(security.SESSION_COOKIE, "")
    record = service.session_for_token(session, token=token) if token else None
    if record is None:
        return redirect(request, "/login")
    return render(request, "logout.html", {"csrf_token": record.csrf_token})


@router.post("/logout")
def logout(request: Request, session: DbSession, csrf_token: Annotated[str, Form()] = "") -> Response:
    token = request.cookies.get(security.SESSION_COOKIE, "")
    record = service.session_for_token(session, token=token) if token else None
    if record is not None:
        security.check_same_origin(request)
        security.check_csrf(record.csrf_token, csrf_token)
        service.close_session(session, token=token)
    response = redirect(request, "/login", flash="You are signed out.")
    security.delete_cookie(request, response, security.SESSION_COOKIE)
    return response
