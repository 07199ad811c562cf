"""WJ Partners compatibility (``/partners/1.0``): an existing WJ client works by changing its base URL.

Translation only: every route calls the same service functions as ``/api/v1``, so business rules, events and
tenancy are the same; this module maps WJ's shapes, codes and base64 envelope onto them.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError

from vitrina.accounts import service as accounts
from vitrina.core import tokens
from vitrina.core.auth import Principal, authenticate, key_for_token
from vitrina.core.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    RateLimited,
    Unauthorized,
    ValidationFailed,
    VitrinaError,
)
from vitrina.core.routing import UnitOfWorkRoute
from vitrina.db.session import DbSession
from vitrina.partners.codec import WJError, decode_request, encode, encode_error

MOUNT_PREFIX = ""
PREFIX = "/partners/1.0"


class PartnersRoute(UnitOfWorkRoute):
    """The unit of work of every route, plus WJ's error envelope instead of Vitrina's."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                return await handler(request)
            except WJError as error:
                return encode_error(error)
            except VitrinaError as error:
                return encode_error(translate(error))
            except RequestValidationError:
                return encode_error(WJError(1))

        return run


def translate(error: VitrinaError) -> WJError:
    """Vitrina's error codes onto WJ's table."""
    by_code = {"PRODUCT_NOT_FOUND": 72, "CONFIGURATION_NOT_FOUND": 73, "ORDER_NOT_FOUND": 76,
               "CUSTOMER_NOT_FOUND": 78, "INVALID_TRANSITION": 4}
    if error.code in by_code:
        return WJError(by_code[error.code], data=error.details)
    if isinstance(error, ValidationFailed):
        return WJError(90, data=error.details)
    if isinstance(error, RateLimited):
        return WJError(40, http_status=429, message=error.message)
    if isinstance(error, Unauthorized):
        return WJError(2)
    if isinstance(error, ForbiddenError):
        return WJError(6)
    if isinstance(error, NotFoundError):
        return WJError(81, message=error.message)
    if isinstance(error, ConflictError):
        return WJError(4, data=error.details, message=error.message)
    return WJError(1, message=error.message)


def _authkey(request: Request, session: Any) -> Any:
    token = request.headers.get("authkey", "").strip()
    if not token:
        raise WJError(3, http_status=401)
    try:
        return key_for_token(request, session, token)
    except Unauthorized:
        raise WJError(2) from None


def partner(request: Request, session: DbSession) -> Principal:
    """The caller, from the ``authkey`` header (a normal Vitrina token), with the API's scoping and limits."""
    return authenticate(request, session, find_key=_authkey)


async def _data(request: Request) -> dict[str, Any]:
    # async so the body is read on the event loop; the (sync) route then runs in the thread pool.
    return decode_request(await request.body())


RequestData = Annotated[dict[str, Any], Depends(_data)]


def partner_writer(principal: Principal = Depends(partner)) -> Principal:
    if not principal.can("write"):
        raise WJError(6)
    return principal


router = APIRouter(prefix=PREFIX, tags=["WJ Partners compatibility"], route_class=PartnersRoute)

RESPONSE_DOC: dict[int | str, dict[str, Any]] = {
    200: {"description": "Base64 of {status, error_code, error_message, data}",
          "content": {"text/plain": {"schema": {"type": "string", "format": "base64"}}}},
}


@router.post("/user/login", summary="WJ login: api_key + secret_key → authkey", responses=RESPONSE_DOC)
def login(data: RequestData, request: Request, session: DbSession) -> Response:
    api_key, secret = data.get("api_key"), data.get("secret_key")
    if not api_key or not secret:
        raise WJError(93)
    settings = request.app.state.settings
    try:
        key = accounts.authenticate_secret(session, api_key=str(api_key), api_secret=str(secret))
    except Unauthorized:
        raise WJError(2) from None
    token = tokens.issue(settings.signing_secret, key_id=key.id, organization_id=key.organization_id,
                         ttl_seconds=settings.token_ttl_seconds)
    return encode({"authkey": token})
