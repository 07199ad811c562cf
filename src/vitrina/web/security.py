"""Browser security for the pages: the session cookie, CSRF tokens, sign-in throttling, flash messages and
response headers.

- The session cookie is HttpOnly, SameSite=Lax, and Secure whenever the page was served over https (uvicorn
  runs with proxy headers, so a TLS-terminating proxy counts).
- Every form carries a CSRF token: the session's own token once signed in; before sign-in a double-submit
  token (a cookie and the same value in the form). SameSite=Lax already stops most cross-site posts; the
  token also covers same-site attackers and older browsers.
- Failed sign-ins are counted per email and per client address with the ``limits`` library in the app's
  rate-limit storage (shared across processes when Redis is configured). Successful attempts are not counted.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from fastapi import Request, Response
from limits import RateLimitItem, RateLimitItemPerMinute, parse
from limits.strategies import SlidingWindowCounterRateLimiter

from vitrina.core.errors import RateLimited
from vitrina.web.errors import CsrfFailed, SignInThrottled

SESSION_COOKIE = "vitrina_session"
LOGIN_CSRF_COOKIE = "vitrina_login_csrf"
FLASH_COOKIE = "vitrina_flash"

FAILURES_PER_EMAIL = parse("5/15 minutes")
FAILURES_PER_ADDRESS = parse("30/15 minutes")

# Pages are self-contained: no inline scripts or styles, nothing from other origins.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self' ws: wss:; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def set_cookie(request: Request, response: Response, name: str, value: str, *, max_age: int | None = None,
               http_only: bool = True) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=http_only, samesite="lax",
                        secure=is_https(request))


def delete_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, samesite="lax", secure=is_https(request))


def page_headers(response: Response, *, cache: bool = False, referrer: str = "same-origin") -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = referrer
    if not cache:
        response.headers["Cache-Control"] = "no-store"
    return response


# --- CSRF ------------------------------------------------------------------------------------------------------

def tokens_match(expected: str | None, supplied: str | None) -> bool:
    return bool(expected) and bool(supplied) and hmac.compare_digest(str(expected), str(supplied))


def check_csrf(expected: str | None, supplied: str | None) -> None:
    if not tokens_match(expected, supplied):
        raise CsrfFailed()


def check_same_origin(request: Request) -> None:
    """Refuse a state-changing request whose Origin header names another site (browsers send it on POST)."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return
    own = f"{request.url.scheme}://{request.url.netloc}"
    if origin.rstrip("/") != own:
        raise CsrfFailed()


def new_login_csrf() -> str:
    return secrets.token_urlsafe(32)


# --- sign-in throttling ---------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SignInThrottle:
    limiter: SlidingWindowCounterRateLimiter

    @classmethod
    def of(cls, request: Request) -> SignInThrottle:
        return cls(SlidingWindowCounterRateLimiter(request.app.state.rate_limiter.storage))

    def _keys(self, email: str, address: str) -> list[tuple[RateLimitItem, str]]:
        digest = hashlib.sha256(email.encode()).hexdigest()[:32]  # no addresses of people in Redis keys
        return [(FAILURES_PER_EMAIL, f"signin:email:{digest}"), (FAILURES_PER_ADDRESS, f"signin:addr:{address}")]

    def check(self, email: str, address: str) -> None:
        """Raise SIGN_IN_THROTTLED (with Retry-After) while either counter is exhausted."""
        for item, key in self._keys(email, address):
            if not self.limiter.test(item, key):
                reset = self.limiter.get_window_stats(item, key).reset_time
                retry_after = max(int(reset - time.time()), 1)
                raise SignInThrottled(headers={"Retry-After": str(retry_after)},
                                      details={"retry_after": retry_after})

    def failed(self, email: str, address: str) -> None:
        for item, key in self._keys(email, address):
            self.limiter.hit(item, key)

    def succeeded(self, email: str, address: str) -> None:
        # The account's owner got in: earlier typos should not count against the next session.
        item, key = self._keys(email, address)[0]
        self.limiter.clear(item, key)


@dataclass(frozen=True, slots=True)
class VerifyThrottle:
    """Public tag checks per client address (``VITRINA_PUBLIC_VERIFY_RATE_PER_MINUTE``): the page needs no key,
    so this is what keeps a script from hammering tags or guessing tag ids."""

    limiter: SlidingWindowCounterRateLimiter
    item: RateLimitItem
    enabled: bool

    @classmethod
    def of(cls, request: Request) -> VerifyThrottle:
        settings = request.app.state.settings
        return cls(SlidingWindowCounterRateLimiter(request.app.state.rate_limiter.storage),
                   RateLimitItemPerMinute(max(settings.public_verify_rate_per_minute, 1)),
                   settings.rate_limits_enabled)

    def hit(self, address: str) -> None:
        key = f"verify-page:addr:{address}"
        if self.enabled and not self.limiter.hit(self.item, key):
            reset = self.limiter.get_window_stats(self.item, key).reset_time
            raise RateLimited(headers={"Retry-After": str(max(int(reset - time.time()), 1))})


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# --- flash messages -------------------------------------------------------------------------------------------

def _flash_mac(secret: str, text: str) -> str:
    key = hmac.new(secret.encode(), b"vitrina/flash/v1", hashlib.sha256).digest()
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()[:32]


def set_flash(request: Request, response: Response, kind: str, message: str) -> None:
    """A one-time message for the next page (signed, so another site cannot plant words in our pages)."""
    text = f"{kind}:{message[:300]}"
    secret = request.app.state.settings.signing_secret
    value = f"{_flash_mac(secret, text)}.{text.encode().hex()}"
    set_cookie(request, response, FLASH_COOKIE, value, max_age=60)


def read_flash(request: Request) -> tuple[str, str] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw or "." not in raw:
        return None
    mac, _, hexed = raw.partition(".")
    try:
        text = bytes.fromhex(hexed).decode()
    except ValueError:
        return None
    if not hmac.compare_digest(mac, _flash_mac(request.app.state.settings.signing_secret, text)):
        return None
    kind, _, message = text.partition(":")
    return (kind if kind in ("ok", "error") else "ok"), message
